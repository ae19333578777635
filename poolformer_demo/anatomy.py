"""Inside the MetaFormer block: one block's steps, how much each branch changes the residual
stream, knockouts of the token mixer or the channel MLP, and receptive fields.

transformers' `PoolFormerLayer` computes, for a block input x (Yu et al., CVPR 2022, Eq. 1-2 with
pooling as the token mixer):
    n = before_norm(x),   mixer = AvgPool(n) - n,   mixed = x + layer_scale_1 * mixer,
    mlp = layer_scale_2 * MLP(after_norm(mixed)),   output = mixed + mlp.

Hooks and swapped modules only ever go on a copy of the cached model that shares its parameter
tensors: the cached model serves other requests on other threads at the same time, and a hook or a
swapped module on it would act on their forward passes too. The receptive field needs neither and
runs the cached model as it is.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn
from transformers import PoolFormerConfig

from .errors import KnockoutSpecError, SelectionError
from .images import PreparedImage, crop_image, prepare_image
from .variants import STAGE_COUNT, Variant
from .weights import LoadedModel, ModelCache, shared_cache

# The steps of one block, in the order the block computes them.
STEPS = ("input", "normed", "pooled", "mixer", "mixed", "mlp", "output")


def shared_copy(model: nn.Module) -> nn.Module:
    """A copy of `model` whose modules are new objects but whose parameters and buffers are the
    model's own tensors: hooks and swapped submodules on it leave the model untouched, at the cost
    of copying the module tree only (milliseconds, no weights)."""
    return copy.deepcopy(model, memo={id(t): t for t in [*model.parameters(), *model.buffers()]})


def _layers(model: nn.Module) -> list[nn.ModuleList]:
    """The blocks of each stage of a PoolFormerForImageClassification or PoolFormerModel."""
    base = getattr(model, "poolformer", model)
    return list(base.encoder.block)


def _layer_scales(layer: nn.Module) -> tuple[torch.Tensor | float, torch.Tensor | float]:
    # Without layer scale the block adds its branches unscaled.
    if not getattr(layer, "use_layer_scale", False):
        return 1.0, 1.0
    return layer.layer_scale_1[:, None, None], layer.layer_scale_2[:, None, None]


def _whole(value) -> int | None:
    """An int from an int or a whole float (number inputs in a UI send 3.0), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return int(value)
    return None


def _check_stage(config: PoolFormerConfig, stage: int) -> int:
    count = len(config.depths)
    number = _whole(stage)
    if number is None or not 1 <= number <= count:
        raise SelectionError(f"There is no stage {stage!r}: this model has stages 1 to {count}.")
    return number


def _check_block(config: PoolFormerConfig, stage: int, block: int) -> int:
    depth = config.depths[stage - 1]
    number = _whole(block)
    if number is None or not 1 <= number <= depth:
        raise SelectionError(f"There is no block {block!r} in stage {stage}: it has blocks 1 to {depth}.")
    return number


def _pixel_values(loaded: LoadedModel, prepared: PreparedImage) -> torch.Tensor:
    inputs = loaded.processor(images=prepared.image, return_tensors="pt")
    return inputs["pixel_values"].to(loaded.model.dtype)


# ---------------------------------------------------------------------------------------------
# Block anatomy


@dataclass(frozen=True)
class BranchRatio:
    """How much one block's two branches change the residual stream (Frobenius norms, batch of one)."""

    stage: int
    block: int
    mixer_ratio: float
    """||layer_scale_1 * mixer|| / ||input||."""
    mlp_ratio: float
    """||layer_scale_2 * MLP(after_norm(mixed))|| / ||mixed||."""


@dataclass(frozen=True)
class BlockAnatomy:
    """Every step of one block for one image, and the branch ratios of every block.

    The step arrays are float32 [C, H, W]; `mlp` already includes layer_scale_2, `mixer` does
    not include layer_scale_1 (it is the token mixer's own output), so
    input + layer_scale_1 * mixer == mixed and mixed + mlp == output.
    """

    variant: Variant
    stage: int
    block: int
    input: np.ndarray
    normed: np.ndarray
    pooled: np.ndarray
    mixer: np.ndarray
    mixed: np.ndarray
    mlp: np.ndarray
    output: np.ndarray
    layer_scale_1: np.ndarray
    """[C] (ones for a model without layer scale)."""
    layer_scale_2: np.ndarray
    branches: tuple[BranchRatio, ...]
    """One entry per block of the whole network, in order."""
    pool_size: int
    input_image: Image.Image
    """The center crop the model saw, as RGB."""
    seconds: float
    """Preprocessing and the forward pass; model loading excluded."""

    def step(self, name: str) -> np.ndarray:
        """One of STEPS by name."""
        if name not in STEPS:
            raise KeyError(f"unknown step {name!r}; steps are {', '.join(STEPS)}")
        return getattr(self, name)


