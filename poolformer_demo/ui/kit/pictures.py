"""The pictures of one analysis, encoded once for the browser, and a bounded store of them.

Feature maps do not depend on the class being explained, so they are encoded once per image and
variant and reused when the user explains another class. Grad-CAM heatmaps are sent at the
stage's own resolution (at most 56x56): the browser enlarges them smoothly over the crop, which
shows the same picture as a bilinear upscale for a fraction of the bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ... import render
from ...analysis import Analysis

FEATURE_VIEWS = render.FEATURE_VIEW_NAMES


@dataclass(frozen=True)
class FeaturePictures:
    """What stays the same for one image and variant, whichever class is explained."""

    crop: str
    """The crop the model saw, as a JPEG data URI."""
    views: dict[str, tuple[str, ...]]
    """Feature view name -> one PNG data URI per stage."""
    captions: tuple[str, ...]


def image_key(path: str | Path) -> str:
    """A name for an image file's content: the same picture uploaded twice gets the same key."""
    digest = hashlib.sha1(usedforsecurity=False)
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def content_key(image):
    """What names an image in a runner's key: its content's hash for a file (every upload is a new
    file, and the same picture uploaded twice is one question), else the value itself (a page
    passes the hash it already has)."""
    return image_key(image) if isinstance(image, str) and Path(image).is_file() else image


def feature_pictures(analysis: Analysis) -> FeaturePictures:
    views = [render.feature_views(stage.activation) for stage in analysis.stages]
    return FeaturePictures(
        crop=render.data_uri(analysis.input_image, "jpeg"),
        views={
            view: tuple(render.data_uri(getattr(stage_views, view)) for stage_views in views) for view in FEATURE_VIEWS
        },
        captions=tuple(stage.caption for stage in analysis.stages),
    )


def heatmap_pictures(analysis: Analysis) -> tuple[str, ...]:
    """One PNG data URI per stage: Grad-CAM at the stage's resolution, coloured."""
    return tuple(render.data_uri(render.heatmap(stage.cam_raw)) for stage in analysis.stages)


# Layers over a photograph: WebP keeps the alpha channel at a fraction of PNG's bytes.
LAYER_FORMAT = "webp"
LAYER_QUALITY = 85


def layer_uri(values: np.ndarray, limit: float | None = None) -> tuple[str, float]:
    """A map the crop's size coloured on the diverging scale (red at +limit, blue at -limit, clear at
    0; default limit: the 99th percentile of |values|), as a data URI, and the limit used."""
    limit = render.diverging_limit(values) if limit is None else float(limit)
    return render.data_uri(render.signed_layer(values, limit), LAYER_FORMAT, LAYER_QUALITY), limit
