"""Turning whatever a user uploads into the RGB picture the model expects, or a clear refusal."""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ImageInputError
from .i18n import Said

MAX_PIXELS_ENV = "POOLFORMER_MAX_PIXELS"
DEFAULT_MAX_PIXELS = 50_000_000
# The processor resizes the shortest edge to ~250 px and keeps only the central square, so
# cropping a long strip to this aspect ratio changes nothing the model sees, while an
# uncropped 1x5000 strip would be resized to 250x1,250,000 pixels.
MAX_ASPECT_RATIO = 3.0
_EXIF_ORIENTATION = 0x0112


@dataclass(frozen=True)
class PreparedImage:
    image: Image.Image
    notes: tuple[str, ...] = ()


def crop_image(pixel_values, processor) -> Image.Image:
    """The crop a model saw, as RGB: a [3, H, W] `pixel_values` tensor with the processor's
    normalisation undone."""
    mean = np.asarray(processor.image_mean, dtype=np.float32)
    std = np.asarray(processor.image_std, dtype=np.float32)
    rgb = pixel_values.detach().float().permute(1, 2, 0).cpu().numpy() * std + mean
    return Image.fromarray(np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8))


def max_pixels() -> int:
    return int(os.environ.get(MAX_PIXELS_ENV, DEFAULT_MAX_PIXELS))


def prepare_image(source: Image.Image | str | Path | bytes | None) -> PreparedImage:
    """Open (if needed), check and convert an image to RGB; say what was changed and why."""
    if source is None:
        raise ImageInputError(Said("error.image.none"))
    image = source if isinstance(source, Image.Image) else _open(source)
    try:
        return _to_rgb(image)
    except ImageInputError:
        raise
    except (OSError, ValueError, SyntaxError) as exc:
        # Pillow decodes some formats lazily, so a damaged file can fail only while converting.
        raise ImageInputError(Said("error.image.not_rgb", error=type(exc).__name__)) from None


def _open(source: str | Path | bytes) -> Image.Image:
    # Each refusal is a whole sentence about the upload or about a named file (`.upload`, `.file`).
    subject, file = ("upload", "") if isinstance(source, bytes) else ("file", Path(source).name)
    try:
        if isinstance(source, bytes):
            if not source:
                raise ImageInputError(Said("error.image.empty.upload"))
            image = _open_quietly(io.BytesIO(source))
        else:
            path = Path(source)
            if not path.is_file():
                raise ImageInputError(Said("error.image.not_found", file=file))
            if path.stat().st_size == 0:
                raise ImageInputError(Said("error.image.empty.file", file=file))
            image = _open_quietly(path)
        # The size is known from the header; refuse before any pixel is decoded.
        _check_pixel_count(image.size)
        image.load()
    except ImageInputError:
        raise
    except Image.DecompressionBombError:
        raise ImageInputError(Said(f"error.image.too_large.{subject}", file=file, limit=max_pixels() / 1e6)) from None
    except UnidentifiedImageError:
        raise ImageInputError(Said(f"error.image.format.{subject}", file=file)) from None
    except (OSError, SyntaxError, ValueError) as exc:
        reason = "truncated" if "truncated" in str(exc) or "broken" in str(exc) else "corrupt"
        raise ImageInputError(Said(f"error.image.{reason}.{subject}", file=file)) from None
    return image


def _open_quietly(file) -> Image.Image:
    # Pillow warns about large images at open(); the project's own limit is checked right after.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(file)


def _check_pixel_count(size: tuple[int, int]) -> None:
    width, height = size
    limit = max_pixels()
    if width * height > limit:
        raise ImageInputError(
            Said("error.image.pixels", width=width, height=height, megapixels=width * height / 1e6, limit=limit / 1e6)
        )
    if width < 1 or height < 1:
        raise ImageInputError(Said("error.image.no_pixels"))


def _to_rgb(image: Image.Image) -> PreparedImage:
    notes: list[str] = []
    _check_pixel_count(image.size)
    frames = getattr(image, "n_frames", 1)
    if frames > 1:
        image.seek(0)
        notes.append(Said("note.animated", frames=frames))
    if image.getexif().get(_EXIF_ORIENTATION, 1) in range(2, 9):
        image = ImageOps.exif_transpose(image)
        notes.append(Said("note.exif"))

    if image.mode.startswith("I;16") or image.mode in ("I", "F"):
        image = _scale_to_8bit(image)
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode in ("RGB", "L") and "transparency" in image.info):
        image = image.convert("RGBA")
        if image.getchannel("A").getextrema()[0] < 255:
            background = Image.new("RGBA", image.size, (255, 255, 255, 255))
            image = Image.alpha_composite(background, image)
            notes.append(Said("note.transparent"))
    image = image.convert("RGB")

    width, height = image.size
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        side = min(width, height)
        long_side = int(MAX_ASPECT_RATIO * side)
        left = (width - min(width, long_side)) // 2
        top = (height - min(height, long_side)) // 2
        image = image.crop((left, top, left + min(width, long_side), top + min(height, long_side)))
        notes.append(Said("note.elongated", width=width, height=height))
    return PreparedImage(image=image, notes=tuple(notes))


def _scale_to_8bit(image: Image.Image) -> Image.Image:
    """16-bit and 32-bit images as 8-bit grey.

    16-bit integers span 0..65535. Float images in [0, 1] are taken as [0, 1], as image libraries
    read them; only values outside that range, or integer images, are stretched to their own
    range, so nothing is clipped.
    """
    array = np.asarray(image, dtype=np.float64)
    if image.mode.startswith("I;16"):
        array = array / 65535.0
    else:
        finite = array[np.isfinite(array)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if image.mode == "F" and low >= 0.0 and high <= 1.0:
            low, high = 0.0, 1.0
        array = (np.nan_to_num(array, nan=low) - low) / (high - low if high > low else 1.0)
    return Image.fromarray(np.clip(array * 255.0 + 0.5, 0, 255).astype(np.uint8), mode="L")