class BlockRecorder:
    """Forward hooks that record, in one forward pass, the branch norms of every PoolFormerLayer
    and every step of one chosen layer.

    A context manager: the hooks are registered on entry and removed on exit, whatever happens
    in between. Use it on a `shared_copy` of a model that other threads may be running.
    """

    def __init__(self, model: nn.Module, stage: int, block: int) -> None:
        self._stages = _layers(model)
        if not 1 <= stage <= len(self._stages) or not 1 <= block <= len(self._stages[stage - 1]):
            raise SelectionError(f"There is no block {block} in stage {stage} of this model.")
        self.stage, self.block = stage, block
        self.steps: dict[str, torch.Tensor] = {}
        self._norms: list[tuple[int, int, dict[str, torch.Tensor]]] = []
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def __enter__(self) -> BlockRecorder:
        # A recorder used again starts from nothing, rather than mixing two passes.
        self.steps.clear()
        self._norms.clear()
        try:
            for stage, layers in enumerate(self._stages, start=1):
                for block, layer in enumerate(layers, start=1):
                    self._watch_norms(stage, block, layer)
                    if (stage, block) == (self.stage, self.block):
                        self._watch_steps(layer)
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self._remove()

    def _remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _watch_norms(self, stage: int, block: int, layer: nn.Module) -> None:
        norms: dict[str, torch.Tensor] = {}
        self._norms.append((stage, block, norms))
        scale_1, scale_2 = _layer_scales(layer)

        def on_input(_module, args):
            norms["input"] = torch.linalg.vector_norm(args[0])

        def on_mixer(_module, _args, out):
            norms["mixer"] = torch.linalg.vector_norm(scale_1 * out)

        def on_mixed(_module, args):
            norms["mixed"] = torch.linalg.vector_norm(args[0])

        def on_mlp(_module, _args, out):
            norms["mlp"] = torch.linalg.vector_norm(scale_2 * out)

        self._handles += [
            layer.register_forward_pre_hook(on_input),
            layer.pooling.register_forward_hook(on_mixer),
            layer.after_norm.register_forward_pre_hook(on_mixed),
            layer.output.register_forward_hook(on_mlp),
        ]

    def _watch_steps(self, layer: nn.Module) -> None:
        steps = self.steps
        _, scale_2 = _layer_scales(layer)

        def keep(name, transform=lambda t: t):
            def hook(_module, _args, out):
                steps[name] = transform(out).detach()[0]

            return hook

        def keep_input(name):
            def hook(_module, args):
                steps[name] = args[0].detach()[0]

            return hook

        self._handles += [
            layer.register_forward_pre_hook(keep_input("input")),
            layer.before_norm.register_forward_hook(keep("normed")),
            layer.pooling.pool.register_forward_hook(keep("pooled")),
            layer.pooling.register_forward_hook(keep("mixer")),
            layer.after_norm.register_forward_pre_hook(keep_input("mixed")),
            layer.output.register_forward_hook(keep("mlp", lambda out: scale_2 * out)),
            # PoolFormerLayer returns a 1-tuple.
            layer.register_forward_hook(keep("output", lambda out: out[0])),
        ]

    def branch_ratios(self) -> tuple[BranchRatio, ...]:
        """The ratios of every block, once the forward pass has run."""
        ratios = []
        for stage, block, norms in self._norms:
            if len(norms) < 4:
                raise RuntimeError(f"stage {stage} block {block} did not run its pooling and MLP branches")
            ratios.append(
                BranchRatio(
                    stage=stage,
                    block=block,
                    mixer_ratio=_ratio(norms["mixer"], norms["input"]),
                    mlp_ratio=_ratio(norms["mlp"], norms["mixed"]),
                )
            )
        return tuple(ratios)


def _ratio(numerator: torch.Tensor, denominator: torch.Tensor) -> float:
    denominator = float(denominator)
    return float(numerator) / denominator if denominator > 0 else 0.0


def _array(tensor: torch.Tensor) -> np.ndarray:
    return tensor.float().numpy().astype(np.float32, copy=False)


