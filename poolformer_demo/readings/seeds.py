"""Arms compared seed by seed. The lab's arms share their seeds' data order and initial draws, so
seed 0 of one arm is the fair partner of seed 0 of another: arms are compared by their paired
differences ("higher on k of n seeds, by a–b points"), never by a difference of means that a wide
spread over seeds can swallow."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..shapes.lab_results import LATE_STRETCH, ArmSummary
from .sentences import Reading, listed, pct, plural, points

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


# How the sentences name each arm: the arms without a part are named by what they lack.
ARM_WORDS = {
    "pooling": "pooling",
    "identity": "identity",
    "random": "the frozen random matrix",
    "conv": "the depthwise convolution",
    "global": "the global mean",
    "no_mlp": "the network without channel MLP",
    "no_residual": "the network without residuals",
}


def arm_words(arm: str) -> str:
    return ARM_WORDS.get(arm, arm)


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

    TEMPLATES = {
        "higher": (
            "Against {other}, {arm} scored higher on {higher} of {seeds} {seed_word}, by {by} points, "
            "and lower on none."
        ),
        "lower": (
            "Against {other}, {arm} scored lower on {lower} of {seeds} {seed_word}, by {by} points, and higher on none."
        ),
        "partly_higher": (
            "Against {other}, {arm} scored higher on {higher} of {seeds} {seed_word}, by {by} points, and within "
            "{same} points on the other {alike}."
        ),
        "partly_lower": (
            "Against {other}, {arm} scored lower on {lower} of {seeds} {seed_word}, by {by} points, and within "
            "{same} points on the other {alike}."
        ),
        "alike": "Against {other}, {arm} scored within {same} points on {alike} of {seeds} {seed_word}.",
        "mixed": (
            "Against {other}, {arm} scored higher on {higher} and lower on {lower} of {seeds} {seed_word} (differences "
            "from {smallest} to {largest} points)."
        ),
        "mixed_alike": (
            "Against {other}, {arm} scored higher on {higher}, lower on {lower} and within {same} points on {alike} of "
            "{seeds} {seed_word} (differences from {smallest} to {largest} points)."
        ),
        "unpaired": "Against {other}, {arm} shares no seed to compare.",
    }

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

    def values(self) -> dict[str, object]:
        gaps = self.gaps() or (float("nan"),)
        low, high = points(min(gaps)), points(max(gaps))
        return {
            **super().values(),
            "arm": arm_words(self.arm),
            "other": arm_words(self.other),
            "seeds": self.seeds,
            "higher": self.higher,
            "lower": self.lower,
            "alike": self.alike,
            "seed_word": plural(self.seeds, "seed", "seeds"),
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
    arms: tuple[str, ...]
    """One entry per arm still rising, said by ITEM."""

    ITEM = "{arm} ({rising} of {seeds} {seed_word}, up {by} points)"
    TEMPLATES = {
        "still_learning": (
            "Held-out accuracy was still rising at step {steps:,} (by {threshold} points or more over the last "
            "{window:,} steps) for {arm_list}: within this budget the arms differ in how fast they learn, and what "
            "each could reach with more steps was not measured."
        ),
        "settled": (
            "No arm's held-out accuracy rose by {threshold} points or more over the last {window:,} of its {steps:,} "
            "steps: the budget let every arm settle."
        ),
    }

    def values(self) -> dict[str, object]:
        return {
            **super().values(),
            "arm_list": listed(self.arms),
            "threshold": points(STILL_RISING),
            "window": round(self.steps * LATE_STRETCH),
        }


def still_rising(summaries: Sequence[ArmSummary], steps: int) -> StillRising:
    items = []
    for s in summaries:
        gains = seeds_rising(s)
        if gains:
            low, high = points(min(gains)), points(max(gains))
            items.append(
                StillRising.ITEM.format(
                    arm=arm_words(s.arm),
                    rising=len(gains),
                    seeds=len(s.per_seed),
                    seed_word=plural(len(s.per_seed), "seed", "seeds"),
                    by=low if low == high else f"{low}–{high}",
                )
            )
    return StillRising("still_learning" if items else "settled", steps, tuple(items))


@dataclass(frozen=True)
class StuckSeeds(Reading):
    """Arms with seeds that did not leave chance beside seeds that learned."""

    kind: str
    """"split" or "none"."""
    steps: int
    arms: tuple[str, ...]

    ITEM = "{arm} ({stuck} of {seeds} {seed_word}: seed {seed} at {accuracy})"
    TEMPLATES = {
        "split": (
            "Some seeds did not leave chance within {steps:,} steps while others of the same arm learned: "
            "{arm_list}. Their spread over seeds is that, not noise around one value."
        ),
        "none": "",
    }

    def values(self) -> dict[str, object]:
        return {**super().values(), "arm_list": listed(self.arms)}


def stuck_seeds(summaries: Sequence[ArmSummary], level: float, steps: int) -> StuckSeeds:
    items = []
    for s in summaries:
        stuck = seeds_at_chance(s, level)
        if stuck and seeds_learned(s, level):
            low = min((x for x in s.per_seed if x.seed in stuck), key=lambda x: x.accuracy)
            items.append(
                StuckSeeds.ITEM.format(
                    arm=arm_words(s.arm),
                    stuck=len(stuck),
                    seeds=len(s.per_seed),
                    seed_word=plural(len(s.per_seed), "seed", "seeds"),
                    seed=low.seed,
                    accuracy=pct(low.accuracy),
                )
            )
    return StuckSeeds("split" if items else "none", steps, tuple(items))
