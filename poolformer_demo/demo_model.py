"""The offline demo model: a small PoolFormer trained on the shapes task.

The checkpoint in ``assets/demo_shapes/`` is produced by::

    python -m poolformer_demo.demo_model train

(default arguments; about 6.5 minutes on 2 CPU cores when they are not
shared), and the example images in ``assets/examples/`` by::

    python -m poolformer_demo.demo_model examples

The model is transformers' ``PoolFormerForImageClassification`` as it is,
with the small configuration from :func:`demo_config` (922,662 parameters,
3.7 MB as fp32 safetensors), trained from scratch.  The recipe
(:class:`TrainSettings`):

* 16,000 generated training images, 5 epochs, batch 32, random flips and
  90-degree rotations (the classes are invariant to both);
* AdamW (lr 2e-3, weight decay 0.05 on weights only), linear warmup over the
  first 4 % of the steps, then cosine decay to 0; gradient clipping at 1.0;
* ``layer_scale_init_value=1.0`` and He-normal convolutions
  (:func:`init_weights`): with the defaults (1e-5 and normal(0, 0.02)) the
  network is nearly linear at the start and stays at chance level for a long
  time;
* an auxiliary loss during training only: a 1x1 convolution (discarded
  afterwards) on the normalised deepest-stage features predicts, for each
  of the 4x4 cells, "background" or the object's class, with soft targets
  from the fraction of the cell the object covers (``seg_weight`` 0.5;
  ``--seg-weight 0`` trains on the class label alone).  It makes the deepest
  stage's features object-centred, so that Grad-CAM at that 4x4 stage points
  at the object: trained on the class label alone, the model reaches the
  same accuracy but its deepest-stage Grad-CAM maps for "square" spread
  over the background.

Seed ranges (each sample of :mod:`poolformer_demo.shapes` is identified by
its integer seed; the ranges never overlap):

* training:   ``TRAIN_SEED_START`` (0) .. ``TRAIN_SEED_START + train_size - 1``
  (0 .. 15_999 with the default ``train_size``; always below 10_000_000);
* validation: ``VAL_SEED_START`` (10_000_000) onwards, the held-out accuracy
  printed at the end of training uses the first ``val_size`` of them;
* testing:    ``TEST_SEED_START`` (20_000_000) onwards, never used by this
  script: tests evaluate the checkpoint on these;
* examples:   ``EXAMPLE_SEED_START`` (30_000_000) onwards, used only for the
  example PNGs.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .shapes import CLASS_NAMES, ID2LABEL, IMAGE_SIZE, LABEL2ID, make_dataset, make_sample

__all__ = [
    "TRAIN_SEED_START",
    "VAL_SEED_START",
    "TEST_SEED_START",
    "EXAMPLE_SEED_START",
    "DEMO_MODEL_DIR",
    "EXAMPLES_DIR",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "TrainSettings",
    "demo_config",
    "make_image_processor",
    "init_weights",
    "check_processor_identity",
    "train",
    "write_examples",
    "main",
]

TRAIN_SEED_START = 0
VAL_SEED_START = 10_000_000
TEST_SEED_START = 20_000_000
EXAMPLE_SEED_START = 30_000_000

_REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_MODEL_DIR = _REPO_ROOT / "assets" / "demo_shapes"
EXAMPLES_DIR = _REPO_ROOT / "assets" / "examples"

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class TrainSettings:
    """Everything that determines the checkpoint (besides the code)."""

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


def demo_config(layer_scale_init_value: float = TrainSettings.layer_scale_init_value):
    """The small four-stage ``PoolFormerConfig`` of the demo model.

    At 128x128 input, the stages are 32x32, 16x16, 8x8 and 4x4 (strides 4, 2,
    2, 2).  The patch-embedding kernels are 8/4/4/4 (padding 2/1/1/1) rather
    than PoolFormer's 7/3/3/3: an odd kernel with stride 2 and padding 1
    centres each output cell's receptive field half an input cell up and to
    the left of the cell, which adds up to about 8 px at the 4x4 stage and
    shifts its feature maps and Grad-CAM relative to the image; even kernels
    keep every stage centred on its cells.
    """
    from transformers import PoolFormerConfig

    return PoolFormerConfig(
        num_channels=3,
        depths=[1, 1, 2, 1],
        hidden_sizes=[32, 64, 96, 192],
        patch_sizes=[8, 4, 4, 4],
        strides=[4, 2, 2, 2],
        padding=[2, 1, 1, 1],
        pool_size=3,
        mlp_ratio=4.0,
        drop_path_rate=0.0,
        use_layer_scale=True,
        layer_scale_init_value=float(layer_scale_init_value),
        num_labels=len(CLASS_NAMES),
        id2label=dict(ID2LABEL),
        label2id=dict(LABEL2ID),
    )


def make_image_processor():
    """A ``PoolFormerImageProcessor`` that leaves 128x128 inputs geometrically unchanged.

    ``crop_pct=1.0`` makes the resize target 128 (an identity on 128x128 images)
    and the 128x128 centre crop is then a no-op, so pixel ``(y, x)`` of
    ``pixel_values`` is pixel ``(y, x)`` of the input image (and of its mask).
    """
    from transformers import PoolFormerImageProcessor

    return PoolFormerImageProcessor(
        do_resize=True,
        size={"shortest_edge": IMAGE_SIZE},
        crop_pct=1.0,
        do_center_crop=True,
        crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE},
        do_rescale=True,
        do_normalize=True,
        image_mean=list(IMAGENET_MEAN),
        image_std=list(IMAGENET_STD),
    )


def _normalize(images_uint8_nhwc):
    """uint8 NHWC numpy/tensor -> float NCHW tensor normalised like the image processor."""
    import torch

    x = torch.as_tensor(images_uint8_nhwc).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (x - mean) / std


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


def init_weights(model, seed: int = 0) -> None:
    """He (Kaiming) normal initialisation of every ``Conv2d`` of ``model``, zero biases.

    The transformers default (normal, std 0.02) leaves the GELU MLPs in their
    near-linear range, and training from scratch on the shapes task then sits
    at chance level for hundreds of steps; with He initialisation it starts at
    once.
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv2d):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) * math.sqrt(2.0 / fan_in))
                if module.bias is not None:
                    module.bias.zero_()


