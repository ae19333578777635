"""The offline "shapes" task: generated images with ground-truth object masks.

Each sample is a 128x128 RGB image showing exactly one object of one of six
classes (:data:`CLASS_NAMES`) at a random position, size, rotation and colour,
drawn on a cluttered background: a smooth, darker, muted random colour field,
thin random lines and small blobs in any colour, and pixel noise.  None of
the clutter is a class shape, so a classifier has to find the object to name
it.  The object is a light colour of random hue, clearly brighter than the
background it covers, its diameter is 42-62 % of the image side and its centre
lies in the central 40..88 px square (so it always overlaps the middle of the
image).  Every sample comes with the boolean mask of its object's pixels (for
a ring: the annulus, not the hole).

Generation uses only numpy and ``PIL.ImageDraw`` and is fully determined by
an integer seed: ``make_sample(s)`` returns identical pixels, mask and label
every time it is called with the same ``s``.  The seed ranges never overlap:

* training:   ``TRAIN_SEED_START`` (0) onwards, always below ``VAL_SEED_START``;
* validation: ``VAL_SEED_START`` (10_000_000) onwards, the held-out accuracy
  printed while the bundled model trains;
* testing:    ``TEST_SEED_START`` (20_000_000) onwards, never seen by any
  training: the tests and the ablation lab evaluate on these;
* examples:   ``EXAMPLE_SEED_START`` (30_000_000) onwards, only for the
  example PNGs in ``assets/examples/``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw

__all__ = [
    "CLASS_NAMES",
    "EXAMPLES_DIR",
    "EXAMPLE_SEED_START",
    "ID2LABEL",
    "IMAGE_SIZE",
    "LABEL2ID",
    "TEST_SEED_START",
    "TRAIN_SEED_START",
    "VAL_SEED_START",
    "ShapeArrays",
    "ShapeSample",
    "dilate",
    "iter_samples",
    "make_dataset",
    "make_sample",
    "pointing_game",
    "write_examples",
]

CLASS_NAMES: tuple[str, ...] = ("circle", "square", "triangle", "star", "cross", "ring")
ID2LABEL: dict[int, str] = dict(enumerate(CLASS_NAMES))
LABEL2ID: dict[str, int] = {name: i for i, name in ID2LABEL.items()}
IMAGE_SIZE = 128

TRAIN_SEED_START = 0
VAL_SEED_START = 10_000_000
TEST_SEED_START = 20_000_000
EXAMPLE_SEED_START = 30_000_000

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "examples"

# Object size: diameter of the object's circumscribed circle, as a fraction of
# the image side.
MIN_OBJECT_FRACTION = 0.42
MAX_OBJECT_FRACTION = 0.62
# How far (in px) the object's bounding circle keeps from the image border.
BORDER_MARGIN = 2
# The object's centre lies in [CENTER_MIN, CENTER_MAX] (fractions of the side)
# on both axes, so the object always covers part of the image's central area.
CENTER_MIN = 40 / 128
CENTER_MAX = 88 / 128
# Range of the background's mean grey level (before tint and noise).
BACKGROUND_LEVEL = (35.0, 110.0)
# Minimum luma difference between the object's colour and the mean colour of
# the background under it (objects are lighter than their surroundings).
MIN_CONTRAST = 80.0


@dataclass(frozen=True)
class ShapeSample:
    """One generated image with its ground truth."""

    image: Image.Image
    """128x128 RGB image."""
    mask: np.ndarray
    """Boolean array (128, 128), True on the object's pixels."""
    label: int
    """Class id, an index into :data:`CLASS_NAMES`."""
    seed: int
    """The seed that generated this sample."""

    @property
    def label_name(self) -> str:
        return CLASS_NAMES[self.label]

    @property
    def center(self) -> tuple[float, float]:
        """(x, y) centroid of the object's mask, in pixels."""
        ys, xs = np.nonzero(self.mask)
        return float(xs.mean()), float(ys.mean())


