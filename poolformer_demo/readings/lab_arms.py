"""The lab's arms without a part of the block (the channel MLP, the residual connections) in words,
and where the arms' Grad-CAMs point, each sentence chosen by the numbers, seed by seed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..i18n import Messages, english
from ..shapes.arms import ARMS
from ..shapes.lab import LabResult
from ..shapes.lab_results import ArmSummary
from ..shapes.tasks import TASKS
from ..variants import get_variant
from .seeds import Paired, arm_words, by_arm, paired
from .sentences import Reading, pct

PAPER_BLOCKS = sum(get_variant("s12").depths)


def chance(task: str) -> float:
    """Accuracy of a guess: one over the task's classes."""
    return TASKS[task].chance


def per_seed(summary: ArmSummary) -> tuple[float, ...]:
    """Each seed's accuracy, in seed order."""
    return tuple(s.accuracy for s in sorted(summary.per_seed, key=lambda s: s.seed))


def per_seed_text(accuracies: Sequence[float], t: Messages | None = None) -> str:
    """ "38.0, 44.3 and 92.7 %": each seed's accuracy, as language ``t`` lists them."""
    t = t or english()
    return t.text("reading.lab_arms.per_seed", values=t.listed([f"{100 * a:.1f}" for a in accuracies]))


@dataclass(frozen=True)
class WithoutMlp(Reading):
    kind: str
    """"carries" (lower than pooling on most seeds and the lowest arm), "lower" or "not_lower"."""
    accuracy: float
    pooling: float
    chance: float
    paper: float

    KEY = "reading.lab_arms.without_mlp"
    TEMPLATES = {"carries": ("carries",), "lower": ("lower",), "not_lower": ("not_lower",)}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {
            **super().values(t),
            "accuracy_pct": pct(self.accuracy),
            "pooling_pct": pct(self.pooling),
            "chance_pct": pct(self.chance),
        }


def without_mlp(summaries: Sequence[ArmSummary], level: float) -> tuple[WithoutMlp, Paired] | None:
    by = by_arm(summaries)
    mlp, pool = by.get("no_mlp"), by.get("pooling")
    if mlp is None or pool is None:
        return None
    comparison = paired(mlp, pool)
    lowest = all(mlp.accuracy_mean < s.accuracy_mean for s in summaries if s is not mlp)
    kind = ("carries" if lowest else "lower") if comparison.direction == "lower" else "not_lower"
    return WithoutMlp(kind, mlp.accuracy_mean, pool.accuracy_mean, level, ARMS["no_mlp"].paper.top1), comparison


@dataclass(frozen=True)
class WithoutResiduals(Reading):
    kind: str
    """"falls" (lower than pooling on most seeds), "below_best" (lower than the best arm with
    residuals on most seeds, not than pooling) or "trains"."""
    accuracy: float
    per_seed: tuple[float, ...]
    """Each seed's accuracy, in seed order."""
    chance: float
    best: str
    """The arm with residuals that scored best."""
    paper: float
    blocks: int
    paper_blocks: int = PAPER_BLOCKS

    KEY = "reading.lab_arms.without_residuals"
    TEMPLATES = {"falls": ("falls",), "below_best": ("below_best",), "trains": ("trains",)}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {
            **super().values(t),
            "accuracy_pct": pct(self.accuracy),
            "chance_pct": pct(self.chance),
            "per_seed": per_seed_text(self.per_seed, t),
            "best": arm_words(self.best, t),
        }


def without_residuals(
    summaries: Sequence[ArmSummary], level: float, blocks: int
) -> tuple[WithoutResiduals, tuple[Paired, ...]] | None:
    by = by_arm(summaries)
    plain, pool = by.get("no_residual"), by.get("pooling")
    if plain is None or pool is None:
        return None
    with_residuals = [s for s in summaries if s.arm not in ("no_residual", "no_mlp")]
    best = max(with_residuals, key=lambda s: s.accuracy_mean, default=pool)
    against_pool, against_best = paired(plain, pool), paired(plain, best)
    if against_pool.direction == "lower":
        kind, said = "falls", (against_pool,)
    elif against_best.direction == "lower":
        kind, said = "below_best", (against_best, against_pool)
    else:
        kind, said = "trains", (against_best,)
    reading = WithoutResiduals(
        kind,
        plain.accuracy_mean,
        per_seed(plain),
        level,
        best.arm,
        ARMS["no_residual"].paper.top1,
        blocks,
    )
    return reading, said


@dataclass(frozen=True)
class Pointing(Reading):
    """The best arm's pointing game against the stronger of two maps that know nothing."""

    kind: str
    """"below_centre", "above_centre" (the bar is a map peaking at the image centre), "below_random"
    or "above_random" (the bar is a map peaking at a random pixel)."""
    task: str
    """What the pointing game asks Grad-CAM to point at depends on it (catalog ``pointing.target.<task>``)."""
    best: str
    """The arm that points best."""
    best_mean: float
    best_run: float
    centre: float
    random: float

    KEY = "reading.lab_arms.pointing"
    TEMPLATES = {k: (k,) for k in ("below_centre", "above_centre", "below_random", "above_random")}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        t = t or english()
        target = f"pointing.target.{self.task}"
        return {
            **super().values(t),
            "target": t.text(target) if target in english() else t.text("pointing.target.shapes"),
            "best": arm_words(self.best, t),
            "best_pct": pct(self.best_mean),
            "best_run_pct": pct(self.best_run),
            "centre_pct": pct(self.centre),
            "random_pct": pct(self.random),
        }


def pointing(result: LabResult, summaries: Sequence[ArmSummary]) -> Pointing | None:
    if not summaries:
        return None
    best = max(summaries, key=lambda s: s.pointing_mean)
    best_run = max((r.pointing_game for r in result.runs_of(best.arm)), default=best.pointing_mean)
    # The stronger of the two maps that know nothing is the bar: the centre on the shapes task
    # (objects are central), a random pixel on the pairs task (discs lie near the edges).
    bar = "random" if result.chance_pointing > result.centre_baseline else "centre"
    baseline = result.chance_pointing if bar == "random" else result.centre_baseline
    kind = f"{'below' if best.pointing_mean < baseline else 'above'}_{bar}"
    if best.pointing_mean < result.chance_pointing:
        kind = "below_random"
    return Pointing(
        kind,
        result.task,
        best.arm,
        best.pointing_mean,
        best_run,
        result.centre_baseline,
        result.chance_pointing,
    )
