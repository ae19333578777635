"""What the bundled task models' cards report, measured on held-out images.

* accuracy, and the pointing game of the deepest stage's Grad-CAM for the true class against the
  objects' masks, beside two maps that know nothing: one peaking at the image centre, one at a
  random pixel (its score is the objects' mean share of the image);
* knockouts (:mod:`poolformer_demo.knockouts`): with the token mixer off in every stage, and with
  the channel MLP off in every stage, how many answers change and what accuracy is left;
* the norms' path between positions: GroupNorm with one group normalises each image by the mean
  and variance of all its positions, so a network can pass information between far-apart
  positions through it; with those statistics fixed to their averages over validation images,
  how many answers change and what accuracy is left (token mixers on), and the accuracy with
  the token mixers off as well;
* the effective receptive field of a stage-4 position with every token mixer off (the mean
  absolute gradient of its activation with respect to the pixels, over held-out images) beside
  the theoretical field of the patch embeddings and the image size: how far a position can see
  without token mixing;
* parameters and multiply-accumulates of one forward pass.

``python -m poolformer_demo.shapes measure --task pairs`` prints these as JSON; with ``--write`` it
also writes them to ``measurement.json`` beside the model, where the app's pages read them.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from ..blocks import shared_copy
from ..knockouts import Knockouts, knocked_out
from ..receptive_field import field_geometry
from .data import IMAGE_SIZE, TEST_SEED_START, VAL_SEED_START, dilate, pointing_game
from .lab import deepest_cams
from .tasks import TASKS
from .train import to_pixel_values

__all__ = [
    "MEASUREMENT_FILE",
    "FieldMeasurement",
    "FixedStatisticsNorm",
    "ModelMeasurement",
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
    parameters: int
    macs: int
    field: FieldMeasurement

    def as_dict(self) -> dict:
        return asdict(self)


class FixedStatisticsNorm(nn.Module):
    """A one-group GroupNorm whose mean and variance are constants (their averages over a set of
    images) instead of each image's own, with the norm's learned scale and shift: a norm through
    which nothing passes from one position to another."""

    def __init__(self, norm: nn.GroupNorm, mean: float, variance: float):
        super().__init__()
        self.weight, self.bias, self.eps = norm.weight, norm.bias, norm.eps
        self.mean, self.variance = mean, variance

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        normalised = (hidden_states - self.mean) / math.sqrt(self.variance + self.eps)
        return normalised * self.weight[:, None, None] + self.bias[:, None, None]


def with_fixed_norm_statistics(model: nn.Module, images_uint8: np.ndarray) -> nn.Module:
    """A parameter-sharing copy of ``model`` whose one-group GroupNorms use the mean and variance
    they see on average over ``images_uint8`` (the model itself is not changed)."""
    norms = {name: m for name, m in model.named_modules() if isinstance(m, nn.GroupNorm) and m.num_groups == 1}
    seen: dict[str, list[tuple[float, float]]] = {name: [] for name in norms}

    def record(name):
        def hook(_module, inputs, _output):
            flat = inputs[0].flatten(1)
            seen[name].append((float(flat.mean(1).mean()), float(flat.var(1, unbiased=False).mean())))

        return hook

    handles = [m.register_forward_hook(record(name)) for name, m in norms.items()]
    try:
        predictions(model, images_uint8)
    finally:
        for handle in handles:
            handle.remove()
    fixed = shared_copy(model)
    for name, norm in norms.items():
        parent_name, _, attribute = name.rpartition(".")
        parent = fixed.get_submodule(parent_name) if parent_name else fixed
        mean, variance = np.mean(seen[name], axis=0)
        setattr(parent, attribute, FixedStatisticsNorm(norm, float(mean), float(variance)))
    return fixed


def predictions(model: nn.Module, images_uint8: np.ndarray, batch_size: int = 100) -> np.ndarray:
    """The predicted class of each image (N,)."""
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images_uint8), batch_size):
            out.append(model(pixel_values=to_pixel_values(images_uint8[i : i + batch_size])).logits.argmax(-1))
    model.train(was_training)
    return torch.cat(out).numpy()


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
    patches_only = copy.deepcopy(config)
    patches_only.depths = [0] * len(config.depths)
    geometry = field_geometry(patches_only, stage)
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
        parameters=sum(p.numel() for p in model.parameters()),
        macs=count_macs(model, data.images.shape[1]),
        field=mixerless_field(model, data.images[:50]),
    )
