"""The ablation lab's results in words, sentence by sentence, each chosen by the numbers, so the
reading stays true when the reference results are made again.

Arms are compared seed by seed (:mod:`.seeds`); every accuracy stands beside chance; an arm that
did not learn is said to have not learned "within N steps"; where an arm was still learning when
its budget ended, the reading says the comparison is of speed within the budget, not of capacity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..i18n import Messages, english
from ..shapes.arms import ARMS
from ..shapes.lab import LabResult
from ..shapes.lab_results import ArmSummary
from .lab_arms import chance, pointing, without_mlp, without_residuals
from .seeds import Paired, arm_words, by_arm, paired, still_rising, stuck_seeds
from .sentences import Reading, pct

# The tasks the sentences name (catalog ``task.<name>``).
TASKS_NAMED = ("shapes", "pairs")
# The lab's token mixers; pooling is the one the others are compared with.
MIXER_ARMS = ("pooling", "identity", "random", "conv")


@dataclass(frozen=True)
class MixersLead(Reading):
    """Pooling against the other token mixers, seed by seed."""

    kind: str
    pooling: float
    steps: int
    ahead: tuple[str, ...]
    behind: tuple[str, ...]
    mixed: tuple[str, ...]

    KEY = "reading.lab.mixers_lead"
    TEMPLATES = {k: (k,) for k in ("free_ahead", "only_conv", "not_clearly", "shares_lead", "wins", "tie")}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        t = t or english()
        return {
            **super().values(t),
            "pooling_pct": pct(self.pooling),
            "ahead_names": t.listed([arm_words(a, t) for a in self.ahead]),
            "behind_names": t.listed([arm_words(a, t) for a in self.behind]),
            "mixed_names": t.listed([arm_words(a, t) for a in self.mixed]),
        }


def mixer_comparisons(summaries: Sequence[ArmSummary]) -> tuple[Paired, ...]:
    """Each other token mixer against pooling."""
    by = by_arm(summaries)
    pool = by.get("pooling")
    return () if pool is None else tuple(paired(by[a], pool) for a in MIXER_ARMS[1:] if a in by)


def mixers_lead(summaries: Sequence[ArmSummary], steps: int) -> MixersLead | None:
    by = by_arm(summaries)
    comparisons = [c for c in mixer_comparisons(summaries) if c.direction != "unpaired"]
    if "pooling" not in by or not comparisons:
        return None
    ahead = tuple(c.arm for c in comparisons if c.direction == "higher")
    behind = tuple(c.arm for c in comparisons if c.direction == "lower")
    mixed = tuple(c.arm for c in comparisons if c.direction == "mixed")
    alike = tuple(c.arm for c in comparisons if c.direction == "alike")
    # The paper compares pooling with the mixers without weights; a learned depthwise convolution is
    # ahead of pooling there too (78.1 against 77.2 %).
    if any(a != "conv" for a in ahead):
        kind = "free_ahead"
    elif ahead:
        kind = "only_conv"
    elif mixed:
        kind = "not_clearly"
    elif behind and alike:
        kind = "shares_lead"
    elif behind:
        kind = "wins"
    else:
        kind = "tie"
    return MixersLead(kind, by["pooling"].accuracy_mean, steps, ahead, behind, mixed)


@dataclass(frozen=True)
class AgainstPaper(Reading):
    """Identity against pooling on one task, beside what the paper measured on ImageNet."""

    kind: str
    """"reverse" (identity higher on most seeds, lower on none), "agrees" (lower), "level" (within
    SAME_WITHIN on most) or "unclear" (higher on some seeds, lower on others)."""
    task: str
    steps: int
    comparison: Paired
    identity: float
    pooling: float
    pooling_paper: float
    identity_paper: float

    KEY = "reading.lab.against_paper"
    TEMPLATES = {"reverse": ("reverse",), "agrees": ("agrees",), "level": ("level",), "unclear": ("unclear",)}
    COUNTS = {"reverse": "seeds", "agrees": "seeds", "level": "seeds", "unclear": "seeds"}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        t = t or english()
        return {
            **super().values(t),
            **self.comparison.values(t),
            "kind": self.kind,
            "identity_pct": pct(self.identity),
            "pooling_pct": pct(self.pooling),
            "task_words": t.text(f"task.{self.task}") if self.task in TASKS_NAMED else self.task,
            "cost": f"{self.pooling_paper - self.identity_paper:.1f}",
        }


def against_paper(summaries: Sequence[ArmSummary], task: str, steps: int) -> AgainstPaper | None:
    by = by_arm(summaries)
    if not {"pooling", "identity"} <= set(by):
        return None
    comparison = paired(by["identity"], by["pooling"])
    if comparison.direction == "unpaired":
        return None
    kind = {"higher": "reverse", "lower": "agrees", "alike": "level"}.get(comparison.direction, "unclear")
    return AgainstPaper(
        kind,
        task,
        steps,
        comparison,
        by["identity"].accuracy_mean,
        by["pooling"].accuracy_mean,
        ARMS["pooling"].paper.top1,
        ARMS["identity"].paper.top1,
    )


@dataclass(frozen=True)
class PaperPoint(Reading):
    kind: str
    """"agrees" when the channel MLP carries the model and no mixer falls behind pooling."""
    cheapest: float
    dearest: float

    KEY = "reading.lab.paper_point"
    TEMPLATES = {"agrees": ("agrees",), "differs": ()}


def reading(result: LabResult, summaries: Sequence[ArmSummary], t: Messages | None = None) -> tuple[str, ...]:
    """What the results show, sentence by sentence, the headline first, in language ``t``."""
    level, steps = chance(result.task), result.steps
    said: list[Reading | None] = [mixers_lead(summaries, steps), against_paper(summaries, result.task, steps)]
    # Identity against pooling is the paper's comparison, said once above.
    said += [c for c in mixer_comparisons(summaries) if c.direction != "unpaired" and c.arm != "identity"]
    mlp = without_mlp(summaries, level)
    said += list(mlp or ())
    said.append(still_rising(summaries, steps))
    said.append(stuck_seeds(summaries, level, steps))
    residuals = without_residuals(summaries, level, sum(result.config.depths))
    if residuals is not None:
        said += [residuals[0], *residuals[1]]
    said.append(pointing(result, summaries))
    hold = not any(c.direction == "lower" for c in mixer_comparisons(summaries))
    costs = [ARMS["pooling"].paper.top1 - ARMS[a].paper.top1 for a in ("identity", "random")]
    carries = mlp is not None and mlp[0].kind == "carries"
    said.append(
        PaperPoint("agrees" if carries and hold and mixer_comparisons(summaries) else "differs", *sorted(costs))
    )
    return tuple(s for r in said if r is not None for s in r.sentences(t) if s)