def _lr_at(step: int, total: int, warmup: int, base_lr: float) -> float:
    if step < warmup:
        return base_lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _augment(x, coverage, generator):
    """The same random flip / 90-degree rotation for a batch of images and their coverage maps."""
    import torch

    k = int(torch.randint(0, 4, (1,), generator=generator))
    if k:
        x = torch.rot90(x, k, dims=(2, 3))
        coverage = torch.rot90(coverage, k, dims=(1, 2))
    if int(torch.randint(0, 2, (1,), generator=generator)):
        x = torch.flip(x, dims=(3,))
        coverage = torch.flip(coverage, dims=(2,))
    return x.contiguous(), coverage.contiguous()


def _coverage(masks: np.ndarray, cells: int) -> np.ndarray:
    """Fraction of each of the ``cells`` x ``cells`` cells covered by the object, float32 (N, cells, cells)."""
    n, h, w = masks.shape
    return masks.reshape(n, cells, h // cells, cells, w // cells).mean(axis=(2, 4), dtype=np.float32)


def _segmentation_loss(head, norm, hidden, coverage, labels):
    """Auxiliary loss: each deepest-stage cell predicts background or the object's class.

    The soft target of a cell is (1 - c) background + c object class, where c
    is the fraction of the cell that the object covers.
    """
    import torch
    import torch.nn.functional as F

    logits = head(norm(hidden))  # (N, 1 + classes, cells, cells)
    target = torch.zeros_like(logits)
    target[:, 0] = 1.0 - coverage
    target.scatter_(1, (labels + 1).view(-1, 1, 1, 1).expand(-1, 1, *coverage.shape[1:]), coverage.unsqueeze(1))
    return F.cross_entropy(logits, target)


def _evaluate(model, images_uint8, labels, batch_size: int = 200) -> float:
    import torch

    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(labels), batch_size):
            logits = model(pixel_values=_normalize(images_uint8[i : i + batch_size])).logits
            correct += int((logits.argmax(-1).numpy() == labels[i : i + batch_size]).sum())
    model.train()
    return correct / max(1, len(labels))


