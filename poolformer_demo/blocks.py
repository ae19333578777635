"""The blocks of a transformers PoolFormer model, as the inside-the-block computations need them:
where each stage's PoolFormerLayers are, their layer scales, checked stage and block numbers, and a
copy of the model that can carry hooks or swapped modules.

The model in the cache serves other requests on other threads at the same time: hooks and swapped
modules only ever go on a `shared_copy` of it, which shares its parameter tensors.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from PIL import Image
from torch import nn
from transformers import PoolFormerConfig

from .device import on_device
from .errors import SelectionError
from .i18n import Said
from .images import PreparedImage
from .weights import LoadedModel


def shared_copy(model: nn.Module) -> nn.Module:
    """A copy of `model` whose modules are new objects but whose parameters and buffers are the
    model's own tensors: hooks and swapped submodules on it leave the model untouched, at the cost
    of copying the module tree only (milliseconds, no weights)."""
    return copy.deepcopy(model, memo={id(t): t for t in [*model.parameters(), *model.buffers()]})


class LogitsOnly(nn.Module):
    """The model as libraries that call `model(tensor)` and expect logits (pytorch-grad-cam's
    metrics, its CAM classes) need it: transformers' models take keywords and return dataclasses."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, pixel_values):
        return self.model(pixel_values=pixel_values).logits


def stage_layers(model: nn.Module) -> list[nn.ModuleList]:
    """The blocks of each stage of a PoolFormerForImageClassification or PoolFormerModel."""
    base = getattr(model, "poolformer", model)
    return list(base.encoder.block)


def layer_scales(layer: nn.Module) -> tuple[torch.Tensor | float, torch.Tensor | float]:
    # Without layer scale the block adds its branches unscaled.
    if not getattr(layer, "use_layer_scale", False):
        return 1.0, 1.0
    return layer.layer_scale_1[:, None, None], layer.layer_scale_2[:, None, None]


def whole_number(value) -> int | None:
    """An int from an int or a whole float (number inputs in a UI send 3.0), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    return None


def check_stage(config: PoolFormerConfig, stage: int) -> int:
    """`stage` as an int if the model has it (numbered from 1), else a SelectionError. `config` is
    anything with the model's `depths` (its PoolFormerConfig, or its registry Variant)."""
    count = len(config.depths)
    number = whole_number(stage)
    if number is None or not 1 <= number <= count:
        raise SelectionError(Said("error.stage", stage=repr(stage), count=count))
    return number


def check_block(config: PoolFormerConfig, stage: int, block: int) -> int:
    """`block` as an int if stage `stage` has it (numbered from 1), else a SelectionError."""
    depth = config.depths[stage - 1]
    number = whole_number(block)
    if number is None or not 1 <= number <= depth:
        raise SelectionError(Said("error.block", block=repr(block), stage=stage, depth=depth))
    return number


def check_position(grid_size: tuple[int, int], stage: int, y, x) -> tuple[int, int]:
    """(y, x) as ints if they lie on a stage's grid of `grid_size` (rows, columns; numbered from 0),
    else a SelectionError that says the grid's extent."""
    rows, cols = grid_size
    position = []
    for name, value, length in (("y", y, rows), ("x", x, cols)):
        number = whole_number(value)
        if number is None or not 0 <= number < length:
            raise SelectionError(
                Said(
                    "error.position",
                    name=name,
                    value=repr(value),
                    stage=stage,
                    rows=rows,
                    cols=cols,
                    last_y=rows - 1,
                    last_x=cols - 1,
                )
            )
        position.append(number)
    return position[0], position[1]


def model_inputs(loaded: LoadedModel, image: Image.Image | PreparedImage) -> torch.Tensor:
    """The image as the checkpoint's own processor prepares it: [1, 3, H, W] `pixel_values` on the
    model's device, in its dtype."""
    image = image.image if isinstance(image, PreparedImage) else image
    inputs = loaded.processor(images=image, return_tensors="pt")
    return on_device(inputs["pixel_values"], loaded.model)


def block_inputs(image, variant: str, stage: int, block: int, cache=None) -> tuple[LoadedModel, int, int, torch.Tensor]:
    """What an entry point that looks at one block needs: the loaded model, the checked stage and
    block (numbered from 1) and the image's `pixel_values`. Raises the errors of `check_stage`,
    `check_block`, the image check and the model cache."""
    from .images import prepare_image
    from .weights import shared_cache

    prepared = image if isinstance(image, PreparedImage) else prepare_image(image)
    loaded = (cache or shared_cache()).get(variant)
    stage = check_stage(loaded.model.config, stage)
    block = check_block(loaded.model.config, stage, block)
    return loaded, stage, block, model_inputs(loaded, prepared)


def as_float32(tensor: torch.Tensor) -> np.ndarray:
    """A detached tensor as a float32 array."""
    return tensor.float().cpu().numpy().astype(np.float32, copy=False)


__all__ = [
    "as_float32",
    "block_inputs",
    "check_block",
    "check_position",
    "check_stage",
    "layer_scales",
    "model_inputs",
    "shared_copy",
    "stage_layers",
    "whole_number",
]
