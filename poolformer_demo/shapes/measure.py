"""What the bundled task models' cards report, measured on held-out images.

* accuracy, and the pointing game of the deepest stage's Grad-CAM for the true class against the
  objects' masks, beside two maps that know nothing: one peaking at the image centre, one at a
  random pixel (its score is the objects' mean share of the image);
* knockouts (:mod:`poolformer_demo.knockouts`): with the token mixer off in every stage, and with
  the channel MLP off in every stage, how many answers change and what accuracy is left;
* the norms' path between positions (:mod:`.position_paths`): GroupNorm with one group normalises
  each image by the mean and variance of all its positions, so a network can pass information
  between far-apart positions through it. With those statistics fixed to their averages over
  validation images: how many answers change, what accuracy is left (token mixers on, and off as
  well), and which answer the model then gives most often. With each image's statistics swapped for
  those of a donor image of the other label, and of the same label: how many answers follow the
  donor's label and how many are kept, every norm at once and one stage at a time;
* the arrangement of positions: how many answers change when the positions leaving each stage's
  patch embedding are put in a fixed random order;
* how many images have the whole object inside the window a middle stage-4 position sees through the
  patch embeddings alone, and inside some stage-4 position's window;
* the effective receptive field of a stage-4 position with every token mixer off (the mean
  absolute gradient of its activation with respect to the pixels, over held-out images) beside
  the theoretical field of the patch embeddings and the image size: how far a position can see
  without token mixing;
* parameters and multiply-accumulates of one forward pass.

``python -m poolformer_demo.shapes measure --task pairs`` prints these as JSON; with ``--write`` it
also writes them to ``measurement.json`` beside the model, where the app's pages read them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from ..knockouts import Knockouts, knocked_out
from .data import IMAGE_SIZE, TEST_SEED_START, VAL_SEED_START, dilate, pointing_game
from .lab import deepest_cams
from .position_paths import (
    FixedStatisticsNorm,
    StatisticsSwap,
    object_windows,
    patch_embedding_geometry,
    shuffled_predictions,
    statistics_swap,
    with_fixed_norm_statistics,
)
from .tasks import TASKS
from .train import predictions, to_pixel_values

__all__ = [
    "MEASUREMENT_FILE",
    "FieldMeasurement",
    "FixedStatisticsNorm",
    "ModelMeasurement",
    "StatisticsSwap",
    "count_macs",
    "mixerless_field",
    "measure_model",
    "predictions",
    "with_fixed_norm_statistics",
]


# Validation images whose average norm statistics replace each image's own.
CALIBRATION_IMAGES = 100
# Beside the weights: what the pages quote, read by poolformer_demo.variants.BundledFacts.
MEASUREMENT_FILE = "measurement.json"


@dataclass(frozen=True)
class FieldMeasurement:
    """A stage-4 position's field with every token mixer off."""

    stage: int
    position: tuple[int, int]
    image_size: int
    theoretical_px: int
    """Side of the window the patch embeddings alone reach, before clipping to the image."""
    effective_px: int
    """Side of the smallest centred square holding 95 % of the mean |gradient|."""
    half_mass_px: int
    """Side of the smallest centred square holding half of it."""
    share_within_theoretical: float
    """The share of the mean |gradient| inside the theoretical window (the rest reaches it through
    GroupNorm's statistics, which span the whole map)."""


@dataclass(frozen=True)
class ModelMeasurement:
    task: str
    images: int
    accuracy: float
    pointing_game: float
    centre_baseline: float
    chance_pointing: float
    mixer_off_accuracy: float
    mixer_off_changed: float
    """The share of held-out images whose predicted class changes with the token mixer off in every stage."""
    mlp_off_accuracy: float
    mlp_off_changed: float
    """The same with the channel MLP off in every stage."""
    fixed_norm_accuracy: float
    fixed_norm_changed: float
    """The same with every norm's mean and variance fixed to their averages over validation images
    (:func:`with_fixed_norm_statistics`), the token mixers on: GroupNorm's path between positions cut."""
    fixed_norm_mixer_off_accuracy: float
    """Accuracy with that path cut and every token mixer off: nothing moves between positions in the blocks."""
    fixed_norm_answer: str
    """The answer given most often with the norms' statistics fixed (token mixers on)."""
    fixed_norm_answer_share: float
    """The share of held-out images given that answer: 1.0 when the model answers it for every image."""
    swap_other_label: StatisticsSwap
    """Each image's norm statistics from an image of another label: do the answers follow the donor?"""
    swap_same_label: StatisticsSwap
    """The same from an image of the same label: the control (answers should be kept)."""
    shuffled_changed: tuple[float, ...]
    """The share of answers that change with the positions shuffled after each patch embedding, stage 1 first."""
    object_in_middle_window: float
    """The share of held-out images whose whole object lies in the window the middle stage-4 position
    (``field.position``) sees through the patch embeddings alone."""
    object_in_some_window: float
    """The share whose whole object lies in the window of some stage-4 position."""
    parameters: int
    macs: int
    field: FieldMeasurement

    def as_dict(self) -> dict:
        return asdict(self)