def train(out: str | Path = DEMO_MODEL_DIR, settings: TrainSettings = TrainSettings(), progress: bool = True) -> dict:
    """Train the demo model from scratch and save it (model + image processor) to ``out``.

    Returns the final metrics (also written to stdout).
    """
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoImageProcessor, PoolFormerForImageClassification

    t_start = time.perf_counter()
    torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    np.random.seed(settings.seed)
    out = Path(out)

    if TRAIN_SEED_START + settings.train_size > VAL_SEED_START:
        raise ValueError("train_size overlaps the validation seed range")
    print(f"generating {settings.train_size} training and {settings.val_size} validation images ...", flush=True)
    train_data = make_dataset(settings.train_size, TRAIN_SEED_START)
    val_data = make_dataset(settings.val_size, VAL_SEED_START)
    t_data = time.perf_counter() - t_start
    print(f"  done in {t_data:.1f}s; class counts {np.bincount(train_data.labels, minlength=len(CLASS_NAMES)).tolist()}",
          flush=True)

    model = PoolFormerForImageClassification(demo_config(settings.layer_scale_init_value))
    init_weights(model, settings.seed)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: {n_params:,} parameters", flush=True)

    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 else decay).append(p)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": settings.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=settings.lr,
        betas=(0.9, 0.999),
    )

    images = torch.from_numpy(train_data.images)  # uint8 NHWC
    cells = IMAGE_SIZE // 32  # the deepest stage's grid (4x4 at 128 px)
    coverage = torch.from_numpy(_coverage(train_data.masks, cells))
    seg_head = torch.nn.Conv2d(model.config.hidden_sizes[-1], 1 + len(CLASS_NAMES), 1)
    optimizer.add_param_group({"params": list(seg_head.parameters()), "weight_decay": settings.weight_decay})
    labels = torch.from_numpy(train_data.labels)
    steps_per_epoch = settings.train_size // settings.batch_size
    total_steps = steps_per_epoch * settings.epochs
    warmup = max(1, int(settings.warmup_fraction * total_steps))
    generator = torch.Generator().manual_seed(settings.seed)

    model.train()
    step = 0
    loss_ema = None
    history = []
    bar = tqdm(total=total_steps, desc="training", unit="step", disable=not progress, file=sys.stdout,
               mininterval=2.0)
    for epoch in range(settings.epochs):
        order = torch.randperm(settings.train_size, generator=generator)
        epoch_loss, epoch_correct, seen = 0.0, 0, 0
        for b in range(steps_per_epoch):
            idx = order[b * settings.batch_size : (b + 1) * settings.batch_size]
            x, cov = _augment(_normalize(images[idx]), coverage[idx], generator)
            y = labels[idx]
            for group in optimizer.param_groups:
                group["lr"] = _lr_at(step, total_steps, warmup, settings.lr)
            use_seg = settings.seg_weight > 0
            outputs = model(pixel_values=x, labels=y, output_hidden_states=use_seg)
            total = outputs.loss
            if use_seg:
                total = total + settings.seg_weight * _segmentation_loss(
                    seg_head, model.norm, outputs.hidden_states[-1], cov, y)
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            if settings.grad_clip:
                torch.nn.utils.clip_grad_norm_(list(model.parameters()) + list(seg_head.parameters()),
                                               settings.grad_clip)
            optimizer.step()
            loss = float(outputs.loss.detach())
            loss_ema = loss if loss_ema is None else 0.95 * loss_ema + 0.05 * loss
            epoch_loss += loss * len(y)
            epoch_correct += int((outputs.logits.argmax(-1) == y).sum())
            seen += len(y)
            step += 1
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{loss_ema:.3f}", lr=f"{optimizer.param_groups[0]['lr']:.1e}",
                            refresh=False)
        val_acc = _evaluate(model, val_data.images, val_data.labels)
        history.append({"epoch": epoch + 1, "train_loss": epoch_loss / seen, "train_acc": epoch_correct / seen,
                        "val_acc": val_acc})
        bar.write(f"epoch {epoch + 1}/{settings.epochs}: train loss {epoch_loss / seen:.4f}, "
                  f"train acc {epoch_correct / seen:.4f}, val acc {val_acc:.4f}")
    bar.close()

    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    processor = make_image_processor()
    processor.save_pretrained(out)

    # Reload exactly as users will, and check the round trip.
    reloaded_processor = AutoImageProcessor.from_pretrained(out)
    max_err = check_processor_identity(reloaded_processor)
    reloaded = PoolFormerForImageClassification.from_pretrained(out).eval()
    reload_acc = _evaluate(reloaded, val_data.images, val_data.labels)

    size_bytes = sum(f.stat().st_size for f in out.iterdir() if f.is_file())
    metrics = {
        "train_loss": history[-1]["train_loss"],
        "train_acc": history[-1]["train_acc"],
        "val_acc": history[-1]["val_acc"],
        "val_acc_reloaded": reload_acc,
        "val_seeds": [VAL_SEED_START, VAL_SEED_START + settings.val_size - 1],
        "parameters": n_params,
        "checkpoint_bytes": size_bytes,
        "processor_max_abs_error": max_err,
        "wall_seconds": time.perf_counter() - t_start,
        "settings": asdict(settings),
    }
    print("final metrics:")
    print(json.dumps(metrics, indent=2))
    return metrics


