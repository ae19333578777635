"""Arms compared seed by seed. The lab's arms share their seeds' data order and initial draws, so
seed 0 of one arm is the fair partner of seed 0 of another: arms are compared by their paired
differences ("higher on k of n seeds, by a–b points"), never by a difference of means that a wide
spread over seeds can swallow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..i18n import Messages, english
from ..shapes.lab_results import LATE_STRETCH, ArmSummary
from .sentences import Reading, pct, points

# Two runs of one seed within 2 points of each other score alike: 6 of the 300 held-out images,
# about what one run gains or loses between two of its own measurements late in training.
SAME_WITHIN = 0.02
# A seed within 5 points of chance has not left it (15 of 300 held-out images).
AT_CHANCE = 0.05
# A seed more than 20 points above chance has learned something of the task.
LEARNED = 0.2
# Held-out accuracy that rose by 3 points or more over the budget's last quarter was still rising
# when the budget ended: more than the few images one measurement differs from the next.
STILL_RISING = 0.03


# How the sentences name each arm (catalog ``arm.<name>``): the arms without a part are named by
# what they lack.
ARMS_NAMED = ("pooling", "identity", "random", "conv", "global", "no_mlp", "no_residual")


def arm_words(arm: str, t: Messages | None = None) -> str:
    t = t or english()
    return t.text(f"arm.{arm}") if arm in ARMS_NAMED else arm


KINDS = ("higher", "lower", "partly_higher", "partly_lower", "alike", "mixed", "mixed_alike", "unpaired")


@dataclass(frozen=True)
class Paired(Reading):
    """One arm against another, seed by seed."""

    kind: str
    """How the seeds fell: "higher" (higher on most, lower on none), "lower", "partly_higher" (higher
    on some, the rest within SAME_WITHIN), "partly_lower", "alike" (every seed within SAME_WITHIN),
    "mixed" (higher on some, lower on others), "mixed_alike" (and within on the rest), "unpaired"."""
    arm: str
    other: str
    differences: tuple[float, ...]
    """Per common seed, ``arm``'s accuracy minus ``other``'s, as shares."""
    same_within: float = SAME_WITHIN

    KEY = "reading.seeds.paired"
    TEMPLATES = {kind: (kind,) for kind in KINDS}
    COUNTS = {kind: "seeds" for kind in KINDS if kind != "unpaired"}

    @property
    def direction(self) -> str:
        """What the comparison supports: "higher", "lower", "mixed", "alike" or "unpaired"."""
        if self.kind.startswith("mixed"):
            return "mixed"
        return {"partly_higher": "alike", "partly_lower": "alike"}.get(self.kind, self.kind)

    @property
    def seeds(self) -> int:
        return len(self.differences)

    @property
    def higher(self) -> int:
        return sum(d > self.same_within for d in self.differences)

    @property
    def lower(self) -> int:
        return sum(d < -self.same_within for d in self.differences)

    @property
    def alike(self) -> int:
        return self.seeds - self.higher - self.lower

    def gaps(self) -> tuple[float, ...]:
        """The sizes of the differences in the kind's direction (all of them, signed, for the others)."""
        if self.kind in ("higher", "partly_higher"):
            return tuple(d for d in self.differences if d > self.same_within)
        if self.kind in ("lower", "partly_lower"):
            return tuple(-d for d in self.differences if d < -self.same_within)
        return self.differences

    def values(self, t: Messages | None = None) -> dict[str, object]:
        gaps = self.gaps() or (float("nan"),)
        low, high = points(min(gaps)), points(max(gaps))
        return {
            **super().values(t),
            "arm": arm_words(self.arm, t),
            "other": arm_words(self.other, t),
            "seeds": self.seeds,
            "higher": self.higher,
            "lower": self.lower,
            "alike": self.alike,
            "by": low if low == high else f"{low}–{high}",
            "same": points(self.same_within),
            "smallest": signed_points(min(gaps)),
            "largest": signed_points(max(gaps)),
        }


def signed_points(value: float) -> str:
    """A difference in points with its sign, a true minus for negatives: "+15.0", "−4.7"."""
    return f"{100 * value:+.1f}".replace("-", "−")


def seed_scores(summary: ArmSummary) -> dict[int, float]:
    return {s.seed: s.accuracy for s in summary.per_seed}


