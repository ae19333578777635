"""The token mixer you can touch: for one token (a position of a stage's grid), what PoolFormer's
token mixer reads and passes on, beside what self-attention would do with the same features.

PoolFormer's token mixer (Yu et al., "MetaFormer Is Actually What You Need for Vision", CVPR 2022)
is `AvgPool(n) - n` on the normalised map n = before_norm(x): transformers' `PoolFormerPooling`
runs `nn.AvgPool2d(pool_size, stride=1, padding=pool_size // 2, count_include_pad=False)`, so at a
border the window is cut and the average is over the positions inside it. Here that is computed by
hand from the map the block's `pooling` module receives, and the module's own output at the token
is recorded beside it, so the two can be checked against each other.

The attention beside it is an illustration, not a trained model: softmax(n_i · n_j / sqrt(C)) over
every token of the stage, with the normalised features themselves as queries and keys. A trained
attention layer learns its own query and key projections; what carries over is the shape of the
computation: every token reads every other, N reads per token against pool_size² for pooling.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from .blocks import (
    as_float32,
    block_inputs,
    check_position,
    shared_copy,
    stage_layers,
    whole_number,
)
from .errors import SelectionError
from .i18n import Said
from .images import PreparedImage, crop_image
from .variants import Variant
from .weights import ModelCache

# A class reads a handful of channels; more would not fit a phone's width.
CHANNEL_COUNT = 4
ATTENTION_METHOD = (
    "an illustration, not a trained attention model: softmax(n_i · n_j / √C) over every token of the stage, "
    "with the normalised features n themselves as queries and keys (C = {channels} channels)"
)


@dataclass(frozen=True)
class ChannelWindow:
    """One channel's pooling window around the token, and what the mixer makes of it."""

    channel: int
    values: np.ndarray
    """float32 [rows, cols]: n inside the window, cut at the grid's borders."""
    mean: float
    """The average over the positions inside the window (count_include_pad=False)."""
    token: float
    """n at the token itself."""
    output: float
    """mean - token: what the token mixer passes on, computed here from the window."""
    model_output: float
    """What the block's own `pooling` module returned at the token (from a forward hook)."""


@dataclass(frozen=True)
class StageCost:
    """What mixing costs per token at one stage of this model, for this crop."""

    stage: int
    grid_size: tuple[int, int]
    tokens: int
    """N, the stage's number of tokens (rows x columns)."""
    pooling_reads: int
    """pool_size²: the positions one pooling window reads (fewer at a border)."""
    attention_reads: int
    """N: self-attention reads every token's key for every query."""


@dataclass(frozen=True)
class TokenMixing:
    """One token of one block's token mixer, a few channels at a time, and attention beside it."""

    variant: Variant
    stage: int
    block: int
    y: int
    x: int
    """The token's grid position (row, column), numbered from 0 at the top left."""
    grid_size: tuple[int, int]
    pool_size: int
    """From the model's config."""
    window: tuple[int, int, int, int]
    """The pooling window on the grid as (top, left, bottom, right), ends exclusive, cut at the borders."""
    channels: tuple[ChannelWindow, ...]
    channel_choice: str
    """How the channels were chosen, in words."""
    channel_maps: np.ndarray
    """float32 [len(channels), H, W]: n over the whole stage for each shown channel, in the same order."""
    attention: np.ndarray
    """float32 [H, W]: the illustrative attention weights of this token over every token; they sum to 1."""
    attention_method: str
    costs: tuple[StageCost, ...]
    """One entry per stage of the model, from stage 1."""
    input_image: Image.Image
    """The crop the model saw, as RGB."""
    seconds: float
    """Preprocessing, the forward pass and the attention; model loading excluded."""

    @property
    def window_positions(self) -> int:
        """How many positions the window holds here (pool_size² inside the grid, fewer at a border)."""
        top, left, bottom, right = self.window
        return (bottom - top) * (right - left)

    @property
    def uncut_window(self) -> tuple[int, int, int, int]:
        """The window before the cut: pool_size x pool_size positions around the token, some maybe off the grid."""
        return uncut_window(self.pool_size, self.y, self.x)

    @property
    def tokens(self) -> int:
        return self.grid_size[0] * self.grid_size[1]

    @property
    def attention_on_token(self) -> float:
        """The share of the attention weight on the token itself."""
        return float(self.attention[self.y, self.x])

    @property
    def attention_outside_window(self) -> float:
        """The share of the attention weight on tokens the pooling window does not read."""
        top, left, bottom, right = self.window
        return float(1.0 - self.attention[top:bottom, left:right].sum(dtype=np.float64))

    @property
    def attention_effective_tokens(self) -> float:
        """1 / Σ w²: how many tokens the weight is spread over (1: all on one; N: even)."""
        return float(1.0 / np.square(self.attention, dtype=np.float64).sum())

    def to_json(self) -> dict:
        """The numbers as JSON-ready data (the API's answer, the CLI's file)."""
        top, left, bottom, right = self.window
        return {
            "variant": self.variant.name,
            "stage": self.stage,
            "block": self.block,
            "position": {"y": self.y, "x": self.x},
            "grid_size": list(self.grid_size),
            "pool_size": self.pool_size,
            "window": {"top": top, "left": left, "bottom": bottom, "right": right, "positions": self.window_positions},
            "channel_choice": str(self.channel_choice),
            "channels": [
                {
                    "channel": c.channel,
                    "window": c.values.astype(float).tolist(),
                    "mean": c.mean,
                    "token": c.token,
                    "output": c.output,
                    "model_output": c.model_output,
                }
                for c in self.channels
            ],
            "attention": {
                "method": self.attention_method,
                "weights": self.attention.astype(float).tolist(),
                "on_token": self.attention_on_token,
                "outside_window": self.attention_outside_window,
                "effective_tokens": self.attention_effective_tokens,
            },
            "costs": [_cost_json(c) for c in self.costs],
            "seconds": round(self.seconds, 4),
        }