def write_examples(out: str | Path = EXAMPLES_DIR) -> list[Path]:
    """Write one example PNG per class, ``shapes_<class>.png``, from the example seed range."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for label, name in enumerate(CLASS_NAMES):
        sample = make_sample(EXAMPLE_SEED_START + label, label=label)
        path = out / f"shapes_{name}.png"
        sample.image.save(path, format="PNG", optimize=True)
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m poolformer_demo.demo_model", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    defaults = TrainSettings()
    p_train = sub.add_parser("train", help="train the demo model from scratch and save it")
    p_train.add_argument("--out", type=Path, default=DEMO_MODEL_DIR, help="output folder (default: %(default)s)")
    p_train.add_argument("--seed", type=int, default=defaults.seed,
                         help="seed of the initialisation, batch order and augmentation (default: %(default)s)")
    p_train.add_argument("--epochs", type=int, default=defaults.epochs, help="default: %(default)s")
    p_train.add_argument("--train-size", type=int, default=defaults.train_size, help="default: %(default)s")
    p_train.add_argument("--val-size", type=int, default=defaults.val_size, help="default: %(default)s")
    p_train.add_argument("--batch-size", type=int, default=defaults.batch_size, help="default: %(default)s")
    p_train.add_argument("--lr", type=float, default=defaults.lr, help="peak learning rate (default: %(default)s)")
    p_train.add_argument("--layer-scale-init", type=float, default=defaults.layer_scale_init_value,
                         help="layer_scale_init_value (default: %(default)s)")
    p_train.add_argument("--seg-weight", type=float, default=defaults.seg_weight,
                         help="weight of the auxiliary deepest-stage segmentation loss, 0 to disable "
                              "(default: %(default)s)")
    p_train.add_argument("--threads", type=int, default=defaults.threads, help="torch threads (default: %(default)s)")
    p_train.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    p_ex = sub.add_parser("examples", help="write one example image per class")
    p_ex.add_argument("--out", type=Path, default=EXAMPLES_DIR, help="output folder (default: %(default)s)")

    args = parser.parse_args(argv)
    if args.command == "train":
        settings = TrainSettings(
            seed=args.seed,
            train_size=args.train_size,
            val_size=args.val_size,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            layer_scale_init_value=args.layer_scale_init,
            seg_weight=args.seg_weight,
            threads=args.threads,
        )
        train(args.out, settings, progress=not args.no_progress)
    elif args.command == "examples":
        for path in write_examples(args.out):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
