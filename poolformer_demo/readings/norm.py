"""The norm control in words: the same arms with PoolFormer's GroupNorm and with a per-position
norm, read seed by seed. Does a network without a token mixer fall behind once the norm no longer
spans positions?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..i18n import Messages
from ..shapes.lab_results import ArmSummary
from ..variants import GROUP_NORM_SETTING, PAPER_S12_ABLATIONS, POSITION_NORM_SETTING
from .seeds import AT_CHANCE, LEARNED, by_arm, paired
from .sentences import Reading, pct


@dataclass(frozen=True)
class NormPath(Reading):
    """With PoolFormer's GroupNorm: did the network without a token mixer learn the task?"""

    kind: str
    """"learned" (identity learned on most seeds and is not lower than pooling on most) or "not_shown"."""
    identity: float
    pooling: float
    learned: int
    seeds: int

    KEY = "reading.norm.path"
    TEMPLATES = {"learned": ("learned",), "not_shown": ()}
    COUNTS = {"learned": "seeds"}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {**super().values(t), "identity_pct": pct(self.identity), "pooling_pct": pct(self.pooling)}


@dataclass(frozen=True)
class PerPositionNorm(Reading):
    """With a per-position norm: is the token mixer needed?"""

    kind: str
    """"mixer_needed" (pooling higher than identity on most seeds, and learned), "neither" (no seed
    of either arm left chance; "neither_after_norm" where the same arms learned with GroupNorm) or
    "level"."""
    identity: float
    pooling: float
    steps: int
    chance: float
    seeds: int

    KEY = "reading.norm.per_position"
    TEMPLATES = {
        "mixer_needed": ("mixer_needed",),
        "neither": ("neither",),
        "neither_after_norm": ("neither", "carried_by_norm"),
        "level": ("level",),
    }
    COUNTS = {"neither": "seeds"}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {
            **super().values(t),
            "identity_pct": pct(self.identity),
            "pooling_pct": pct(self.pooling),
            "chance_pct": pct(self.chance),
        }


@dataclass(frozen=True)
class NormWorth(Reading):
    """The norm's path between positions on ImageNet (the paper's normalisation rows) beside the pairs task."""

    kind: str
    """"everything" (with a per-position norm no seed learned the task, with GroupNorm identity did)
    or "part"."""
    group: float
    position: float
    steps: int

    KEY = "reading.norm.worth"
    TEMPLATES = {"everything": ("everything",), "part": ("part",)}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {**super().values(t), "worth": f"{self.group - self.position:.1f}"}


def _paper_top1(setting: str) -> float | None:
    return next((r.top1 for r in PAPER_S12_ABLATIONS if r.group == "normalisation" and r.setting == setting), None)


def norm_control(
    main: Sequence[ArmSummary], control: Sequence[ArmSummary], steps: int, level: float
) -> tuple[Reading, ...]:
    """The two readings of the norm control, and the seed-by-seed comparisons they rest on."""
    grouped, local = by_arm(main), by_arm(control)
    if not {"pooling", "identity"} <= set(grouped) & set(local):
        return ()
    pool_g, ident_g = grouped["pooling"], grouped["identity"]
    pool_p, ident_p = local["pooling"], local["identity"]
    with_norm = paired(ident_g, pool_g)
    learned = sum(s.accuracy > level + LEARNED for s in ident_g.per_seed)
    path = NormPath(
        "learned" if learned * 2 > len(ident_g.per_seed) and with_norm.direction != "lower" else "not_shown",
        ident_g.accuracy_mean,
        pool_g.accuracy_mean,
        learned,
        len(ident_g.per_seed),
    )
    without_norm = paired(pool_p, ident_p)
    never_left = all(s.accuracy < level + AT_CHANCE for s in (*pool_p.per_seed, *ident_p.per_seed))
    if never_left:
        kind = "neither_after_norm" if path.kind == "learned" else "neither"
    elif without_norm.direction == "higher" and pool_p.accuracy_mean >= level + AT_CHANCE:
        kind = "mixer_needed"
    else:
        kind = "level"
    seeds = min(len(pool_p.per_seed), len(ident_p.per_seed))
    local_reading = PerPositionNorm(kind, ident_p.accuracy_mean, pool_p.accuracy_mean, steps, level, seeds)
    # Where no seed left chance, the seed-by-seed comparison adds nothing to the sentence.
    said: tuple[Reading, ...] = (path, local_reading) + (() if kind.startswith("neither") else (without_norm,))
    group, position = _paper_top1(GROUP_NORM_SETTING), _paper_top1(POSITION_NORM_SETTING)
    if group is not None and position is not None:
        said += (NormWorth("everything" if kind == "neither_after_norm" else "part", group, position, steps),)
    return said


def control_reading(
    main: Sequence[ArmSummary], control: Sequence[ArmSummary], steps: int, level: float, t: Messages | None = None
) -> tuple[str, ...]:
    """The norm control's sentences in language ``t``: ``main`` with PoolFormer's GroupNorm,
    ``control`` with a per-position norm, both trained ``steps`` steps; ``level`` is chance accuracy."""
    readings = norm_control(main, control, steps, level)
    return tuple(s for r in readings for s in r.sentences(t) if s)
