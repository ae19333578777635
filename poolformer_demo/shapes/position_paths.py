"""What carries information between positions in a trained PoolFormer, measured on held-out images.

* **The norms.** PoolFormer's ``GroupNorm`` with one group normalises each image by one mean and one
  variance taken over all its positions and channels, so every normalised value depends on the whole
  image. Two ways to see what passes through them: every norm's statistics *fixed* to their average
  over other images (the path cut), and every norm's statistics (or one stage's) *swapped* for those
  of a donor image, of the other label or of the same label (the path fed with another image's two
  numbers per norm). Both keep each norm's learned scale and shift.
* **The arrangement of positions.** One fixed random permutation of a stage's positions, applied to
  the map right after that stage's patch embedding: answers that do not change show that nothing
  after that point uses where things are.
* **The windows.** How many images have the whole object inside the window that one stage-4 position
  sees through the patch embeddings alone (a claim about the images, independent of any model).
"""

from __future__ import annotations

import copy
import re
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from ..blocks import shared_copy
from ..receptive_field import FieldGeometry, field_geometry
from .arms import stage_grids
from .train import predictions

__all__ = [
    "FixedStatisticsNorm",
    "StatisticsSwap",
    "donors",
    "norm_statistics",
    "norm_stage",
    "object_windows",
    "one_group_norms",
    "patch_embedding_geometry",
    "shuffled_predictions",
    "statistics_swap",
    "swapped_predictions",
    "with_fixed_norm_statistics",
    "with_norm_statistics",
    "with_shuffled_positions",
]

OTHER_LABEL = "other label"
SAME_LABEL = "same label"
_BLOCK_NORM = re.compile(r"encoder\.block\.(\d+)\.\d+\.")


class FixedStatisticsNorm(nn.Module):
    """A one-group GroupNorm whose mean and variance are given instead of taken from the image it
    normalises, with the norm's learned scale and shift: one pair of numbers for every image (their
    averages over other images: nothing passes from one position to another), or one pair per image
    of the batch (another image's: that image's two numbers pass instead)."""

    def __init__(self, norm: nn.GroupNorm, mean: float | torch.Tensor, variance: float | torch.Tensor):
        super().__init__()
        self.weight, self.bias, self.eps = norm.weight, norm.bias, norm.eps
        self.mean, self.variance = mean, variance

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        mean = torch.as_tensor(self.mean, dtype=hidden_states.dtype).reshape(-1, 1, 1, 1)
        variance = torch.as_tensor(self.variance, dtype=hidden_states.dtype).reshape(-1, 1, 1, 1)
        normalised = (hidden_states - mean) / torch.sqrt(variance + self.eps)
        return normalised * self.weight[:, None, None] + self.bias[:, None, None]


def one_group_norms(model: nn.Module) -> dict[str, nn.GroupNorm]:
    """Every GroupNorm with one group in ``model``, by module name (two per block, one before the classifier)."""
    return {name: m for name, m in model.named_modules() if isinstance(m, nn.GroupNorm) and m.num_groups == 1}


def norm_stage(name: str, stage_count: int) -> int:
    """The stage (from 1) a norm belongs to: a block's norms to the block's stage, the norm before the
    classifier to the last stage, whose map it normalises."""
    found = _BLOCK_NORM.search(name)
    return int(found.group(1)) + 1 if found else stage_count


def norm_statistics(model: nn.Module, images_uint8: np.ndarray) -> dict[str, np.ndarray]:
    """Each one-group norm's mean and variance on each image in the model's own forward pass, by norm
    name: arrays of shape (N, 2)."""
    seen: dict[str, list[np.ndarray]] = {name: [] for name in one_group_norms(model)}

    def record(name):
        def hook(_module, inputs, _output):
            flat = inputs[0].flatten(1)
            seen[name].append(torch.stack([flat.mean(1), flat.var(1, unbiased=False)], dim=1).cpu().numpy())

        return hook

    handles = [m.register_forward_hook(record(name)) for name, m in one_group_norms(model).items()]
    try:
        predictions(model, images_uint8)
    finally:
        for handle in handles:
            handle.remove()
    return {name: np.concatenate(parts).astype(np.float64) for name, parts in seen.items()}


def with_norm_statistics(model: nn.Module, statistics: dict[str, tuple]) -> nn.Module:
    """A parameter-sharing copy of ``model`` whose named norms use the given (mean, variance): floats
    for every image, or tensors with one value per image of the batch (the model itself is not changed)."""
    fixed = shared_copy(model)
    norms = one_group_norms(model)
    for name, (mean, variance) in statistics.items():
        parent_name, _, attribute = name.rpartition(".")
        parent = fixed.get_submodule(parent_name) if parent_name else fixed
        setattr(parent, attribute, FixedStatisticsNorm(norms[name], mean, variance))
    return fixed


def with_fixed_norm_statistics(model: nn.Module, images_uint8: np.ndarray) -> nn.Module:
    """A parameter-sharing copy of ``model`` whose one-group norms use the mean and variance they see
    on average over ``images_uint8``, whatever image they normalise."""
    averages = {name: stats.mean(axis=0) for name, stats in norm_statistics(model, images_uint8).items()}
    return with_norm_statistics(model, {name: (float(m), float(v)) for name, (m, v) in averages.items()})


def donors(labels: np.ndarray, same_label: bool) -> np.ndarray:
    """For each image, the index of the next image after it (wrapping round) whose label differs from its
    own, or (``same_label``) is the same; the image itself where there is none."""
    labels = np.asarray(labels)
    count = len(labels)
    chosen = np.arange(count)
    for i in range(count):
        for step in range(1, count):
            j = (i + step) % count
            if (labels[j] == labels[i]) == same_label:
                chosen[i] = j
                break
    return chosen


