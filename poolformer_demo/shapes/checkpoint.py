"""The recipes of the bundled model and of a pairs model: configurations, image processor, training runs.

The checkpoint in ``assets/demo_shapes/`` (its model card is the README there) is produced by::

    python -m poolformer_demo.shapes train --task shapes

and the example images in ``assets/examples/`` by::

    python -m poolformer_demo.shapes examples

Models are transformers' ``PoolFormerForImageClassification`` as it is, trained from scratch:

* ``shapes``: the small configuration of :func:`shapes_config` (922,662 parameters);
* ``pairs`` (``--task pairs``, written to ``assets/demo_pairs/``; none is bundled): the ablation
  lab's architecture (S12's depths 2, 2, 6, 2 with widths 16, 32, 48, 64;
  :func:`~poolformer_demo.shapes.arms.lab_architecture`).

The recipe (:class:`TrainSettings`): generated training images (read from the dataset cache,
:func:`~poolformer_demo.shapes.tasks.cached_dataset`), batch 32, random flips and 90-degree
rotations (both tasks' labels are invariant to both); AdamW (lr 2e-3, weight decay 0.05 on
weights only), linear warmup over the first 4 % of the steps, then cosine decay to 0; gradient
clipping at 1.0; ``layer_scale_init_value=1.0`` and He-normal convolutions (:func:`init_weights`):
with the defaults (1e-5 and normal(0, 0.02)) the network is nearly linear at the start and stays
at chance level for a long time.

The bundled shapes model adds an auxiliary loss during training only (``seg_weight`` 0.5; the
shapes task only): a 1x1 convolution (discarded afterwards) on the normalised deepest-stage
features predicts, for each of the 4x4 cells, "background" or the object's class, with soft
targets from the fraction of the cell the object covers.  It makes the deepest stage's features
object-centred, so that Grad-CAM at that 4x4 stage points at the object; ``--seg-weight 0``
trains on the class label alone.

Training images come from the training seed range, the accuracy printed per epoch from the
validation range (see :mod:`poolformer_demo.shapes.data`).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import (
    AutoImageProcessor,
    PoolFormerForImageClassification,
    PoolFormerImageProcessor,
)
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

from ..variants import SHAPES_DIR
from .architecture import shapes_config
from .data import (
    IMAGE_SIZE,
    TRAIN_SEED_START,
    VAL_SEED_START,
    make_sample,
)
from .train import StepReport, TrainSettings, accuracy, fit, init_weights

__all__ = [
    "TRAINING_FILE",
    "check_processor_identity",
    "make_image_processor",
    "shapes_config",
    "train_checkpoint",
    "write_training_record",
]


# Beside the weights: how they were trained, read by poolformer_demo.variants.BundledFacts.
TRAINING_FILE = "training.json"


def make_image_processor():
    """A ``PoolFormerImageProcessor`` that leaves 128x128 inputs geometrically unchanged.

    ``crop_pct=1.0`` makes the resize target 128 (an identity on 128x128 images)
    and the 128x128 centre crop is then a no-op, so pixel ``(y, x)`` of
    ``pixel_values`` is pixel ``(y, x)`` of the input image (and of its mask).
    """
    return PoolFormerImageProcessor(
        do_resize=True,
        size={"shortest_edge": IMAGE_SIZE},
        crop_pct=1.0,
        do_center_crop=True,
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        do_rescale=True,
        do_normalize=True,
        image_mean=list(IMAGENET_DEFAULT_MEAN),
        image_std=list(IMAGENET_DEFAULT_STD),
    )


def check_processor_identity(processor, seed: int = VAL_SEED_START, atol: float = 1.5 / 255) -> float:
    """Check that ``processor`` keeps a 128x128 shapes image pixel-aligned.

    Returns the largest absolute difference (in [0, 1] units) between the
    de-normalised ``pixel_values`` and the input image; raises
    ``AssertionError`` if the shape is wrong or the difference exceeds ``atol``.
    """
    sample = make_sample(seed)
    pixel_values = processor(images=sample.image, return_tensors="pt")["pixel_values"]
    expected_shape = (1, 3, IMAGE_SIZE, IMAGE_SIZE)
    if tuple(pixel_values.shape) != expected_shape:
        raise AssertionError(f"pixel_values {tuple(pixel_values.shape)} != {expected_shape}")
    mean = np.asarray(processor.image_mean, dtype=np.float32).reshape(3, 1, 1)
    std = np.asarray(processor.image_std, dtype=np.float32).reshape(3, 1, 1)
    restored = pixel_values[0].numpy() * std + mean
    original = np.asarray(sample.image, dtype=np.float32).transpose(2, 0, 1) / 255.0
    err = float(np.abs(restored - original).max())
    if err > atol:
        raise AssertionError(f"processor changes the image: max abs difference {err:.4f} > {atol:.4f}")
    return err


def task_config(task: str):
    """The architecture of ``task``'s bundled model (see the module docstring)."""
    if task == "shapes":
        return shapes_config
    from .arms import lab_architecture
    from .lab import LAB_CONFIGS

    return lambda layer_scale_init_value: lab_architecture(LAB_CONFIGS[task])


