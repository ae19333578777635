"""The norm × mixer grid in words: which path carried the pairs task's answer between positions.

Three readings, each a function of the grid's per-seed numbers (``shapes.lab_grid.GridCell``):

* the norm's path: the same network without a token mixer, with PoolFormer's one-group norm and
  with a per-position norm, on the same seeds;
* the mixers beside the norm's path: with the one-group norm, each mixer against the network without
  one, seed by seed (does a mixer help when the norm already carries the answer?);
* the mixers without the norm's path: which mixer learned the task with per-position norms, on how
  many seeds, within the budget;
* the two scales: on ImageNet the paper's own normalisation rows put a price on the same path.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..i18n import Messages, english
from ..shapes.lab_grid import GridCell, LabGrid
from ..variants import GROUP_NORM_SETTING, POSITION_NORM_SETTING, norm_path_points, paper_result
from .seeds import arm_words
from .sentences import Reading, pct

# "Most seeds": more than half of them. A configuration that learns on most seeds is one a student
# can expect to see learn; one that learns on a few is luck of the draw.
MOST = 0.5


def learned_on_most(cell: GridCell | None) -> bool:
    return cell is not None and cell.learned > MOST * len(cell.seeds)


@dataclass(frozen=True)
class NormCarries(Reading):
    """The network without a token mixer, with each norm, on the same seeds."""

    kind: str
    """"norm_carries" (learned on most seeds with the one-group norm, on none with per-position
    norms), "norm_helps" (on more seeds with it), "no_difference" or "missing"."""
    group_learned: int = 0
    position_learned: int = 0
    seeds: int = 0
    steps: int = 0

    KEY = "reading.grid.norm_carries"
    TEMPLATES = {
        "norm_carries": ("norm_carries",),
        "norm_helps": ("norm_helps",),
        "no_difference": ("no_difference",),
        "missing": (),
    }
    COUNTS = {"norm_carries": "seeds", "norm_helps": "seeds", "no_difference": "seeds"}


def _common(grid: LabGrid, mixer: str) -> tuple[GridCell, GridCell] | None:
    """The cell of ``mixer`` with each norm, on the seeds both have (each seed is a pair)."""
    group, position = grid.cell("group", mixer), grid.cell("position", mixer)
    if group is None or position is None:
        return None
    seeds = set(group.seeds) & set(position.seeds)
    if not seeds:
        return None
    return group.on_seeds(seeds), position.on_seeds(seeds)


def norm_carries(grid: LabGrid, mixer: str = "identity") -> NormCarries:
    pair = _common(grid, mixer)
    if pair is None:
        return NormCarries("missing")
    group, position = pair
    seeds = len(group.seeds)
    if learned_on_most(group) and position.learned == 0:
        kind = "norm_carries"
    elif group.learned > position.learned:
        kind = "norm_helps"
    else:
        kind = "no_difference"
    return NormCarries(kind, group.learned, position.learned, seeds, position.steps)


@dataclass(frozen=True)
class MixerBesideNorm(Reading):
    """With PoolFormer's one-group norm, one mixer against the network without a mixer (identity),
    seed by seed: on which seeds only one of the two learned the task within the budget."""

    kind: str
    """"same_seeds" (both learned on the same seeds), "fewer" (the mixer failed on some seeds where the
    network without it learned, and learned on none where it did not), "more" (the reverse), "mixed"
    (each on seeds where the other did not), or "missing"."""
    mixer: str = ""
    learned: int = 0
    """Seeds on which the mixer learned the task."""
    identity_learned: int = 0
    only_mixer: int = 0
    """Seeds on which the mixer learned and the network without a mixer did not."""
    only_identity: int = 0
    seeds: int = 0
    steps: int = 0

    KEY = "reading.grid.beside_norm"
    TEMPLATES = {
        "same_seeds": ("same_seeds",),
        "fewer": ("fewer",),
        "more": ("more",),
        "mixed": ("mixed",),
        "missing": (),
    }
    COUNTS = {"same_seeds": "seeds", "fewer": "seeds", "more": "seeds", "mixed": "seeds"}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        words = arm_words(self.mixer, t)
        return {**super().values(t), "words": words[:1].upper() + words[1:]}


def beside_norm(grid: LabGrid, mixer: str) -> MixerBesideNorm:
    """``mixer`` against identity in the one-group norm's row, on the seeds both have."""
    cell, identity = grid.cell("group", mixer), grid.cell("group", "identity")
    if mixer == "identity" or cell is None or identity is None:
        return MixerBesideNorm("missing")
    seeds = sorted(set(cell.seeds) & set(identity.seeds))
    if not seeds:
        return MixerBesideNorm("missing")
    cell, identity = cell.on_seeds(seeds), identity.on_seeds(seeds)
    mixer_learned = [step is not None for step in cell.learned_at]
    identity_learned = [step is not None for step in identity.learned_at]
    only_mixer = sum(m and not i for m, i in zip(mixer_learned, identity_learned))
    only_identity = sum(i and not m for m, i in zip(mixer_learned, identity_learned))
    if only_mixer and only_identity:
        kind = "mixed"
    elif only_identity:
        kind = "fewer"
    elif only_mixer:
        kind = "more"
    else:
        kind = "same_seeds"
    return MixerBesideNorm(
        kind, mixer, cell.learned, identity.learned, only_mixer, only_identity, len(seeds), cell.steps
    )