@contextmanager
def watching_pooling(layer: nn.Module) -> Iterator[dict[str, torch.Tensor]]:
    """A forward hook on one block's token mixer: while it is open, the returned dict receives the
    map the mixer was given ("input") and what it returned ("output"), each [C, H, W] of the first
    image. Put it on a `shared_copy` of a model that other threads may be running."""
    seen: dict[str, torch.Tensor] = {}

    def hook(_module, args, output):
        seen["input"], seen["output"] = args[0].detach()[0], output.detach()[0]

    handle = layer.pooling.register_forward_hook(hook)
    try:
        yield seen
    finally:
        handle.remove()


def uncut_window(pool_size: int, y: int, x: int) -> tuple[int, int, int, int]:
    """The pool_size x pool_size positions AvgPool2d(pool_size, stride=1, padding=pool_size // 2)
    centres on output (y, x), as (top, left, bottom, right) with ends exclusive; some may lie off the grid."""
    top, left = y - pool_size // 2, x - pool_size // 2
    return top, left, top + pool_size, left + pool_size


def pooling_window(grid_size: tuple[int, int], pool_size: int, y: int, x: int) -> tuple[int, int, int, int]:
    """The positions the pool averages for output (y, x): the uncut window cut at the grid's borders."""
    top, left, bottom, right = uncut_window(pool_size, y, x)
    return max(0, top), max(0, left), min(grid_size[0], bottom), min(grid_size[1], right)


def attention_weights(features: torch.Tensor, y: int, x: int) -> np.ndarray:
    """softmax(q · k / √C) of token (y, x) over every token of a [C, H, W] map, the features
    themselves as queries and keys: [H, W] weights that sum to 1."""
    channels, height, width = features.shape
    keys = features.reshape(channels, height * width).double()
    query = features[:, y, x].double()
    weights = torch.softmax(query @ keys / channels**0.5, dim=0)
    return as_float32(weights.reshape(height, width))


@dataclass(frozen=True)
class MixerMaps:
    """What one block's token mixer received and returned for every token of one image: one forward
    pass, from which any token is read in milliseconds (`token_at`). Keep it in a store to answer a
    student's clicks without running the model again."""

    variant: Variant
    stage: int
    block: int
    pool_size: int
    normed: np.ndarray
    """float32 [C, H, W]: n = before_norm(x), the map the block's `pooling` module received."""
    mixer: np.ndarray
    """float32 [C, H, W]: what the module returned, AvgPool(n) - n."""
    costs: tuple[StageCost, ...]
    input_image: Image.Image
    seconds: float
    """Preprocessing and the forward pass; model loading excluded."""

    @property
    def grid_size(self) -> tuple[int, int]:
        return int(self.normed.shape[1]), int(self.normed.shape[2])

    def to_json(self) -> dict:
        return {
            "variant": self.variant.name,
            "stage": self.stage,
            "block": self.block,
            "pool_size": self.pool_size,
            "grid_size": list(self.grid_size),
            "channels": int(self.normed.shape[0]),
            "costs": [_cost_json(c) for c in self.costs],
            "seconds": round(self.seconds, 4),
        }


def _cost_json(cost: StageCost) -> dict:
    return {
        "stage": cost.stage,
        "grid_size": list(cost.grid_size),
        "tokens": cost.tokens,
        "pooling_reads": cost.pooling_reads,
        "attention_reads": cost.attention_reads,
    }


