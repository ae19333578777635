"""Inside the MetaFormer block: one block's steps, and how much each branch changes the residual
stream in every block.

transformers' `PoolFormerLayer` computes, for a block input x (Yu et al., CVPR 2022, Eq. 1-2 with
pooling as the token mixer):
    n = before_norm(x),   mixer = AvgPool(n) - n,   mixed = x + layer_scale_1 * mixer,
    mlp = layer_scale_2 * MLP(after_norm(mixed)),   output = mixed + mlp.

The hooks that record them go on a `shared_copy` of the cached model, never on the model itself:
it serves other requests on other threads at the same time. Knockouts are in `knockouts`,
receptive fields in `receptive_field`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from .blocks import (
    as_float32,
    block_inputs,
    layer_scales,
    shared_copy,
    stage_layers,
)
from .errors import SelectionError
from .i18n import Said
from .images import PreparedImage, crop_image
from .json_data import rounded_seconds
from .variants import DEFAULT_VARIANT, Variant
from .weights import ModelCache

# The steps of one block, in the order the block computes them.
STEPS = ("input", "normed", "pooled", "mixer", "mixed", "mlp", "output")


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

    def to_json(self) -> dict:
        """The block as plain JSON data: where it is, its maps' shape [C, H, W], the pool size and
        every block's branch ratios. The step maps are arrays for the exports' npz."""
        return {
            "variant": self.variant.name,
            "stage": self.stage,
            "block": self.block,
            "shape": list(self.input.shape),
            "pool_size": self.pool_size,
            "branches": [
                {
                    "stage": b.stage,
                    "block": b.block,
                    "mixer_ratio": float(b.mixer_ratio),
                    "mlp_ratio": float(b.mlp_ratio),
                }
                for b in self.branches
            ],
            "seconds": rounded_seconds(self.seconds),
        }


class BlockRecorder:
    """Forward hooks that record, in one forward pass, the branch norms of every PoolFormerLayer
    and every step of one chosen layer.

    A context manager: the hooks are registered on entry and removed on exit, whatever happens
    in between. Use it on a `shared_copy` of a model that other threads may be running.
    """

    def __init__(self, model: nn.Module, stage: int, block: int) -> None:
        self._stages = stage_layers(model)
        if not 1 <= stage <= len(self._stages) or not 1 <= block <= len(self._stages[stage - 1]):
            raise SelectionError(Said("error.block.none", block=block, stage=stage))
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
        scale_1, scale_2 = layer_scales(layer)

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
        _, scale_2 = layer_scales(layer)

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


def block_anatomy(
    image: Image.Image | PreparedImage | str,
    variant: str = DEFAULT_VARIANT,
    stage: int = 1,
    block: int = 1,
    cache: ModelCache | None = None,
) -> BlockAnatomy:
    """Every step of block `block` of stage `stage` (both numbered from 1) for `image`, and the
    branch ratios of every block, from one forward pass.

    Raises SelectionError for a stage or block the variant does not have, and the errors of
    `analyze` for a bad image or missing weights.
    """
    loaded, stage, block, pixel_values = block_inputs(image, variant, stage, block, cache)
    started = time.perf_counter()

    model = shared_copy(loaded.model)
    with BlockRecorder(model, stage, block) as recorder, torch.inference_mode():
        model.poolformer(pixel_values)
    steps = {name: as_float32(recorder.steps[name]) for name in STEPS}
    layer = stage_layers(model)[stage - 1][block - 1]
    scale_1, scale_2 = layer_scales(layer)
    channels = steps["input"].shape[0]
    return BlockAnatomy(
        variant=loaded.variant,
        stage=stage,
        block=block,
        **steps,
        layer_scale_1=_channel_vector(scale_1, channels),
        layer_scale_2=_channel_vector(scale_2, channels),
        branches=recorder.branch_ratios(),
        pool_size=int(loaded.model.config.pool_size),
        input_image=crop_image(pixel_values[0], loaded.processor),
        seconds=time.perf_counter() - started,
    )


def _channel_vector(scale: torch.Tensor | float, channels: int) -> np.ndarray:
    if isinstance(scale, torch.Tensor):
        return as_float32(scale.detach().reshape(-1))
    return np.full(channels, scale, dtype=np.float32)


__all__ = [
    "STEPS",
    "BlockAnatomy",
    "BlockRecorder",
    "BranchRatio",
    "block_anatomy",
]