def block_anatomy(
    image: Image.Image | PreparedImage | str,
    variant: str = "s12",
    stage: int = 1,
    block: int = 1,
    cache: ModelCache | None = None,
) -> BlockAnatomy:
    """Every step of block `block` of stage `stage` (both numbered from 1) for `image`, and the
    branch ratios of every block, from one forward pass.

    Raises SelectionError for a stage or block the variant does not have, and the errors of
    `analyze` for a bad image or missing weights.
    """
    prepared = image if isinstance(image, PreparedImage) else prepare_image(image)
    loaded = (cache or shared_cache()).get(variant)
    started = time.perf_counter()
    config = loaded.model.config
    stage = _check_stage(config, stage)
    block = _check_block(config, stage, block)
    pixel_values = _pixel_values(loaded, prepared)

    model = shared_copy(loaded.model)
    with BlockRecorder(model, stage, block) as recorder, torch.inference_mode():
        model.poolformer(pixel_values)
    steps = {name: _array(recorder.steps[name]) for name in STEPS}
    layer = _layers(model)[stage - 1][block - 1]
    scale_1, scale_2 = _layer_scales(layer)
    channels = steps["input"].shape[0]
    return BlockAnatomy(
        variant=loaded.variant,
        stage=stage,
        block=block,
        **steps,
        layer_scale_1=_channel_vector(scale_1, channels),
        layer_scale_2=_channel_vector(scale_2, channels),
        branches=recorder.branch_ratios(),
        pool_size=int(config.pool_size),
        input_image=crop_image(pixel_values[0], loaded.processor),
        seconds=time.perf_counter() - started,
    )


def _channel_vector(scale: torch.Tensor | float, channels: int) -> np.ndarray:
    if isinstance(scale, torch.Tensor):
        return _array(scale.detach().reshape(-1))
    return np.full(channels, scale, dtype=np.float32)


# ---------------------------------------------------------------------------------------------
# Knockouts

MIXER = "mixer"
MLP = "mlp"
KNOCKOUT_PARTS = {MIXER: "token mixing", MLP: "channel MLP"}
_SPEC = re.compile(r"^\s*(?P<part>[a-z]+)\s*(?::\s*(?P<stages>[^:]*))?$", re.IGNORECASE)


class ZeroBranch(nn.Module):
    """A branch that adds nothing to the residual stream: it returns zeros of its input's shape."""

    def __init__(self, replaces: str) -> None:
        super().__init__()
        self.replaces = replaces

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(hidden_states)

    def extra_repr(self) -> str:
        return f"replaces={self.replaces!r}"


@dataclass(frozen=True)
class Knockouts:
    """Which stages (numbered from 1) run with their token mixer or their channel MLP switched off.

    A knocked-out token mixer outputs zeros, so the tokens of that stage exchange no information
    inside its blocks (the patch embeddings between stages are overlapping convolutions and still
    mix neighbours, and GroupNorm's statistics still span the whole map); a knocked-out channel MLP
    adds nothing, so the block only mixes tokens.
    """

    mixer: tuple[int, ...] = ()
    mlp: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        for part in KNOCKOUT_PARTS:
            stages = getattr(self, part)
            numbers = [_whole(s) for s in stages]
            if any(n is None or n < 1 for n in numbers):
                raise KnockoutSpecError(f"Knockout stages are whole numbers from 1; got {list(stages)} for {part}.")
            object.__setattr__(self, part, tuple(sorted(set(numbers))))

    def __bool__(self) -> bool:
        return bool(self.mixer or self.mlp)

    @classmethod
    def parse(cls, specs: Iterable[str], stage_count: int = STAGE_COUNT) -> Knockouts:
        """Knockouts from specs like "mixer", "mixer:1,2" or "mlp:4" (no stages: every stage)."""
        chosen: dict[str, set[int]] = {part: set() for part in KNOCKOUT_PARTS}
        for spec in specs:
            part, stages = parse_knockout_spec(spec, stage_count)
            chosen[part].update(stages)
        return cls(**{part: tuple(stages) for part, stages in chosen.items()})

    def as_dict(self) -> dict[str, list[int]]:
        return {part: list(getattr(self, part)) for part in KNOCKOUT_PARTS}

    def describe(self) -> str:
        """In words, e.g. "token mixing off in stages 1, 2; channel MLP off in stage 4"."""
        parts = []
        for part, words in KNOCKOUT_PARTS.items():
            stages = getattr(self, part)
            if stages:
                noun = "stage" if len(stages) == 1 else "stages"
                parts.append(f"{words} off in {noun} {', '.join(map(str, stages))}")
        return "; ".join(parts) if parts else "nothing knocked out"