class ShapeArrays(NamedTuple):
    """A batch of samples as stacked numpy arrays."""

    images: np.ndarray
    """uint8 (N, 128, 128, 3)."""
    masks: np.ndarray
    """bool (N, 128, 128)."""
    labels: np.ndarray
    """int64 (N,)."""
    seeds: np.ndarray
    """int64 (N,), the seed of each sample (``make_sample(seeds[i])`` regenerates it)."""


# ----------------------------------------------------------------------------
# Geometry
# ----------------------------------------------------------------------------


def _regular_points(cx: float, cy: float, radii: Sequence[float], angle0: float) -> list[tuple[float, float]]:
    """Vertices at evenly spaced angles, cycling through ``radii``."""
    n = len(radii)
    return [
        (cx + radii[i] * math.cos(angle0 + 2 * math.pi * i / n), cy + radii[i] * math.sin(angle0 + 2 * math.pi * i / n))
        for i in range(n)
    ]


def _draw_object(
    draw: ImageDraw.ImageDraw, label: int, cx: float, cy: float, r: float, angle: float, rng: np.random.Generator, fill
) -> None:
    """Draw class ``label`` centred at (cx, cy) within a circle of radius ``r``."""
    name = CLASS_NAMES[label]
    if name == "circle":
        rr = r * 0.92
        draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=fill)
    elif name == "square":
        draw.polygon(_regular_points(cx, cy, [r] * 4, angle), fill=fill)
    elif name == "triangle":
        draw.polygon(_regular_points(cx, cy, [r] * 3, angle), fill=fill)
    elif name == "star":
        inner = r * rng.uniform(0.42, 0.52)
        draw.polygon(_regular_points(cx, cy, [r, inner] * 5, angle), fill=fill)
    elif name == "cross":
        half_w = r * rng.uniform(0.26, 0.34)
        # A plus sign as one 12-vertex polygon, rotated by ``angle``.
        pts = [
            (half_w, r),
            (half_w, half_w),
            (r, half_w),
            (r, -half_w),
            (half_w, -half_w),
            (half_w, -r),
            (-half_w, -r),
            (-half_w, -half_w),
            (-r, -half_w),
            (-r, half_w),
            (-half_w, half_w),
            (-half_w, r),
        ]
        ca, sa = math.cos(angle), math.sin(angle)
        draw.polygon([(cx + x * ca - y * sa, cy + x * sa + y * ca) for x, y in pts], fill=fill)
    elif name == "ring":
        rr = r * 0.95
        # A thick band around a small hole (still clearly open, >= 11 px across).
        inner = rr * rng.uniform(0.22, 0.32)
        draw.ellipse((cx - rr, cy - rr, cx + rr, cy + rr), fill=fill)
        draw.ellipse((cx - inner, cy - inner, cx + inner, cy + inner), fill=0)
    else:  # pragma: no cover - CLASS_NAMES is fixed
        raise ValueError(name)


# ----------------------------------------------------------------------------
# Background
# ----------------------------------------------------------------------------