def mixer_maps(
    image: Image.Image | PreparedImage | str,
    variant: str,
    stage: int,
    block: int = 1,
    cache: ModelCache | None = None,
) -> MixerMaps:
    """The token mixer of block `block` of stage `stage` (both numbered from 1) on `image`, for every
    token, and the stages' grids for this crop. One forward pass; the module's input and output are
    recorded by a forward hook on a shared copy of the cached model.

    Raises UnknownVariantError for a variant the registry does not have, SelectionError for a stage
    or block the model does not have, and the errors of `analyze` for a bad image or missing weights.
    """
    loaded, stage, block, pixel_values = block_inputs(image, variant, stage, block, cache)
    started = time.perf_counter()
    pool_size = int(loaded.model.config.pool_size)

    model = shared_copy(loaded.model)
    with watching_pooling(stage_layers(model)[stage - 1][block - 1]) as seen, torch.inference_mode():
        hidden_states = model.poolformer(pixel_values, output_hidden_states=True).hidden_states
    costs = []
    for number, hidden in enumerate(hidden_states, start=1):
        rows, cols = int(hidden.shape[-2]), int(hidden.shape[-1])
        costs.append(StageCost(number, (rows, cols), rows * cols, pool_size * pool_size, rows * cols))
    return MixerMaps(
        variant=loaded.variant,
        stage=stage,
        block=block,
        pool_size=pool_size,
        normed=as_float32(seen["input"]),
        mixer=as_float32(seen["output"]),
        costs=tuple(costs),
        input_image=crop_image(pixel_values[0], loaded.processor),
        seconds=time.perf_counter() - started,
    )


def token_at(maps: MixerMaps, y: int, x: int, channels: Sequence[int] | None = None) -> TokenMixing:
    """Token (y, x) (numbered from 0 at the top left) of `maps`, for `channels` (default: the
    CHANNEL_COUNT channels where the mixer's output at the token is largest in size), beside the
    illustrative attention of the same token. Raises SelectionError for a position off the grid or
    a channel the stage does not have."""
    started = time.perf_counter()
    grid_size = maps.grid_size
    y, x = check_position(grid_size, maps.stage, y, x)
    chosen, choice = _channels(maps.mixer[:, y, x], channels)
    window = pooling_window(grid_size, maps.pool_size, y, x)
    top, left, bottom, right = window
    windows = []
    for channel in chosen:
        values = maps.normed[channel, top:bottom, left:right].copy()
        mean = float(values.mean(dtype=np.float64))
        token = float(maps.normed[channel, y, x])
        windows.append(ChannelWindow(channel, values, mean, token, mean - token, float(maps.mixer[channel, y, x])))
    return TokenMixing(
        variant=maps.variant,
        stage=maps.stage,
        block=maps.block,
        y=y,
        x=x,
        grid_size=grid_size,
        pool_size=maps.pool_size,
        window=window,
        channels=tuple(windows),
        channel_choice=choice,
        channel_maps=maps.normed[list(chosen)],
        attention=attention_weights(torch.from_numpy(maps.normed), y, x),
        attention_method=ATTENTION_METHOD.format(channels=maps.normed.shape[0]),
        costs=maps.costs,
        input_image=maps.input_image,
        seconds=maps.seconds + time.perf_counter() - started,
    )


def token_mixing(
    image: Image.Image | PreparedImage | str,
    variant: str,
    stage: int,
    y: int,
    x: int,
    block: int = 1,
    channels: Sequence[int] | None = None,
    cache: ModelCache | None = None,
) -> TokenMixing:
    """What block `block` of stage `stage` (both numbered from 1) mixes into token (y, x) (numbered
    from 0 at the top left) of `image`: `mixer_maps` then `token_at`, with the errors of both."""
    return token_at(mixer_maps(image, variant, stage, block, cache), y, x, channels)


def _channels(mixer_at_token: np.ndarray, channels: Sequence[int] | None) -> tuple[tuple[int, ...], str]:
    count = int(mixer_at_token.shape[0])
    if channels is None or len(channels) == 0:
        # A stable sort, so channels of equal size keep their order from one run to the next.
        order = np.argsort(-np.abs(mixer_at_token), kind="stable")[:CHANNEL_COUNT]
        chosen = tuple(int(c) for c in order)
        return chosen, Said("mixer.channel_choice.largest", count=len(chosen))
    chosen = []
    for value in channels:
        number = whole_number(value)
        if number is None or not 0 <= number < count:
            raise SelectionError(f"There is no channel {value!r}: this stage has channels 0 to {count - 1}.")
        chosen.append(number)
    return tuple(chosen), Said("mixer.channel_choice.given")


__all__ = [
    "CHANNEL_COUNT",
    "ChannelWindow",
    "MixerMaps",
    "StageCost",
    "TokenMixing",
    "attention_weights",
    "mixer_maps",
    "pooling_window",
    "token_at",
    "token_mixing",
    "uncut_window",
    "watching_pooling",
]
