"""One block's steps as pictures: each step of `block_anatomy`'s result on one channel, drawn with
`render`'s colour scales, and the channel where the token mixer is easiest to see. The Inside tab,
the Lesson, the handout, the slide figures and the command line's exports all draw the block from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import SelectionError
from .i18n import Said
from .render import diverging_limit, diverging_view, sequential_view

if TYPE_CHECKING:
    from .anatomy import BlockAnatomy


@dataclass(frozen=True)
class StepView:
    """One step of a block as a picture: a short title, a one-line caption and the RGB array."""

    name: str
    title: str
    caption: str
    picture: np.ndarray


def anatomy_channel(anatomy: BlockAnatomy) -> int:
    """The channel where the token mixer changes the stream most (largest ||layer_scale_1 * mixer||):
    where the block's token mixing is easiest to see."""
    scaled = anatomy.layer_scale_1[:, None, None] * anatomy.mixer
    return int(np.argmax(np.square(scaled).sum(axis=(1, 2))))


def anatomy_views(anatomy: BlockAnatomy, channel: int | None = None) -> tuple[StepView, ...]:
    """Every step of the block as a picture of one channel (default: `anatomy_channel`).

    The residual stream (input, after the mixer, output) shares one colour range, as do the
    normalised map and its pooled version, so the blur is visible as lost contrast; the token
    mixer's output and the MLP branch are signed and drawn with a diverging colormap centred on 0.
    """
    channels = anatomy.input.shape[0]
    channel = anatomy_channel(anatomy) if channel is None else int(channel)
    if not 0 <= channel < channels:
        raise SelectionError(f"There is no channel {channel}: this block has channels 0 to {channels - 1}.")
    names = ("input", "normed", "pooled", "mixer", "mixed", "mlp", "output")
    maps = {name: getattr(anatomy, name)[channel] for name in names}
    stream = np.stack([maps["input"], maps["mixed"], maps["output"]])
    stream_low, stream_high = np.percentile(stream, [1, 99])
    normed = np.stack([maps["normed"], maps["pooled"]])
    normed_low, normed_high = np.percentile(normed, [1, 99])
    mixer_limit, mlp_limit = diverging_limit(maps["mixer"]), diverging_limit(maps["mlp"])
    k = anatomy.pool_size
    # Captions remember their catalog key (`Said`), so a page says them in its language.
    where = Said("step.caption.input", stage=anatomy.stage, block=anatomy.block, channel=channel)
    return (
        StepView("input", "x", where, sequential_view(maps["input"], stream_low, stream_high)),
        StepView(
            "normed",
            "n = before_norm(x)",
            Said("step.caption.normed"),
            sequential_view(maps["normed"], normed_low, normed_high),
        ),
        StepView(
            "pooled",
            "AvgPool(n)",
            Said("step.caption.pooled", size=k),
            sequential_view(maps["pooled"], normed_low, normed_high),
        ),
        StepView(
            "mixer",
            "AvgPool(n) - n",
            Said("step.caption.mixer", limit=mixer_limit),
            diverging_view(maps["mixer"], mixer_limit),
        ),
        StepView(
            "mixed",
            "x + layer_scale_1 · mixer",
            Said("step.caption.mixed"),
            sequential_view(maps["mixed"], stream_low, stream_high),
        ),
        StepView(
            "mlp",
            "layer_scale_2 · MLP(after_norm(·))",
            Said("step.caption.mlp", limit=mlp_limit),
            diverging_view(maps["mlp"], mlp_limit),
        ),
        StepView(
            "output",
            "output",
            Said("step.caption.output"),
            sequential_view(maps["output"], stream_low, stream_high),
        ),
    )