def count_macs(model: nn.Module, image_size: int) -> int:
    """Multiply-accumulates of one forward pass at ``image_size`` px: convolutions and linear layers
    (the pools' additions and the norms are a few per element and left out, as is usual)."""
    total = [0]

    def conv_hook(module, _inputs, output):
        per_output = module.in_channels // module.groups * math.prod(module.kernel_size)
        total[0] += output.numel() * per_output

    def linear_hook(module, _inputs, output):
        total[0] += output.numel() * module.in_features

    handles = []
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            handles.append(module.register_forward_hook(conv_hook))
        elif isinstance(module, nn.Linear):
            handles.append(module.register_forward_hook(linear_hook))
    try:
        with torch.no_grad():
            model.eval()(pixel_values=torch.zeros(1, 3, image_size, image_size))
    finally:
        for handle in handles:
            handle.remove()
    return total[0]


def mixerless_field(model: nn.Module, images_uint8: np.ndarray, stage: int | None = None) -> FieldMeasurement:
    """The effective field of the central position of ``stage`` (default: the deepest) with every
    token mixer off, averaged over ``images_uint8``."""
    config = model.config
    stage = stage or len(config.depths)
    off = knocked_out(model, Knockouts(mixer=tuple(range(1, len(config.depths) + 1)))).eval()
    pixels = to_pixel_values(images_uint8).requires_grad_(True)
    with torch.enable_grad():
        hidden = off.poolformer(pixels, output_hidden_states=True).hidden_states[stage - 1]
        y, x = hidden.shape[-2] // 2, hidden.shape[-1] // 2
        (gradient,) = torch.autograd.grad(hidden[:, :, y, x].sum(), pixels)
    erf = gradient.abs().sum(dim=1).mean(dim=0).numpy().astype(np.float64)
    size = erf.shape[0]
    total = erf.sum()
    # With the mixers off only the patch embeddings widen the field: the geometry without pools.
    geometry = patch_embedding_geometry(config, stage)
    top, bottom = geometry.span(y, size)
    left, right = geometry.span(x, size)
    theory_share = float(erf[top:bottom, left:right].sum() / total) if total > 0 else 0.0
    cy = geometry.offset + y * geometry.jump + geometry.size / 2
    cx = geometry.offset + x * geometry.jump + geometry.size / 2

    def square_holding(share: float) -> int:
        for side in range(2, 2 * size + 1, 2):
            t, b = max(0, int(cy - side / 2)), min(size, int(cy + side / 2))
            lft, r = max(0, int(cx - side / 2)), min(size, int(cx + side / 2))
            if erf[t:b, lft:r].sum() >= share * total:
                return side
        return 2 * size

    return FieldMeasurement(
        stage=stage,
        position=(y, x),
        image_size=size,
        theoretical_px=geometry.size,
        effective_px=square_holding(0.95),
        half_mass_px=square_holding(0.5),
        share_within_theoretical=theory_share,
    )


def measure_model(model: nn.Module, task: str, count: int = 500, tolerance_px: int = 3) -> ModelMeasurement:
    """Every figure of the model card, on ``count`` held-out images of ``task`` (test seed range)."""
    data = TASKS[task].generate(count, TEST_SEED_START)
    model.eval()
    predicted = predictions(model, data.images)
    stages = tuple(range(1, len(model.config.depths) + 1))
    predicted_off = predictions(knocked_out(model, Knockouts(mixer=stages)), data.images)
    predicted_no_mlp = predictions(knocked_out(model, Knockouts(mlp=stages)), data.images)
    fixed = with_fixed_norm_statistics(model, TASKS[task].generate(CALIBRATION_IMAGES, VAL_SEED_START).images)
    predicted_fixed = predictions(fixed, data.images)
    predicted_fixed_off = predictions(knocked_out(fixed, Knockouts(mixer=stages)), data.images)
    answer_counts = np.bincount(predicted_fixed, minlength=len(TASKS[task].class_names))
    middle_window, some_window = object_windows(data.masks, model.config)
    cams = deepest_cams(model, data.images, data.labels, IMAGE_SIZE)
    grown = [dilate(m, tolerance_px) for m in data.masks]
    centre = IMAGE_SIZE // 2
    return ModelMeasurement(
        task=task,
        images=count,
        accuracy=float((predicted == data.labels).mean()),
        pointing_game=float(pointing_game(cams, data.masks, tolerance_px).mean()),
        centre_baseline=float(np.mean([g[centre, centre] for g in grown])),
        chance_pointing=float(np.mean([g.mean() for g in grown])),
        mixer_off_accuracy=float((predicted_off == data.labels).mean()),
        mixer_off_changed=float((predicted_off != predicted).mean()),
        mlp_off_accuracy=float((predicted_no_mlp == data.labels).mean()),
        mlp_off_changed=float((predicted_no_mlp != predicted).mean()),
        fixed_norm_accuracy=float((predicted_fixed == data.labels).mean()),
        fixed_norm_changed=float((predicted_fixed != predicted).mean()),
        fixed_norm_mixer_off_accuracy=float((predicted_fixed_off == data.labels).mean()),
        fixed_norm_answer=TASKS[task].class_names[int(answer_counts.argmax())],
        fixed_norm_answer_share=float(answer_counts.max() / count),
        swap_other_label=statistics_swap(model, data.images, data.labels, same_label=False, answers=predicted),
        swap_same_label=statistics_swap(model, data.images, data.labels, same_label=True, answers=predicted),
        shuffled_changed=tuple(
            float((shuffled_predictions(model, data.images, s) != predicted).mean()) for s in stages
        ),
        object_in_middle_window=middle_window,
        object_in_some_window=some_window,
        parameters=sum(p.numel() for p in model.parameters()),
        macs=count_macs(model, data.images.shape[1]),
        field=mixerless_field(model, data.images[:50]),
    )
