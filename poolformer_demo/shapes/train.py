"""The training loop on the shapes task: a step budget, a progress callback and a stop signal.

:func:`fit` trains any ``PoolFormerForImageClassification`` on a
:class:`~poolformer_demo.shapes.data.ShapeArrays`; the bundled model's recipe
(:mod:`poolformer_demo.shapes.checkpoint`) and every arm of the ablation lab
(:mod:`poolformer_demo.shapes.lab`) run through it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

from ..control import StopCheck, stop_requested
from ..device import on_device
from .data import CLASS_NAMES, ShapeArrays

__all__ = [
    "FitResult",
    "StepReport",
    "TrainSettings",
    "accuracy",
    "fit",
    "init_weights",
    "predictions",
    "to_pixel_values",
]


@dataclass(frozen=True)
class TrainSettings:
    """The optimisation recipe; the defaults are those of the bundled shapes model."""

    seed: int = 0
    train_size: int = 16_000
    val_size: int = 600
    epochs: int = 5
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_fraction: float = 0.04
    layer_scale_init_value: float = 1.0
    seg_weight: float = 0.5
    grad_clip: float = 1.0
    threads: int = 2


@dataclass(frozen=True)
class StepReport:
    """What :func:`fit` tells its progress callback after each step."""

    step: int
    """Steps done so far, 1 after the first."""
    total_steps: int
    loss: float
    """This step's classification loss (the auxiliary loss excluded)."""
    accuracy: float
    """The fraction of this step's batch classified correctly."""
    lr: float
    seconds: float
    """Since the loop started."""


@dataclass(frozen=True)
class FitResult:
    """How a :func:`fit` call went: steps done, whether it was stopped, and every step's loss and accuracy."""

    steps: int
    total_steps: int
    stopped: bool
    seconds: float
    losses: tuple[float, ...]
    accuracies: tuple[float, ...]


def to_pixel_values(images_uint8_nhwc) -> torch.Tensor:
    """uint8 NHWC numpy/tensor -> float NCHW tensor normalised as the image processor does."""
    x = torch.as_tensor(images_uint8_nhwc).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(IMAGENET_DEFAULT_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_DEFAULT_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def init_weights(model, seed: int = 0) -> None:
    """He (Kaiming) normal initialisation of every ``Conv2d`` of ``model``, zero biases.

    The transformers default (normal, std 0.02) leaves the GELU MLPs in their
    near-linear range, and training from scratch on the shapes task then sits
    at chance level for hundreds of steps; with He initialisation it starts at
    once.
    """
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * math.sqrt(2.0 / fan_in))
                if module.bias is not None:
                    module.bias.zero_()


def fit(
    model,
    data: ShapeArrays,
    steps: int,
    settings: TrainSettings | None = None,
    *,
    progress: Callable[[StepReport], None] | None = None,
    should_stop: StopCheck | None = None,
    schedule_steps: int | None = None,
) -> FitResult:
    """Train ``model`` in place on ``data`` for ``steps`` optimiser steps, or until ``should_stop()``.

    Uses the optimisation fields of ``settings`` (batch size, AdamW lr and weight decay, warmup then
    cosine decay over ``schedule_steps``, by default ``steps``: a shorter run is then the first
    ``steps`` of that longer run, step for step), gradient clipping, the auxiliary ``seg_weight`` loss and the
    ``seed`` of batch order and augmentation); parameters that do not require gradients stay as
    they are.  ``progress`` is called after every step; ``should_stop`` (a callable, or a flag with
    ``is_set`` such as ``threading.Event``) is checked before every step.  The model is left in
    training mode.
    """
    settings = settings or TrainSettings()
    batch_size = settings.batch_size
    steps_per_epoch = len(data.labels) // batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"{len(data.labels)} training images are fewer than one batch of {batch_size}")
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim > 1]
    no_decay = [p for p in params if p.ndim <= 1]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": settings.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=settings.lr,
        betas=(0.9, 0.999),
    )
    # Batches are drawn and augmented on the CPU (the same draws on every device), then moved to the model's.
    device = next(model.parameters()).device
    images = torch.from_numpy(data.images)  # uint8 NHWC
    labels = torch.from_numpy(data.labels)
    use_seg = settings.seg_weight > 0
    coverage = seg_head = None
    if use_seg:
        cells = data.images.shape[1] // math.prod(model.config.strides)  # the deepest stage's grid
        coverage = torch.from_numpy(_coverage(data.masks, cells))
        seg_head = torch.nn.Conv2d(model.config.hidden_sizes[-1], 1 + len(CLASS_NAMES), 1).to(device)
        optimizer.add_param_group({"params": list(seg_head.parameters()), "weight_decay": settings.weight_decay})
        params = params + list(seg_head.parameters())
    schedule_steps = max(steps, schedule_steps or steps)
    warmup = max(1, int(settings.warmup_fraction * schedule_steps))
    generator = torch.Generator().manual_seed(settings.seed)

    model.train()
    losses: list[float] = []
    accuracies: list[float] = []
    started = time.perf_counter()
    stopped = False
    for step in range(steps):
        if stop_requested(should_stop):
            stopped = True
            break
        if step % steps_per_epoch == 0:
            order = torch.randperm(len(labels), generator=generator)
        batch = step % steps_per_epoch
        idx = order[batch * batch_size : (batch + 1) * batch_size]
        x, cov = _augment(to_pixel_values(images[idx]), None if coverage is None else coverage[idx], generator)
        x, y = x.to(device), labels[idx].to(device)
        cov = None if cov is None else cov.to(device)
        lr = _lr_at(step, schedule_steps, warmup, settings.lr)
        for group in optimizer.param_groups:
            group["lr"] = lr
        outputs = model(pixel_values=x, labels=y, output_hidden_states=use_seg)
        total = outputs.loss
        if use_seg:
            total = total + settings.seg_weight * _segmentation_loss(
                seg_head, model.norm, outputs.hidden_states[-1], cov, y
            )
        optimizer.zero_grad(set_to_none=True)
        total.backward()
        if settings.grad_clip:
            torch.nn.utils.clip_grad_norm_(params, settings.grad_clip)
        optimizer.step()
        losses.append(float(outputs.loss.detach()))
        accuracies.append(float((outputs.logits.argmax(-1) == y).float().mean()))
        if progress is not None:
            progress(StepReport(step + 1, steps, losses[-1], accuracies[-1], lr, time.perf_counter() - started))
    return FitResult(
        steps=len(losses),
        total_steps=steps,
        stopped=stopped,
        seconds=time.perf_counter() - started,
        losses=tuple(losses),
        accuracies=tuple(accuracies),
    )


