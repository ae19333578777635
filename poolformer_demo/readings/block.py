"""One block in words, on the student's image: how much it changes a channel's map, whether its
token mixer acts at the image's edges (edges found on the image, never by the mixer), and how large
its two branches are against the stream they join."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..anatomy import BlockAnatomy
from ..edges import MixerAtEdges
from ..i18n import Messages
from .sentences import Reading

# ---------------------------------------------------------------------------------------------
# A block refines its input
# ---------------------------------------------------------------------------------------------

# An output correlated with its input by 0.7 or more shares half its variation with it (r² ≈ 0.5):
# the block has refined the map rather than replaced it.
ALIKE_FROM = 0.7


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's correlation of two maps (0 where either is constant)."""
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm > 0 else 0.0


@dataclass(frozen=True)
class Likeness(Reading):
    """One channel's map before and after a block, and after each of its two halves."""

    kind: str
    """"refines" (output correlated with input by at least ALIKE_FROM), else which half changed the
    map more: "mlp_changes" (the channel-MLP half has the lower correlation) or "mixer_changes"."""
    correlation: float
    """Input against output."""
    mixer_half: float
    """Input against the stream after the token-mixer half."""
    mlp_half: float
    """That against the output."""
    alike_from: float = ALIKE_FROM

    KEY = "reading.block.likeness"
    TEMPLATES = {
        "refines": ("measured", "refines"),
        "mlp_changes": ("measured", "mlp_changes"),
        "mixer_changes": ("measured", "mixer_changes"),
    }


def likeness(correlation: float, mixer_half: float, mlp_half: float) -> Likeness:
    kind = "mlp_changes" if mlp_half < mixer_half else "mixer_changes"
    return Likeness("refines" if correlation >= ALIKE_FROM else kind, correlation, mixer_half, mlp_half)


def block_likeness(anatomy: BlockAnatomy, channel: int) -> Likeness:
    """How alike one channel's map is before and after the block, and across each half."""
    before, middle, after = anatomy.input[channel], anatomy.mixed[channel], anatomy.output[channel]
    return likeness(correlation(before, after), correlation(before, middle), correlation(middle, after))


# ---------------------------------------------------------------------------------------------
# The token mixer as a high-pass filter, against edges measured on the image
# ---------------------------------------------------------------------------------------------

# The mixer's output must be a fifth larger at the edgier half of positions than at the flatter
# half (or a fifth smaller) before the answer takes a side: one image's halves differ by a few
# percent by chance.
EDGE_MARGIN = 0.2
# An image whose edgier half changes by under 0.01 of a colour channel's range per pixel (about 2.5
# of 255 levels) has no edges to compare: what remains is noise.
FLAT_IMAGE = 0.01


@dataclass(frozen=True)
class HighPass(Reading):
    kind: str
    """"at_edges", "at_flat", "even" (within EDGE_MARGIN) or "no_edges" (a flat image)."""
    ratio: float
    edge_strength: float
    flat_strength: float
    channels: int
    margin: float = EDGE_MARGIN

    KEY = "reading.block.high_pass"
    TEMPLATES = {"at_edges": ("at_edges",), "at_flat": ("at_flat",), "even": ("even",), "no_edges": ("no_edges",)}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {**super().values(t), "margin_pct": f"{100 * self.margin:.0f} %"}


def high_pass(measured: MixerAtEdges, channels: int) -> HighPass:
    """Whether the mixer's output is larger where the image has edges, from ``mixer_at_edges``."""
    ratio = measured.ratio
    if measured.positions == 0 or measured.edge_strength < FLAT_IMAGE or math.isnan(ratio):
        kind = "no_edges"
    elif ratio > 1 + EDGE_MARGIN:
        kind = "at_edges"
    elif ratio < 1 / (1 + EDGE_MARGIN):
        kind = "at_flat"
    else:
        kind = "even"
    return HighPass(kind, ratio, measured.edge_strength, measured.flat_strength, channels)


# ---------------------------------------------------------------------------------------------
# How large the branches are
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BranchSizes(Reading):
    """Every block's two branches against the stream they join."""

    kind: str
    """"smaller" (the token mixer's median ratio under 1) or "larger"."""
    blocks: int
    mixer_median: float
    mixer_max: float
    mlp_median: float
    mlp_max: float

    KEY = "reading.block.branch_sizes"
    TEMPLATES = {"smaller": ("smaller",), "larger": ("larger",)}
    COUNTS = {"smaller": "blocks", "larger": "blocks"}


def branch_sizes(anatomy: BlockAnatomy) -> BranchSizes:
    mixer = [b.mixer_ratio for b in anatomy.branches]
    mlp = [b.mlp_ratio for b in anatomy.branches]
    kind = "smaller" if np.median(mixer) < 1 else "larger"
    return BranchSizes(kind, len(mixer), float(np.median(mixer)), max(mixer), float(np.median(mlp)), max(mlp))


@dataclass(frozen=True)
class MixerFactors(Reading):
    """One block's token-mixer branch against the stream, as the product of three factors."""

    kind: str
    """Which factor is smallest: "scale" (the layer scale), "high_pass" (the mixer's output against
    the normalised map it reads) or "norm" (the normalised map against the stream)."""
    stage: int
    block: int
    scale: float
    """||layer_scale_1 * mixer|| / ||mixer||."""
    scale_low: float
    scale_high: float
    own: float
    """||mixer|| / ||normed||."""
    norm: float
    """||normed|| / ||input||."""

    KEY = "reading.block.mixer_factors"
    TEMPLATES = {"scale": ("scale", "product"), "high_pass": ("high_pass", "product"), "norm": ("norm", "product")}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {**super().values(t), "branch": self.scale * self.own * self.norm}


def mixer_factors(anatomy: BlockAnatomy) -> MixerFactors:
    """The chosen block's token-mixer branch split into layer scale, high-pass and norm."""
    scaled = anatomy.layer_scale_1[:, None, None] * anatomy.mixer
    mixer, normed, stream = (float(np.linalg.norm(a)) for a in (anatomy.mixer, anatomy.normed, anatomy.input))
    scale = float(np.linalg.norm(scaled)) / mixer if mixer > 0 else 1.0
    own = mixer / normed if normed > 0 else 0.0
    norm = normed / stream if stream > 0 else 0.0
    factors = {"scale": scale, "high_pass": own, "norm": norm}
    return MixerFactors(
        kind=min(factors, key=factors.get),
        stage=anatomy.stage,
        block=anatomy.block,
        scale=scale,
        scale_low=float(anatomy.layer_scale_1.min()),
        scale_high=float(anatomy.layer_scale_1.max()),
        own=own,
        norm=norm,
    )