def paired(arm: ArmSummary, other: ArmSummary) -> Paired:
    """``arm`` against ``other`` on the seeds both ran."""
    mine, theirs = seed_scores(arm), seed_scores(other)
    # Rounded so that a difference of exactly SAME_WITHIN (6 of 300 images) counts as within it.
    differences = tuple(round(mine[s] - theirs[s], 9) for s in sorted(set(mine) & set(theirs)))
    higher = sum(d > SAME_WITHIN for d in differences)
    lower = sum(d < -SAME_WITHIN for d in differences)
    alike = len(differences) - higher - lower
    if not differences:
        kind = "unpaired"
    elif higher and lower:
        kind = "mixed_alike" if alike else "mixed"
    elif higher:
        kind = "higher" if higher * 2 > len(differences) else "partly_higher"
    elif lower:
        kind = "lower" if lower * 2 > len(differences) else "partly_lower"
    else:
        kind = "alike"
    return Paired(kind, arm.arm, other.arm, differences)


def seeds_at_chance(summary: ArmSummary, chance: float) -> tuple[int, ...]:
    """The seeds of ``summary`` that did not leave chance."""
    return tuple(s.seed for s in summary.per_seed if s.accuracy < chance + AT_CHANCE)


def seeds_learned(summary: ArmSummary, chance: float) -> tuple[int, ...]:
    return tuple(s.seed for s in summary.per_seed if s.accuracy > chance + LEARNED)


def seeds_rising(summary: ArmSummary) -> tuple[float, ...]:
    """The late gains of the seeds whose held-out accuracy was still rising at the end."""
    return tuple(s.late_gain for s in summary.per_seed if s.late_gain is not None and s.late_gain >= STILL_RISING)


def by_arm(summaries: Sequence[ArmSummary]) -> dict[str, ArmSummary]:
    return {s.arm: s for s in summaries}


@dataclass(frozen=True)
class StillRising(Reading):
    """Arms whose held-out accuracy was still rising when the budget ended."""

    kind: str
    """"still_learning" (some were) or "settled"."""
    steps: int
    arms: tuple[tuple[str, int, int, str], ...]
    """Per arm still rising: (arm, seeds still rising, its seeds, the gains in points "a–b")."""

    KEY = "reading.seeds.still_rising"
    TEMPLATES = {"still_learning": ("still_learning",), "settled": ("settled",)}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        t = t or english()
        items = [
            t.plural(f"{self.KEY}.item", seeds, arm=arm_words(arm, t), rising=rising, by=by)
            for arm, rising, seeds, by in self.arms
        ]
        return {
            **super().values(t),
            "arm_list": t.listed(items),
            "threshold": points(STILL_RISING),
            "window": round(self.steps * LATE_STRETCH),
        }


def still_rising(summaries: Sequence[ArmSummary], steps: int) -> StillRising:
    items = []
    for s in summaries:
        gains = seeds_rising(s)
        if gains:
            low, high = points(min(gains)), points(max(gains))
            items.append((s.arm, len(gains), len(s.per_seed), low if low == high else f"{low}–{high}"))
    return StillRising("still_learning" if items else "settled", steps, tuple(items))


@dataclass(frozen=True)
class StuckSeeds(Reading):
    """Arms with seeds that did not leave chance beside seeds that learned."""

    kind: str
    """"split" or "none"."""
    steps: int
    arms: tuple[tuple[str, int, int, int, float], ...]
    """Per arm: (arm, seeds that stayed at chance, its seeds, the lowest such seed, its accuracy)."""

    KEY = "reading.seeds.stuck"
    TEMPLATES = {"split": ("split",), "none": ()}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        t = t or english()
        items = [
            t.plural(f"{self.KEY}.item", seeds, arm=arm_words(arm, t), stuck=stuck, seed=seed, accuracy=pct(accuracy))
            for arm, stuck, seeds, seed, accuracy in self.arms
        ]
        return {**super().values(t), "arm_list": t.listed(items)}


def stuck_seeds(summaries: Sequence[ArmSummary], level: float, steps: int) -> StuckSeeds:
    items = []
    for s in summaries:
        stuck = seeds_at_chance(s, level)
        if stuck and seeds_learned(s, level):
            low = min((x for x in s.per_seed if x.seed in stuck), key=lambda x: x.accuracy)
            items.append((s.arm, len(stuck), len(s.per_seed), low.seed, low.accuracy))
    return StuckSeeds("split" if items else "none", steps, tuple(items))