def predictions(model, images_uint8: np.ndarray, batch_size: int = 100) -> np.ndarray:
    """The class ``model`` predicts for each of ``images_uint8`` (N, H, W, 3), as an (N,) array."""
    was_training = model.training
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(images_uint8), batch_size):
            pixel_values = on_device(to_pixel_values(images_uint8[i : i + batch_size]), model)
            out.append(model(pixel_values=pixel_values).logits.argmax(-1).cpu())
    model.train(was_training)
    return torch.cat(out).numpy() if out else np.zeros(0, dtype=np.int64)


def accuracy(model, images_uint8: np.ndarray, labels: np.ndarray, batch_size: int = 200) -> float:
    """The fraction of ``images_uint8`` (N, H, W, 3) that ``model`` classifies as ``labels``."""
    if len(labels) == 0:
        return 0.0
    return float((predictions(model, images_uint8, batch_size) == np.asarray(labels)).mean())


def _lr_at(step: int, total: int, warmup: int, base_lr: float) -> float:
    if step < warmup:
        return base_lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _augment(x, coverage, generator):
    """The same random flip / 90-degree rotation for a batch of images and their coverage maps (if any)."""
    k = int(torch.randint(0, 4, (1,), generator=generator))
    if k:
        x = torch.rot90(x, k, dims=(2, 3))
        coverage = None if coverage is None else torch.rot90(coverage, k, dims=(1, 2))
    if int(torch.randint(0, 2, (1,), generator=generator)):
        x = torch.flip(x, dims=(3,))
        coverage = None if coverage is None else torch.flip(coverage, dims=(2,))
    return x.contiguous(), None if coverage is None else coverage.contiguous()


def _coverage(masks: np.ndarray, cells: int) -> np.ndarray:
    """Fraction of each of the ``cells`` x ``cells`` cells covered by the object, float32 (N, cells, cells)."""
    n, h, w = masks.shape
    return masks.reshape(n, cells, h // cells, cells, w // cells).mean(axis=(2, 4), dtype=np.float32)


def _segmentation_loss(head, norm, hidden, coverage, labels):
    """Auxiliary loss: each deepest-stage cell predicts background or the object's class.

    The soft target of a cell is (1 - c) background + c object class, where c
    is the fraction of the cell that the object covers.
    """
    logits = head(norm(hidden))  # (N, 1 + classes, cells, cells)
    target = torch.zeros_like(logits)
    target[:, 0] = 1.0 - coverage
    target.scatter_(1, (labels + 1).view(-1, 1, 1, 1).expand(-1, 1, *coverage.shape[1:]), coverage.unsqueeze(1))
    return F.cross_entropy(logits, target)
