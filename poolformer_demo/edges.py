"""Where the image has edges, measured on the image alone, and the token mixer's output there.

PoolFormer's token mixer, AvgPool(n) - n, is a high-pass filter: near zero where its input is flat.
To see whether that holds on a trained model, the edges must be found without the mixer (its own
output would call every place it is large an edge): here they are the gradient magnitude (Sobel) of
the crop the model saw, in its most changing colour channel, averaged over the pixels each position
of a stage stands for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage

from .anatomy import BlockAnatomy

# The Sobel kernels weigh a pixel's neighbours 1-2-1 across and -1/+1 along: divided by 8, a ramp
# of the full range per pixel reads as one.
SOBEL_SCALE = 8.0


def edge_strength(image: Image.Image, grid: tuple[int, int]) -> np.ndarray:
    """[H, W] for a grid of ``grid`` positions over ``image``: the gradient magnitude (0 to 1 per
    pixel) of the colour channel that changes most, averaged over the pixels each position covers.

    The strongest channel, not the grey image: a green disc on a grey ground of the same brightness
    has edges that grey would not show."""
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    magnitude = (
        np.max([np.hypot(ndimage.sobel(c, axis=0), ndimage.sobel(c, axis=1)) for c in np.moveaxis(rgb, -1, 0)], axis=0)
        / SOBEL_SCALE
    )
    height, width = grid
    # A box filter averages every pixel a position stands for, whatever the ratio of the sizes.
    pooled = Image.fromarray(magnitude, mode="F").resize((width, height), Image.Resampling.BOX)
    return np.asarray(pooled, dtype=np.float32)


@dataclass(frozen=True)
class MixerAtEdges:
    """The token mixer's output at the image's edgier half of positions against the flatter half."""

    edge_mixer: float
    """Mean |mixer output| (over channels and positions) where the image's edge strength is above its median."""
    flat_mixer: float
    """The same at or below the median."""
    edge_strength: float
    """Mean edge strength of the edgier half (change per pixel of a colour channel, 0 to 1)."""
    flat_strength: float
    positions: int
    """How many positions the edgier half holds (fewer than half where many are equally flat)."""

    @property
    def ratio(self) -> float:
        """edge_mixer / flat_mixer (nan where there is nothing to compare; inf where the mixer's
        output is zero at every flat position and not at the edges)."""
        if self.positions == 0 or (self.flat_mixer <= 0 and self.edge_mixer <= 0):
            return float("nan")
        return self.edge_mixer / self.flat_mixer if self.flat_mixer > 0 else float("inf")


def mixer_at_edges(anatomy: BlockAnatomy) -> MixerAtEdges:
    """Split the block's positions by the image's own edges, then compare the mixer's |output| there."""
    _, height, width = anatomy.mixer.shape
    strength = edge_strength(anatomy.input_image, (height, width))
    size = np.abs(anatomy.mixer).mean(axis=0)
    edgy = strength > np.median(strength)
    flat = ~edgy
    return MixerAtEdges(
        edge_mixer=float(size[edgy].mean()) if edgy.any() else 0.0,
        flat_mixer=float(size[flat].mean()),
        edge_strength=float(strength[edgy].mean()) if edgy.any() else 0.0,
        flat_strength=float(strength[flat].mean()),
        positions=int(edgy.sum()),
    )