def write_training_record(out: Path, task: str, settings: TrainSettings, val_acc: float) -> Path:
    """Write ``out/training.json``: the task, the recipe and the validation accuracy of the model in ``out``."""
    record = {
        "task": task,
        "steps": settings.train_size // settings.batch_size * settings.epochs,
        "train_images": settings.train_size,
        "train_seeds": [TRAIN_SEED_START, TRAIN_SEED_START + settings.train_size - 1],
        "epochs": settings.epochs,
        "batch_size": settings.batch_size,
        "seg_weight": settings.seg_weight,
        "seed": settings.seed,
        "val_acc": val_acc,
        "val_images": settings.val_size,
    }
    path = Path(out) / TRAINING_FILE
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def train_checkpoint(
    out: str | Path = SHAPES_DIR, settings: TrainSettings | None = None, progress: bool = True, task: str = "shapes"
) -> dict:
    """Train ``task``'s bundled model from scratch with ``settings`` and save it (model + image processor) to ``out``.

    Returns the final metrics (also written to stdout); the recipe and the validation accuracy
    are also written to ``out/training.json``, and an older ``measurement.json`` is removed (run
    ``python -m poolformer_demo.shapes measure --write`` for the new weights).
    """
    from .tasks import TASKS, cached_dataset

    if settings is not None and settings.seg_weight > 0 and task != "shapes":
        raise ValueError("the auxiliary segmentation loss exists for the shapes task only")
    settings = settings or TrainSettings()
    t_start = time.perf_counter()
    torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    out = Path(out)

    if TRAIN_SEED_START + settings.train_size > VAL_SEED_START:
        raise ValueError("train_size overlaps the validation seed range")
    print(f"generating {settings.train_size} training and {settings.val_size} validation images ...", flush=True)
    train_data = cached_dataset(task, settings.train_size, TRAIN_SEED_START)
    val_data = cached_dataset(task, settings.val_size, VAL_SEED_START)
    counts = np.bincount(train_data.labels, minlength=len(TASKS[task].class_names)).tolist()
    print(f"  done in {time.perf_counter() - t_start:.1f}s; class counts {counts}", flush=True)

    model = PoolFormerForImageClassification(task_config(task)(settings.layer_scale_init_value))
    init_weights(model, settings.seed)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params:,} parameters", flush=True)

    steps_per_epoch = settings.train_size // settings.batch_size
    total_steps = steps_per_epoch * settings.epochs
    history: list[dict] = []
    window: list[StepReport] = []
    bar = tqdm(total=total_steps, desc="training", unit="step", disable=not progress, file=sys.stdout, mininterval=2.0)

    def report(r: StepReport) -> None:
        window.append(r)
        bar.update(1)
        bar.set_postfix(loss=f"{r.loss:.3f}", lr=f"{r.lr:.1e}", refresh=False)
        if r.step % steps_per_epoch == 0:
            val_acc = accuracy(model, val_data.images, val_data.labels)
            entry = {
                "epoch": r.step // steps_per_epoch,
                "train_loss": float(np.mean([w.loss for w in window])),
                "train_acc": float(np.mean([w.accuracy for w in window])),
                "val_acc": val_acc,
            }
            history.append(entry)
            window.clear()
            bar.write(
                f"epoch {entry['epoch']}/{settings.epochs}: train loss {entry['train_loss']:.4f}, "
                f"train acc {entry['train_acc']:.4f}, val acc {val_acc:.4f}"
            )

    fit(model, train_data, total_steps, settings, progress=report)
    bar.close()

    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    make_image_processor().save_pretrained(out)

    # Reload exactly as users will, and check the round trip.
    max_err = check_processor_identity(AutoImageProcessor.from_pretrained(out))
    reloaded = PoolFormerForImageClassification.from_pretrained(out).eval()
    reload_acc = accuracy(reloaded, val_data.images, val_data.labels)

    write_training_record(out, task, settings, reload_acc)
    # Measurements of the weights this run replaced would be read as this model's.
    (out / "measurement.json").unlink(missing_ok=True)
    metrics = {
        "train_loss": history[-1]["train_loss"],
        "train_acc": history[-1]["train_acc"],
        "val_acc": history[-1]["val_acc"],
        "val_acc_reloaded": reload_acc,
        "task": task,
        "val_seeds": [VAL_SEED_START, VAL_SEED_START + settings.val_size - 1],
        "parameters": n_params,
        "checkpoint_bytes": sum(f.stat().st_size for f in out.iterdir() if f.is_file()),
        "processor_max_abs_error": max_err,
        "wall_seconds": time.perf_counter() - t_start,
        "settings": asdict(settings),
    }
    print("final metrics:")
    print(json.dumps(metrics, indent=2))
    return metrics
