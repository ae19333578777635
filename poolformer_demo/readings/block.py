"""One block in words, on the student's image: how much it changes a channel's map, whether its
token mixer acts at the image's edges (edges found on the image, never by the mixer), and how large
its two branches are against the stream they join."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..anatomy import BlockAnatomy
from ..edges import MixerAtEdges
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

    _MEASURED = (
        "Measured on this channel: the output's correlation with the input is {correlation:.2f} (1 = the same map, "
        "0 = unrelated)."
    )
    TEMPLATES = {
        "refines": (_MEASURED, "The block refines its input rather than replacing it."),
        "mlp_changes": (
            _MEASURED,
            "Less alike than the formula suggests: the token-mixer half keeps a correlation of {mixer_half:.2f}, the "
            "channel-MLP half only {mlp_half:.2f}, so the MLP's correction (step 7) changed this channel a lot, even "
            "though the block only adds to it.",
        ),
        "mixer_changes": (
            _MEASURED,
            "Less alike than the formula suggests: the channel-MLP half keeps a correlation of {mlp_half:.2f}, the "
            "token-mixer half only {mixer_half:.2f}, so the mixer's correction changed this channel a lot, even "
            "though the block only adds to it.",
        ),
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

    TEMPLATES = {
        "at_edges": (
            "At edges. Averaged over its {channels} channels, the mixer's output is {ratio:.1f}× larger at the half of "
            "the positions where the image itself has the strongest edges (Sobel gradient of the crop) than at the "
            "flatter half: subtracting the blur removes what the neighbourhood shares and keeps what stands out, a "
            "high-pass filter."
        ),
        "at_flat": (
            "Not at edges, here. Averaged over its {channels} channels, the mixer's output at the half of the "
            "positions where the image has the strongest edges (Sobel gradient of the crop) is only {ratio:.2f} of "
            "its size at the flatter half: this block's input is not flat where the image is, so the blur minus "
            "the map is largest elsewhere."
        ),
        "even": (
            "Neither, on this image. Averaged over its {channels} channels, the mixer's output is {ratio:.2f}× its "
            "size at the flatter half of the positions where the image has its strongest edges (Sobel gradient of "
            "the crop): within {margin_pct} of even."
        ),
        "no_edges": (
            "This image has no edges to compare: its edgier half of positions changes by {edge_strength:.3f} of a "
            "colour channel's range per pixel, no more than noise. Try a picture with an object on a plain background."
        ),
    }

    def values(self) -> dict[str, object]:
        return {**super().values(), "margin_pct": f"{100 * self.margin:.0f} %"}


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

    TEMPLATES = {
        "smaller": (
            "Smaller. Over the {blocks} blocks of this model the token mixer's branch is a median {mixer_median:.2f} "
            "of the stream it joins (largest {mixer_max:.2f}); the channel MLP's is a median {mlp_median:.2f} "
            "(largest {mlp_max:.2f})."
        ),
        "larger": (
            "Larger. Over the {blocks} blocks of this model the token mixer's branch is a median {mixer_median:.2f} "
            "of the stream it joins (largest {mixer_max:.2f}); the channel MLP's is a median {mlp_median:.2f} "
            "(largest {mlp_max:.2f})."
        ),
    }


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

    _PRODUCT = (
        "The branch ({branch:.2f} of the stream) is the product of three factors: the layer scale ({scale:.2f}; its "
        "values run from {scale_low:.2f} to {scale_high:.2f}), the mixer's output against the normalised map it "
        "reads ({own:.2f}) and that map against the stream ({norm:.2f})."
    )
    TEMPLATES = {
        "scale": (
            "In block {stage}.{block} the smallest factor is the layer scale ({scale:.2f}): the model learned to turn "
            "this branch down.",
            _PRODUCT,
        ),
        "high_pass": (
            "In block {stage}.{block} the smallest factor is the mixer's own ({own:.2f} of the normalised map it "
            "reads): a blur minus the map is near zero wherever the map is flat.",
            _PRODUCT,
        ),
        "norm": (
            "In block {stage}.{block} the smallest factor is the norm's: the normalised map the mixer reads is "
            "{norm:.2f} of the stream, so even a full-sized mixer output is a small correction.",
            _PRODUCT,
        ),
    }

    def values(self) -> dict[str, object]:
        return {**super().values(), "branch": self.scale * self.own * self.norm}


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
