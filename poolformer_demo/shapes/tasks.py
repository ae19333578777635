"""The generated tasks as data, and a disk cache of their datasets.

Two tasks share one sample format (:class:`~poolformer_demo.shapes.data.ShapeArrays`: images,
object masks, labels, seeds) and one seed split:

* ``shapes``: one of six shapes, large and central (:mod:`.data`); every deep position of a
  small PoolFormer sees the whole object through its patch embeddings alone;
* ``pairs``: two far-apart discs, same colour or not (:mod:`.pairs`); no deep position sees
  any part of both through the patch embeddings, so the answer needs token mixing.

Generating a few thousand images costs tens of seconds on a busy CPU, so :func:`cached_dataset`
keeps each (task, generator version, size, seed range) on disk under :func:`cache_dir` and only
the first call pays.  Files are written under a temporary name and then renamed, so a reader
never sees half a file even when two processes fill the cache at once.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .data import CLASS_NAMES, IMAGE_SIZE, ShapeArrays, make_dataset
from .pairs import PAIR_CLASS_NAMES, make_pair_dataset

__all__ = ["TASKS", "TASK_NAMES", "Task", "cache_dir", "cached_dataset", "downsampled"]

CACHE_ENV = "POOLFORMER_CACHE_DIR"


@dataclass(frozen=True)
class Task:
    name: str
    title: str
    class_names: tuple[str, ...]
    generate: Callable[[int, int], ShapeArrays]
    """``generate(count, first_seed)``: the samples for consecutive seeds at 128 px."""
    version: int
    """Bumped whenever the generator's pixels change, so that stale cache files are not read."""
    needs_mixing: bool
    """Whether the answer depends on positions further apart than the lab's patch embeddings reach."""

    @property
    def chance(self) -> float:
        """The accuracy of a guess: one over the number of classes (the classes are balanced)."""
        return 1 / len(self.class_names)

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.class_names))

    @property
    def label2id(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.class_names)}


TASKS: dict[str, Task] = {
    task.name: task
    for task in (
        Task("shapes", "one shape, which of six", CLASS_NAMES, make_dataset, 1, needs_mixing=False),
        Task(
            "pairs",
            "two far-apart discs, same colour or not",
            PAIR_CLASS_NAMES,
            make_pair_dataset,
            3,
            needs_mixing=True,
        ),
    )
}
TASK_NAMES: tuple[str, ...] = tuple(TASKS)


def cache_dir() -> Path:
    """``$POOLFORMER_CACHE_DIR`` if set, else ``~/.cache/poolformer_demo``."""
    env = os.environ.get(CACHE_ENV)
    return Path(env) if env else Path.home() / ".cache" / "poolformer_demo"


def cached_dataset(task: Task | str, count: int, first_seed: int, image_size: int = IMAGE_SIZE) -> ShapeArrays:
    """``task``'s samples for seeds ``first_seed .. first_seed + count - 1``, images resized to ``image_size``.

    Masks stay at the generator's 128 px.  Read from the cache when there; otherwise generated,
    then stored atomically (a cache that cannot be written only costs the next call the time).
    """
    task = TASKS[task] if isinstance(task, str) else task
    path = cache_dir() / f"{task.name}-v{task.version}-{image_size}px-seeds{first_seed}+{count}.npz"
    if path.is_file():
        try:
            return _read(path)
        except (OSError, ValueError, KeyError):
            pass  # a damaged file is regenerated and replaced below
    data = downsampled(task.generate(count, first_seed), image_size)
    with contextlib.suppress(OSError):
        _write(path, data)
    return data


def downsampled(data: ShapeArrays, size: int) -> ShapeArrays:
    """The same samples with images resized to ``size`` px (masks stay at full resolution)."""
    if size == data.images.shape[1]:
        return data
    images = np.stack([np.asarray(Image.fromarray(im).resize((size, size), Image.BILINEAR)) for im in data.images])
    return data._replace(images=images)


def _write(path: Path, data: ShapeArrays) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as f:
            np.savez(
                f,
                images=data.images,
                masks=np.packbits(data.masks, axis=-1),
                mask_width=np.int64(data.masks.shape[-1]),
                labels=data.labels,
                seeds=data.seeds,
            )
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read(path: Path) -> ShapeArrays:
    with np.load(path) as f:
        width = int(f["mask_width"])
        masks = np.unpackbits(f["masks"], axis=-1, count=width).astype(bool)
        return ShapeArrays(images=f["images"], masks=masks, labels=f["labels"], seeds=f["seeds"])
