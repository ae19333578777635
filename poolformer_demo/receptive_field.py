"""Receptive fields: for one position of one stage, the effective receptive field (the absolute
gradient of its activation with respect to the input pixels) beside the theoretical one (patch
embeddings and stacked pools, computed from the config).

The gradient needs no hooks or swapped modules: the cached model runs as it is.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from transformers import PoolFormerConfig

from .blocks import as_float32, check_position, check_stage, model_inputs
from .errors import SelectionError
from .images import PreparedImage, crop_image, prepare_image
from .json_data import rounded_seconds
from .variants import DEFAULT_VARIANT, Variant
from .weights import ModelCache, shared_cache


@dataclass(frozen=True)
class FieldGeometry:
    """The theoretical receptive field of a stage's positions, from its local operations (patch
    embeddings, stacked pools; the MLPs are 1x1). Position u covers input pixels
    [offset + u * jump, offset + u * jump + size) along each axis, before clipping to the crop."""

    size: int
    jump: int
    offset: int

    def span(self, index: int, length: int) -> tuple[int, int]:
        """Start and end (exclusive) of position `index`'s field, clipped to [0, length)."""
        start = self.offset + index * self.jump
        return max(0, start), min(length, start + self.size)


def field_geometry(config: PoolFormerConfig, stage: int) -> FieldGeometry:
    """The receptive-field recursion (size += (k - 1) * jump, offset -= padding * jump,
    jump *= stride) over every patch embedding and every k x k stride-1 pool up to `stage`."""
    stage = check_stage(config, stage)
    size, jump, offset = 1, 1, 0
    pool = int(config.pool_size)
    layers = []
    for i in range(stage):
        layers.append((_side(config.patch_sizes[i]), _side(config.strides[i]), _side(config.padding[i])))
        layers += [(pool, 1, pool // 2)] * config.depths[i]
    for kernel, stride, padding in layers:
        size += (kernel - 1) * jump
        offset -= padding * jump
        jump *= stride
    return FieldGeometry(size=size, jump=jump, offset=offset)


def stage_grid_size(config: PoolFormerConfig, crop_size: tuple[int, int], stage: int) -> tuple[int, int]:
    """A stage's feature-map height and width for an input of `crop_size` (the pools keep it)."""
    stage = check_stage(config, stage)
    height, width = crop_size
    for i in range(stage):
        kernel, stride, padding = _side(config.patch_sizes[i]), _side(config.strides[i]), _side(config.padding[i])
        height = (height + 2 * padding - kernel) // stride + 1
        width = (width + 2 * padding - kernel) // stride + 1
    return height, width


def _side(value) -> int:
    # PoolFormer's patch embeddings are square; a configuration with two sides is refused rather
    # than half described.
    if isinstance(value, (tuple, list)):
        if len(set(value)) != 1:
            raise ValueError(f"receptive fields are computed for square kernels, strides and paddings, not {value}")
        value = value[0]
    return int(value)


def grid_cell(grid_size: tuple[int, int], at: tuple[float, float]) -> tuple[int, int]:
    """The (y, x) cell of a grid of `grid_size` that a point falls in, the point given as fractions
    (down, across) of the picture's height and width, each from 0 to 1 (1 falls in the last cell)."""
    cell = []
    for index, length in enumerate(grid_size):
        value = _fraction(at, index)
        if value is None or not 0.0 <= value <= 1.0:
            raise SelectionError(f"A point on the picture is two fractions from 0 to 1 (down, across), not {at!r}.")
        cell.append(min(int(value * length), length - 1))
    return cell[0], cell[1]


def _fraction(point, index: int) -> float | None:
    if isinstance(point, (str, bytes)):
        return None
    try:
        value = float(point[index])
    except (TypeError, ValueError, IndexError):
        return None
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class ReceptiveField:
    """The effective and the theoretical receptive field of one position of one stage."""

    variant: Variant
    stage: int
    y: int
    x: int
    """The grid position, numbered from 0 (row, column)."""
    grid_size: tuple[int, int]
    crop_size: tuple[int, int]
    erf: np.ndarray
    """float32 [H, W] at crop size: sum over colour channels of |d a / d pixel_values|, where a is
    the sum over channels of the stage's hidden state at (y, x)."""
    geometry: FieldGeometry
    box: tuple[int, int, int, int]
    """The theoretical field in crop pixels as (top, left, bottom, right), ends exclusive,
    clipped to the crop."""
    mass_inside: float
    """The share of the ERF's total inside the box."""
    input_image: Image.Image
    seconds: float
    """Preprocessing, the forward and the backward pass; model loading excluded."""
    stage_sizes: tuple[int, ...] = ()
    """The theoretical field's side in pixels at every stage of the model, from stage 1: how it grows."""

    @property
    def theoretical_size(self) -> int:
        """The side of the theoretical field in pixels, before clipping to the crop."""
        return self.geometry.size

    @property
    def wider_than_crop(self) -> bool:
        """Whether the theoretical field is at least as wide as the crop: then it holds every pixel's
        gradient by construction, and its share of the gradient says nothing."""
        return self.theoretical_size >= self.crop_size[0]

    @property
    def peak(self) -> tuple[int, int]:
        """The crop pixel (row, column) where the effective field is strongest."""
        row, col = np.unravel_index(int(np.argmax(self.erf)), self.erf.shape)
        return int(row), int(col)

    @property
    def centre(self) -> tuple[float, float]:
        """The crop pixel (row, column) at the centre of the position's own cell of the grid."""
        (rows, cols), (height, width) = self.grid_size, self.crop_size
        return (self.y + 0.5) * height / rows, (self.x + 0.5) * width / cols

    @property
    def peak_distance(self) -> float:
        """How far (in crop pixels) the effective field's peak lies from the position's centre."""
        return math.dist(self.peak, self.centre)

    def to_json(self) -> dict:
        """The numbers behind the field as plain JSON data (the CLI's erf.json, the API's answer);
        the field itself is an array for the exports' erf.npy."""
        top, left, bottom, right = self.box
        return {
            "variant": self.variant.name,
            "stage": self.stage,
            "position": {"y": self.y, "x": self.x},
            "grid_size": list(self.grid_size),
            "crop_size": list(self.crop_size),
            "theoretical_size_px": self.theoretical_size,
            "theoretical_size_px_by_stage": list(self.stage_sizes),
            "stride_px": self.geometry.jump,
            "box": {"top": top, "left": left, "bottom": bottom, "right": right},
            "erf_share_inside_box": float(self.mass_inside),
            "erf_peak": float(self.erf.max()),
            "erf_peak_px": {"y": self.peak[0], "x": self.peak[1]},
            "erf_peak_distance_px": round(self.peak_distance, 1),
            "seconds": rounded_seconds(self.seconds),
        }


def receptive_field(
    image: Image.Image | PreparedImage | str,
    variant: str = DEFAULT_VARIANT,
    stage: int = 1,
    y: int = 0,
    x: int = 0,
    cache: ModelCache | None = None,
    at: tuple[float, float] | None = None,
) -> ReceptiveField:
    """The effective receptive field of position (y, x) (numbered from 0) of stage `stage`
    (numbered from 1) on the crop, beside the theoretical one.

    `at`, a point of the crop as fractions (down, across) of its height and width, picks the
    position instead of (y, x): the grid cell the point falls in (see `grid_cell`), so a point
    clicked on a picture of any size names the same place of the image at every stage.

    One forward and one backward pass, through captum's Saliency (|gradient| of the position's
    summed activation with respect to the pixels). Raises SelectionError for a stage or position
    the model does not have at this crop size.
    """
    from captum.attr import Saliency

    prepared = image if isinstance(image, PreparedImage) else prepare_image(image)
    loaded = (cache or shared_cache()).get(variant)
    started = time.perf_counter()
    config = loaded.model.config
    stage = check_stage(config, stage)
    pixel_values = model_inputs(loaded, prepared)
    crop_size = tuple(pixel_values.shape[-2:])
    grid = stage_grid_size(config, crop_size, stage)
    if at is not None:
        y, x = grid_cell(grid, at)
    y, x = check_position(grid, stage, y, x)

    def activation(pixels: torch.Tensor) -> torch.Tensor:
        hidden = loaded.model.poolformer(pixels, output_hidden_states=True).hidden_states[stage - 1]
        return hidden[:, :, y, x].sum(dim=1)

    # The parameters are frozen, so the input must ask for gradients for a graph to be built.
    pixel_values.requires_grad_(True)
    with torch.enable_grad():
        saliency = Saliency(activation).attribute(pixel_values, abs=True)
    erf = as_float32(saliency.detach()[0].sum(dim=0))

    geometry = field_geometry(config, stage)
    top, bottom = geometry.span(y, crop_size[0])
    left, right = geometry.span(x, crop_size[1])
    total = float(erf.sum(dtype=np.float64))
    inside = float(erf[top:bottom, left:right].sum(dtype=np.float64))
    return ReceptiveField(
        variant=loaded.variant,
        stage=stage,
        y=y,
        x=x,
        grid_size=grid,
        crop_size=crop_size,
        erf=erf,
        geometry=geometry,
        box=(top, left, bottom, right),
        mass_inside=inside / total if total > 0 else 0.0,
        input_image=crop_image(pixel_values[0], loaded.processor),
        seconds=time.perf_counter() - started,
        stage_sizes=tuple(field_geometry(config, s).size for s in range(1, len(config.depths) + 1)),
    )


__all__ = [
    "FieldGeometry",
    "ReceptiveField",
    "field_geometry",
    "grid_cell",
    "receptive_field",
    "stage_grid_size",
]
