"""The offline "pairs" task: two far-apart discs, "same colour" or "different colour".

Each sample is a 128x128 RGB image with exactly two discs (radius 8-10 px) near opposite edges of
the image, on a mid-grey background with pixel noise.  Each disc is red, green or blue (hue, saturation and brightness
jittered); the label says whether the two discs have the same colour.  The pair lies left-right
or top-bottom; along that axis each disc's centre lies within 18 px of its edge, so at least
128 - 2 * 18 - 2 * 10 = 72 px of background lie between the discs.

Why this task: through the patch embeddings alone a stage-4 position of the lab's architecture
sees a 63 px square of the image, less than the gap, so no position sees any part of both discs.
The answer depends on both colours together, and for each colour of one disc the other is as
likely to match as not, so a sum of local evidence (global average pool, then a linear
classifier) cannot express it: the network has to move information between positions, by token
mixing (or through a global statistic such as GroupNorm's).

Two earlier designs were dropped.  With the discs 52 px or more apart (radius 11-14 px),
neighbouring fields reach an edge of both discs, so a network without token mixing could compare
them without any help (the lab's identity arm learned it on two of three seeds).  On the shapes
task's background (a smooth random colour field, with or without its clutter) the pooling arm
stayed at chance for hundreds of steps, on one seed for all of 1,200; on the flat grey
background its held-out accuracy is above 90 % by step 300 on every seed of the lab's reference.

Generation is fully determined by an integer seed; the label is the seed's parity, so any run of
consecutive seeds is balanced.  Seed ranges are those of :mod:`.data` (training from
``TRAIN_SEED_START``, validation from ``VAL_SEED_START``, testing from ``TEST_SEED_START``,
examples from ``EXAMPLE_SEED_START``), never overlapping.
"""

from __future__ import annotations

import colorsys
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .data import (
    EXAMPLE_SEED_START,
    EXAMPLES_DIR,
    IMAGE_SIZE,
    ShapeArrays,
    stack_samples,
)

__all__ = [
    "COLOUR_NAMES",
    "MIN_EDGE_GAP",
    "PAIR_CLASS_NAMES",
    "PAIR_ID2LABEL",
    "PAIR_LABEL2ID",
    "PairSample",
    "make_pair_dataset",
    "make_pair_sample",
    "write_pair_examples",
]

PAIR_CLASS_NAMES: tuple[str, ...] = ("same colour", "different colour")
PAIR_ID2LABEL: dict[int, str] = dict(enumerate(PAIR_CLASS_NAMES))
PAIR_LABEL2ID: dict[str, int] = {name: i for i, name in PAIR_ID2LABEL.items()}
COLOUR_NAMES: tuple[str, ...] = ("red", "green", "blue")
_HUES = (0.0, 1 / 3, 2 / 3)

DISC_RADIUS = (8.0, 10.0)
# A disc's centre lies within this many px of its edge of the image (along the pair's axis).
EDGE_BAND = 18.0
# The fewest background pixels between the discs: 128 - 2 * EDGE_BAND - 2 * the largest radius.
MIN_EDGE_GAP = IMAGE_SIZE - 2 * EDGE_BAND - 2 * DISC_RADIUS[1]
BACKGROUND = (128, 128, 128)
# How far (in px) every disc keeps from the image border.
BORDER_MARGIN = 2.0


@dataclass(frozen=True)
class PairSample:
    """One generated two-disc image with its ground truth."""

    image: Image.Image
    """128x128 RGB image."""
    masks: np.ndarray
    """Boolean (2, 128, 128): each disc's pixels."""
    colours: tuple[int, int]
    """Each disc's colour, an index into :data:`COLOUR_NAMES`."""
    label: int
    """0 "same colour", 1 "different colour"."""
    seed: int

    @property
    def mask(self) -> np.ndarray:
        """Both discs' pixels, (128, 128) bool: where the evidence for the label lies."""
        return self.masks[0] | self.masks[1]

    @property
    def label_name(self) -> str:
        return PAIR_CLASS_NAMES[self.label]


def _disc_colour(rng: np.random.Generator, colour: int) -> np.ndarray:
    hue = (_HUES[colour] + rng.uniform(-0.04, 0.04)) % 1.0
    rgb = colorsys.hsv_to_rgb(hue, rng.uniform(0.75, 1.0), rng.uniform(0.8, 1.0))
    return np.array(rgb, dtype=np.float32) * 255


def make_pair_sample(seed: int, label: int | None = None, size: int = IMAGE_SIZE) -> PairSample:
    """Generate the pairs sample for ``seed`` (deterministic); ``label`` overrides the seed's parity."""
    seed = int(seed)
    label = seed % 2 if label is None else int(label)
    if label not in (0, 1):
        raise ValueError(f"label must be 0 (same colour) or 1 (different colour), got {label}")
    rng = np.random.default_rng(seed)
    bg = Image.new("RGB", (size, size), BACKGROUND)

    first = int(rng.integers(0, len(COLOUR_NAMES)))
    second = first if label == 0 else (first + int(rng.integers(1, len(COLOUR_NAMES)))) % len(COLOUR_NAMES)
    vertical = bool(rng.integers(0, 2))
    out = np.asarray(bg, dtype=np.float32).copy()
    masks = np.zeros((2, size, size), dtype=bool)
    for index, colour in enumerate((first, second)):
        r = rng.uniform(*DISC_RADIUS)
        near = rng.uniform(r + BORDER_MARGIN, EDGE_BAND)
        along = near if index == 0 else size - near
        across = rng.uniform(r + BORDER_MARGIN, size - r - BORDER_MARGIN)
        cx, cy = (across, along) if vertical else (along, across)
        mask_img = Image.new("L", (size, size), 0)
        ImageDraw.Draw(mask_img).ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
        masks[index] = np.asarray(mask_img) > 127
        out[masks[index]] = _disc_colour(rng, colour)
    noise_sigma = rng.uniform(2.0, 12.0)
    out += np.float32(noise_sigma) * rng.standard_normal(out.shape, dtype=np.float32)
    image = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), "RGB")
    return PairSample(image=image, masks=masks, colours=(first, second), label=label, seed=seed)


def make_pair_dataset(count: int, seed: int = 0) -> ShapeArrays:
    """Samples for seeds ``seed .. seed + count - 1`` as stacked arrays; ``masks`` holds both discs."""
    return stack_samples(make_pair_sample, count, seed)


def write_pair_examples(out: str | Path = EXAMPLES_DIR, per_label: int = 2) -> list[Path]:
    """Write ``per_label`` example PNGs per label, ``pairs_same_<i>.png`` and ``pairs_different_<i>.png``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for label, stem in enumerate(("same", "different")):
        for i in range(per_label):
            sample = make_pair_sample(EXAMPLE_SEED_START + 2 * i + label)
            path = out / f"pairs_{stem}_{i}.png"
            sample.image.save(path, format="PNG", optimize=True)
            paths.append(path)
    return paths


def edge_gap(sample: PairSample) -> float:
    """The smallest distance (px) between a pixel of one disc and a pixel of the other."""
    a = np.argwhere(sample.masks[0]).astype(np.float32)
    b = np.argwhere(sample.masks[1]).astype(np.float32)
    return float(math.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1).min()))