def _smooth_field(rng: np.random.Generator, size: int) -> np.ndarray:
    """A smooth, dark-to-mid, muted random colour field: a tinted linear gradient plus low-res colour noise."""
    base = rng.uniform(BACKGROUND_LEVEL[0], BACKGROUND_LEVEL[1])
    c0 = (base + rng.uniform(-35, 35, 3)).astype(np.float32)
    c1 = (base + rng.uniform(-35, 35, 3)).astype(np.float32)
    theta = rng.uniform(0, 2 * math.pi)
    coords = (np.arange(size, dtype=np.float32) + 0.5) / size - 0.5
    t = np.float32(math.cos(theta)) * coords[None, :] + np.float32(math.sin(theta)) * coords[:, None]
    t = np.clip(t + np.float32(0.5), 0.0, 1.0)[..., None]  # (H, W, 1) in [0, 1]
    field = c0 * (1 - t) + c1 * t
    grid = int(rng.integers(3, 6))
    low = rng.uniform(-25, 25, (grid, grid, 3)).astype(np.float32)
    low_img = Image.fromarray(np.clip(low + 128, 0, 255).astype(np.uint8), "RGB").resize((size, size), Image.BICUBIC)
    field += np.asarray(low_img, dtype=np.float32) - np.float32(128.0)
    return field


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _object_colours(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` light colours of random hue: HSV with S in [0, 0.75] and V in [0.78, 1]."""
    h = rng.uniform(0, 6, n)
    sat = rng.uniform(0.0, 0.75, n)
    val = rng.uniform(0.78, 1.0, n) * 255
    k = np.stack([(5 + h) % 6, (3 + h) % 6, (1 + h) % 6], axis=1)
    rgb = val[:, None] * (1 - sat[:, None] * np.clip(np.minimum(k, 4 - k), 0, 1))
    return rgb.astype(np.float32)


def _random_colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return tuple(int(v) for v in rng.integers(0, 256, 3))


def _draw_clutter(draw: ImageDraw.ImageDraw, rng: np.random.Generator, size: int) -> None:
    """Thin lines, short polylines and small blobs: nothing shaped like a class."""
    for _ in range(int(rng.integers(3, 9))):
        x0, y0 = rng.uniform(-10, size + 10, 2)
        length = rng.uniform(20, 120)
        a = rng.uniform(0, 2 * math.pi)
        draw.line(
            (x0, y0, x0 + length * math.cos(a), y0 + length * math.sin(a)),
            fill=_random_colour(rng),
            width=int(rng.integers(1, 3)),
        )
    for _ in range(int(rng.integers(1, 4))):
        pts = [tuple(rng.uniform(0, size, 2))]
        for _ in range(int(rng.integers(2, 5))):
            step = rng.uniform(8, 30)
            a = rng.uniform(0, 2 * math.pi)
            pts.append((pts[-1][0] + step * math.cos(a), pts[-1][1] + step * math.sin(a)))
        draw.line(pts, fill=_random_colour(rng), width=1)
    for _ in range(int(rng.integers(4, 16))):
        x, y = rng.uniform(0, size, 2)
        rx, ry = rng.uniform(1.0, 4.5, 2)
        draw.ellipse((x - rx, y - ry, x + rx, y + ry), fill=_random_colour(rng))


# ----------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------


def make_sample(seed: int, label: int | None = None, size: int = IMAGE_SIZE) -> ShapeSample:
    """Generate the sample for ``seed`` (deterministic).

    ``label`` forces the class (the rest of the scene is still drawn from
    ``seed``); by default the class is drawn from ``seed`` as well, uniformly.
    """
    seed = int(seed)
    rng = np.random.default_rng(seed)
    drawn_label = int(rng.integers(0, len(CLASS_NAMES)))
    if label is None:
        label = drawn_label
    label = int(label)
    if not 0 <= label < len(CLASS_NAMES):
        raise ValueError(f"label must be in [0, {len(CLASS_NAMES)}), got {label}")

    # Background: smooth colour field, then clutter on top.
    field = _smooth_field(rng, size)
    bg = Image.fromarray(np.clip(field, 0, 255).astype(np.uint8), "RGB")
    _draw_clutter(ImageDraw.Draw(bg), rng, size)

    # Object geometry.
    diameter = rng.uniform(MIN_OBJECT_FRACTION, MAX_OBJECT_FRACTION) * size
    r = diameter / 2
    lo = max(r + BORDER_MARGIN, CENTER_MIN * size)
    hi = min(size - r - BORDER_MARGIN, CENTER_MAX * size)
    cx, cy = rng.uniform(lo, hi, 2)
    angle = rng.uniform(0, 2 * math.pi)

    mask_img = Image.new("L", (size, size), 0)
    _draw_object(ImageDraw.Draw(mask_img), label, cx, cy, r, angle, rng, fill=255)
    mask = np.asarray(mask_img) > 127

    # Object colour: light, and clearly brighter than the background it covers.
    bg_arr = np.asarray(bg, dtype=np.float32)
    local_mean = bg_arr[mask].mean(axis=0) if mask.any() else bg_arr.reshape(-1, 3).mean(axis=0)
    candidates = _object_colours(rng, 16)
    contrast = _luma(candidates) - _luma(local_mean)
    ok = np.nonzero(contrast >= MIN_CONTRAST)[0]
    colour = candidates[ok[0]] if ok.size else candidates[int(np.argmax(contrast))]

    # A gentle shading across the object so it is not perfectly flat.
    shade_dir = rng.uniform(0, 2 * math.pi)
    shade_amp = rng.uniform(0, 25)
    coords = np.arange(size, dtype=np.float32) - np.float32(cx), np.arange(size, dtype=np.float32) - np.float32(cy)
    shade = (math.cos(shade_dir) * coords[0][None, :] + math.sin(shade_dir) * coords[1][:, None]) / max(r, 1.0)
    obj = colour[None, None, :] + (np.float32(shade_amp) * shade)[..., None]

    out = np.where(mask[..., None], obj, bg_arr)
    noise_sigma = rng.uniform(2.0, 12.0)
    out += np.float32(noise_sigma) * rng.standard_normal(out.shape, dtype=np.float32)
    image = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), "RGB")
    return ShapeSample(image=image, mask=mask, label=label, seed=seed)


def iter_samples(seeds: Iterable[int]) -> Iterable[ShapeSample]:
    """``make_sample`` for each seed, lazily."""
    for s in seeds:
        yield make_sample(s)


def stack_samples(make, count: int, seed: int = 0) -> ShapeArrays:
    """``make(seed)`` for seeds ``seed, seed + 1, ..., seed + count - 1`` as stacked arrays; each sample
    has an ``image``, a ``mask`` (all its objects) and a ``label``."""
    count = int(count)
    images = np.empty((count, IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    masks = np.empty((count, IMAGE_SIZE, IMAGE_SIZE), dtype=bool)
    labels = np.empty((count,), dtype=np.int64)
    seeds = np.arange(seed, seed + count, dtype=np.int64)
    for i, s in enumerate(seeds):
        sample = make(int(s))
        images[i] = np.asarray(sample.image)
        masks[i] = sample.mask
        labels[i] = sample.label
    return ShapeArrays(images=images, masks=masks, labels=labels, seeds=seeds)


def make_dataset(count: int, seed: int = 0) -> ShapeArrays:
    """Samples for seeds ``seed, seed + 1, ..., seed + count - 1`` as stacked arrays."""
    return stack_samples(make_sample, count, seed)


def pointing_game(cams: np.ndarray, masks: np.ndarray, tolerance_px: int = 3) -> np.ndarray:
    """Per sample, whether the peak of its map falls on its object (the pointing game).

    ``cams`` and ``masks`` are (N, H, W) at the same resolution; a peak up to
    ``tolerance_px`` pixels outside the mask still counts as a hit.  A map whose
    values are all equal peaks at its first pixel, as ``argmax`` has it.
    Returns a bool array (N,).
    """
    cams = np.asarray(cams)
    masks = np.asarray(masks, dtype=bool)
    if cams.shape != masks.shape or cams.ndim != 3:
        raise ValueError(f"cams {cams.shape} and masks {masks.shape} must both be (N, H, W)")
    hits = np.empty(len(cams), dtype=bool)
    for i, (cam, mask) in enumerate(zip(cams, masks)):
        y, x = np.unravel_index(int(cam.argmax()), cam.shape)
        hits[i] = bool(dilate(mask, tolerance_px)[y, x])
    return hits


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` grown by a disc of ``radius`` pixels (``np.roll`` wraps at the border; objects keep off it)."""
    grown = mask.copy()
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy * dy + dx * dx <= radius * radius:
                grown |= np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
    return grown


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