def beside_norm_readings(grid: LabGrid) -> tuple[MixerBesideNorm, ...]:
    """Every mixer of the one-group row against the network without a mixer, in the grid's order."""
    return tuple(reading for mixer in grid.mixers if (reading := beside_norm(grid, mixer)).kind != "missing")


@dataclass(frozen=True)
class WithoutNormPath(Reading):
    """With every norm per position, only the token mixer can move information between positions:
    which mixers learned the task, on how many seeds."""

    kind: str
    """"a_mixer_on_most" (some mixer learned on most seeds), "some_seeds" (some learned on a few),
    "none" (no mixer on any seed) or "missing"."""
    learned: tuple[tuple[str, int], ...] = ()
    """(mixer, seeds that learned), in the grid's mixer order."""
    seeds: int = 0
    steps: int = 0
    best: str = ""
    rising: int = 0
    """Seeds, over all the row's cells, that had not learned but were still rising at the end."""
    partly: tuple[tuple[str, int, float], ...] = ()
    """(mixer, seeds that ended above chance without learning, the best such accuracy)."""

    KEY = "reading.grid.without_norm_path"
    TEMPLATES = {
        "a_mixer_on_most": ("a_mixer_on_most",),
        "some_seeds": ("some_seeds",),
        "none": ("none",),
        "missing": (),
    }
    COUNTS = {"a_mixer_on_most": "seeds", "some_seeds": "seeds", "none": "seeds", "partly": "seeds", "rising": "rising"}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        t = t or english()
        best_learned = dict(self.learned).get(self.best, 0)
        counts = t.listed(
            [t.text(f"{self.KEY}.count", mixer=arm_words(mixer, t), count=count) for mixer, count in self.learned]
        )
        return {
            **super().values(t),
            "best_words": arm_words(self.best, t),
            "best_learned": best_learned,
            "counts": counts,
        }

    def sentences(self, t: Messages | None = None) -> tuple[str, ...]:
        t = t or english()
        said = super().sentences(t)
        if self.kind == "missing":
            return said
        values = self.values(t)
        for mixer, count, best in self.partly:
            words = arm_words(mixer, t)
            partly = {"words": words[:1].upper() + words[1:], "partly": count, "best_pct": pct(best)}
            said += (self.say(t, "partly", {**values, **partly}),)
        if self.rising:
            said += (self.say(t, "rising", values),)
        return said


def without_norm_path(grid: LabGrid) -> WithoutNormPath:
    cells = [cell for mixer in grid.mixers if (cell := grid.cell("position", mixer)) is not None]
    if not cells:
        return WithoutNormPath("missing")
    learned = tuple((cell.mixer, cell.learned) for cell in cells)
    best = max(cells, key=lambda cell: cell.learned)
    seeds = max(len(cell.seeds) for cell in cells)
    rising = sum(cell.still_rising for cell in cells)
    partly = tuple(
        (cell.mixer, cell.partly_learned, max(a for a, p in zip(cell.accuracies, cell.partly) if p))
        for cell in cells
        if cell.partly_learned
    )
    if learned_on_most(best):
        kind = "a_mixer_on_most"
    elif best.learned:
        kind = "some_seeds"
    else:
        kind = "none"
    return WithoutNormPath(kind, learned, seeds, best.steps, best.mixer, rising, partly)


@dataclass(frozen=True)
class TwoScales(Reading):
    """The same path on ImageNet (the paper's normalisation rows) and on pairs (the grid)."""

    kind: str
    """"decides" (on pairs the identity network learned with the one-group norm and did not without it),
    "matters" (it learned on more seeds with it) or "missing"."""
    points: float = 0.0
    group_top1: float = 0.0
    position_top1: float = 0.0
    group_accuracy: float = 0.0
    position_accuracy: float = 0.0

    KEY = "reading.grid.two_scales"
    TEMPLATES = {"decides": ("decides",), "matters": ("matters",), "missing": ()}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {
            **super().values(t),
            "group_pct": pct(self.group_accuracy),
            "position_pct": pct(self.position_accuracy),
        }


def two_scales(grid: LabGrid, mixer: str = "identity") -> TwoScales:
    pair = _common(grid, mixer)
    if pair is None or pair[0].learned <= pair[1].learned:
        return TwoScales("missing")
    group, position = pair
    kind = "decides" if learned_on_most(group) and position.learned == 0 else "matters"
    return TwoScales(
        kind,
        norm_path_points(),
        paper_result(GROUP_NORM_SETTING).top1,
        paper_result(POSITION_NORM_SETTING).top1,
        _mean(group.accuracies),
        _mean(position.accuracies),
    )


def _mean(values) -> float:
    return sum(values) / len(values)


def grid_reading(grid: LabGrid) -> tuple[Reading, ...]:
    """What the grid shows, in order: the norm's path, each mixer beside it, the mixers without it,
    the two scales."""
    return (norm_carries(grid), *beside_norm_readings(grid), without_norm_path(grid), two_scales(grid))