def swapped_predictions(
    model: nn.Module,
    images_uint8: np.ndarray,
    statistics: dict[str, np.ndarray],
    donor: np.ndarray,
    stages: tuple[int, ...],
    batch_size: int = 100,
) -> np.ndarray:
    """The answers when image i is normalised, in the norms of ``stages``, by the statistics that image
    ``donor[i]`` has there in its own forward pass (``statistics`` from :func:`norm_statistics`)."""
    stage_count = len(model.config.depths)
    names = [name for name in statistics if norm_stage(name, stage_count) in stages]
    out = []
    for start in range(0, len(images_uint8), batch_size):
        picked = donor[start : start + batch_size]
        given = {
            name: (torch.from_numpy(statistics[name][picked, 0]), torch.from_numpy(statistics[name][picked, 1]))
            for name in names
        }
        swapped = with_norm_statistics(model, given)
        out.append(predictions(swapped, images_uint8[start : start + batch_size], batch_size))
    return np.concatenate(out)


@dataclass(frozen=True)
class StatisticsSwap:
    """Each held-out image run with its norms' mean and variance taken from a donor image."""

    donor: str
    """"other label" or "same label": the donor's label against the image's own."""
    to_donor_label: float
    """The share of images answered with the donor's label, every norm swapped."""
    kept: float
    """The share of images whose answer does not change, every norm swapped."""
    stage_to_donor_label: tuple[float, ...]
    """The same as ``to_donor_label`` with only one stage's norms swapped, stage 1 first (the norm
    before the classifier counts with the last stage)."""
    stage_kept: tuple[float, ...]

    def as_dict(self) -> dict:
        return asdict(self)


def statistics_swap(
    model: nn.Module, images_uint8: np.ndarray, labels: np.ndarray, same_label: bool, answers: np.ndarray | None = None
) -> StatisticsSwap:
    """Swap the norms' statistics of each image for a donor's (:func:`donors`), all at once and stage by stage."""
    answers = predictions(model, images_uint8) if answers is None else answers
    statistics = norm_statistics(model, images_uint8)
    donor = donors(labels, same_label)
    stage_count = len(model.config.depths)

    def outcome(stages: tuple[int, ...]) -> tuple[float, float]:
        swapped = swapped_predictions(model, images_uint8, statistics, donor, stages)
        return float((swapped == labels[donor]).mean()), float((swapped == answers).mean())

    to_donor, kept = outcome(tuple(range(1, stage_count + 1)))
    per_stage = [outcome((stage,)) for stage in range(1, stage_count + 1)]
    return StatisticsSwap(
        donor=SAME_LABEL if same_label else OTHER_LABEL,
        to_donor_label=to_donor,
        kept=kept,
        stage_to_donor_label=tuple(d for d, _ in per_stage),
        stage_kept=tuple(k for _, k in per_stage),
    )


def with_shuffled_positions(model: nn.Module, stage: int, seed: int = 0) -> nn.Module:
    """A parameter-sharing copy of ``model`` that puts the positions of the map leaving ``stage``'s patch
    embedding in one fixed random order (the same for every channel and image)."""
    shuffled = shared_copy(model)
    embedding = shuffled.poolformer.encoder.patch_embeddings[stage - 1]
    generator = torch.Generator().manual_seed(seed)
    order: list[torch.Tensor] = []

    def permute(_module, _inputs, output):
        b, c, h, w = output.shape
        if not order:
            order.append(torch.randperm(h * w, generator=generator))
        return output.reshape(b, c, h * w)[:, :, order[0]].reshape(b, c, h, w)

    embedding.register_forward_hook(permute)
    return shuffled


def shuffled_predictions(model: nn.Module, images_uint8: np.ndarray, stage: int, seed: int = 0) -> np.ndarray:
    """The answers with the positions shuffled after ``stage``'s patch embedding (:func:`with_shuffled_positions`)."""
    return predictions(with_shuffled_positions(model, stage, seed), images_uint8)


def patch_embedding_geometry(config, stage: int) -> FieldGeometry:
    """The theoretical field of ``stage``'s positions through the patch embeddings alone (the field with
    every token mixer off)."""
    patches_only = copy.deepcopy(config)
    patches_only.depths = [0] * len(config.depths)
    return field_geometry(patches_only, stage)


def object_windows(masks: np.ndarray, config, stage: int | None = None) -> tuple[float, float]:
    """The share of images whose whole object (every mask pixel) lies inside the window that the
    middle position of ``stage`` (default the deepest; the position
    :func:`~poolformer_demo.shapes.measure.mixerless_field` measures) sees through the patch embeddings
    alone, and the share whose object lies inside the window of some position of that stage."""
    stage = stage or len(config.depths)
    geometry = patch_embedding_geometry(config, stage)
    size = masks.shape[-1]
    side = stage_grids(config, size)[stage - 1]
    spans = [geometry.span(i, size) for i in range(side)]
    # An object fits a square window when its rows fit the window's rows and its columns its columns.
    rows, cols = masks.any(axis=2), masks.any(axis=1)

    def inside(extent: np.ndarray, span: tuple[int, int]) -> np.ndarray:
        outside = np.ones(size, dtype=bool)
        outside[span[0] : span[1]] = False
        return ~(extent & outside).any(axis=1)

    middle = spans[side // 2]
    in_middle = inside(rows, middle) & inside(cols, middle)
    in_some = np.any([inside(rows, s) for s in spans], axis=0) & np.any([inside(cols, s) for s in spans], axis=0)
    return float(in_middle.mean()), float(in_some.mean())