def parse_knockout_spec(spec: str, stage_count: int = STAGE_COUNT) -> tuple[str, tuple[int, ...]]:
    """("mixer", (1, 2)) from "mixer:1,2"; every stage when none are given."""
    usage = f"expected mixer or mlp, optionally with stages such as mixer:1,2 (stages 1 to {stage_count})"
    match = _SPEC.match(str(spec))
    if match is None or match["part"].lower() not in KNOCKOUT_PARTS:
        raise KnockoutSpecError(f"{usage}; got {spec!r}.")
    part = match["part"].lower()
    if match["stages"] is None:
        return part, tuple(range(1, stage_count + 1))
    items = [item.strip() for item in match["stages"].split(",")]
    if not all(item.isdigit() for item in items):
        raise KnockoutSpecError(f"{usage}; got {spec!r}.")
    stages = tuple(sorted({int(item) for item in items}))
    outside = [s for s in stages if not 1 <= s <= stage_count]
    if outside:
        raise KnockoutSpecError(f"There is no stage {outside[0]}: stages run from 1 to {stage_count} (in {spec!r}).")
    return part, stages


def knocked_out(model: nn.Module, knockouts: Knockouts) -> nn.Module:
    """`model` itself when nothing is knocked out; otherwise a parameter-sharing copy whose
    chosen stages have their pooling (token mixer) or output (channel MLP) submodule replaced by
    a ZeroBranch. The model passed in is never changed."""
    if not knockouts:
        return model
    stages = _layers(model)
    for part in KNOCKOUT_PARTS:
        for stage in getattr(knockouts, part):
            if stage > len(stages):
                raise KnockoutSpecError(f"There is no stage {stage}: this model has stages 1 to {len(stages)}.")
    model = shared_copy(model)
    stages = _layers(model)
    for stage in knockouts.mixer:
        for layer in stages[stage - 1]:
            layer.pooling = ZeroBranch("pooling")
    for stage in knockouts.mlp:
        for layer in stages[stage - 1]:
            layer.output = ZeroBranch("output")
    return model


# ---------------------------------------------------------------------------------------------
# Receptive fields


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
    stage = _check_stage(config, stage)
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
    stage = _check_stage(config, stage)
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

    @property
    def theoretical_size(self) -> int:
        """The side of the theoretical field in pixels, before clipping to the crop."""
        return self.geometry.size


def receptive_field(
    image: Image.Image | PreparedImage | str,
    variant: str = "s12",
    stage: int = 1,
    y: int = 0,
    x: int = 0,
    cache: ModelCache | None = None,
) -> ReceptiveField:
    """The effective receptive field of position (y, x) (numbered from 0) of stage `stage`
    (numbered from 1) on the crop, beside the theoretical one.

    One forward and one backward pass, through captum's Saliency (|gradient| of the position's
    summed activation with respect to the pixels). Raises SelectionError for a stage or position
    the model does not have at this crop size.
    """
    from captum.attr import Saliency

    prepared = image if isinstance(image, PreparedImage) else prepare_image(image)
    loaded = (cache or shared_cache()).get(variant)
    started = time.perf_counter()
    config = loaded.model.config
    stage = _check_stage(config, stage)
    pixel_values = _pixel_values(loaded, prepared)
    crop_size = tuple(pixel_values.shape[-2:])
    grid = stage_grid_size(config, crop_size, stage)
    position = []
    for name, value, length in (("y", y, grid[0]), ("x", x, grid[1])):
        number = _whole(value)
        if number is None or not 0 <= number < length:
            raise SelectionError(
                f"Position {name}={value!r} is outside stage {stage}'s {grid[0]}x{grid[1]} grid: "
                f"y runs from 0 to {grid[0] - 1} and x from 0 to {grid[1] - 1}."
            )
        position.append(number)
    y, x = position

    def activation(pixels: torch.Tensor) -> torch.Tensor:
        hidden = loaded.model.poolformer(pixels, output_hidden_states=True).hidden_states[stage - 1]
        return hidden[:, :, y, x].sum(dim=1)

    # The parameters are frozen, so the input must ask for gradients for a graph to be built.
    pixel_values.requires_grad_(True)
    with torch.enable_grad():
        saliency = Saliency(activation).attribute(pixel_values, abs=True)
    erf = _array(saliency.detach()[0].sum(dim=0))

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
    )


__all__ = [
    "STEPS",
    "BlockAnatomy",
    "BlockRecorder",
    "BranchRatio",
    "FieldGeometry",
    "Knockouts",
    "ReceptiveField",
    "ZeroBranch",
    "block_anatomy",
    "field_geometry",
    "knocked_out",
    "parse_knockout_spec",
    "receptive_field",
    "shared_copy",
    "stage_grid_size",
]
