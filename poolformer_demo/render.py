"""Arrays to pictures: colormaps, channel summaries, channel grids, Grad-CAM heatmaps and overlays,
and their encodings for a browser.

Everything here is a lookup into a precomputed colormap table; drawing a pyplot figure per
map would cost about 40x more. Feature views stay at the stage's own resolution (at most 56x56):
a browser enlarges them without blurring (CSS `image-rendering: pixelated`), and exports enlarge
them with `upscale`.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, fields
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

if TYPE_CHECKING:
    from .receptive_field import ReceptiveField

# Exported feature maps are enlarged to at least this size; nearest-neighbour keeps each position a cell.
VIEW_SIZE = 224
GRID_CHANNELS = 16
FEATURE_CMAP = "viridis"
CAM_CMAP = "jet"
# Signed maps (the token mixer's output, the MLP branch): red above zero, blue below, white at zero.
DIVERGING_CMAP = "RdBu_r"
ERF_CMAP = "inferno"


@lru_cache(maxsize=8)
def colormap_table(name: str) -> np.ndarray:
    """A [256, 3] uint8 lookup table for a matplotlib colormap."""
    import matplotlib

    return (matplotlib.colormaps[name](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)


def normalize(values: np.ndarray, low_pct: float = 0.0, high_pct: float = 100.0) -> np.ndarray:
    """Scale to [0, 1] between two percentiles; a constant map becomes all zeros."""
    values = np.asarray(values, dtype=np.float32)
    low, high = np.percentile(values, [low_pct, high_pct]) if values.size else (0.0, 0.0)
    if not np.isfinite(high - low) or high - low <= 1e-12:
        return np.zeros_like(values)
    return np.clip((values - low) / (high - low), 0.0, 1.0)


def apply_colormap(unit: np.ndarray, name: str = FEATURE_CMAP) -> np.ndarray:
    """Map values in [0, 1] to RGB uint8 through the colormap table."""
    indices = np.clip(np.rint(np.asarray(unit) * 255), 0, 255).astype(np.uint8)
    return colormap_table(name)[indices]


def upscale(rgb: np.ndarray, size: int = VIEW_SIZE) -> np.ndarray:
    """Nearest-neighbour upscale of an HxWx3 array so its longer side is at least `size`."""
    height, width = rgb.shape[:2]
    factor = max(1, int(np.ceil(size / max(height, width))))
    return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)


@dataclass(frozen=True)
class FeatureViews:
    """Three pictures of one stage's activation: where it responds, how it groups positions
    (PCA as RGB), and its most active channels."""

    mean: np.ndarray
    pca: np.ndarray
    channels: np.ndarray


# The views' names, as every page, file and API calls them.
FEATURE_VIEW_NAMES: tuple[str, ...] = tuple(f.name for f in fields(FeatureViews))


def feature_views(activation: np.ndarray | torch.Tensor) -> FeatureViews:
    """The three feature views of a [C, H, W] stage activation (an analysis's `stage.activation`)."""
    activation = torch.as_tensor(activation)
    return FeatureViews(
        mean=channel_mean_view(activation), pca=pca_view(activation), channels=top_channels_view(activation)
    )


def channel_mean_view(activation: np.ndarray | torch.Tensor) -> np.ndarray:
    """Mean over channels of a [C, H, W] activation, as a heatmap: where the stage responds."""
    mean = torch.as_tensor(activation).mean(dim=0).cpu().numpy()
    return apply_colormap(normalize(mean, 1, 99))


def pca_view(activation: np.ndarray | torch.Tensor) -> np.ndarray:
    """The three main directions of variation across channels, shown as R, G and B.

    Positions with similar channel vectors get similar colours, so parts of an object the
    stage treats alike stand out as regions of one colour.
    """
    activation = torch.as_tensor(activation)
    channels, height, width = activation.shape
    features = activation.reshape(channels, height * width).T.float()
    features = features - features.mean(dim=0, keepdim=True)
    # The principal scores come from the eigenvectors of whichever Gram matrix is smaller:
    # channels x channels early on (64 x 64 over 3136 positions), positions x positions at the
    # deepest stage (49 x 49 over 512 channels). A full SVD costs ~30x more.
    if channels <= height * width:
        eigenvalues, eigenvectors = torch.linalg.eigh(features.T @ features)
        scores = features @ eigenvectors[:, -3:].flip(1)
    else:
        eigenvalues, eigenvectors = torch.linalg.eigh(features @ features.T)
        scores = eigenvectors[:, -3:].flip(1) * eigenvalues[-3:].flip(0).clamp(min=0).sqrt()
    if scores.shape[1] < 3:
        scores = torch.nn.functional.pad(scores, (0, 3 - scores.shape[1]))
    # Eigenvectors' signs are arbitrary; making each component's largest score positive keeps
    # colours stable between runs.
    signs = torch.sign(scores.gather(0, scores.abs().argmax(dim=0, keepdim=True)))
    scores = (scores * torch.where(signs == 0, 1.0, signs)).cpu().numpy()
    rgb = np.stack([normalize(scores[:, i], 1, 99) for i in range(3)], axis=-1)
    return (rgb.reshape(height, width, 3) * 255).astype(np.uint8)


def top_channels_view(activation: np.ndarray | torch.Tensor, count: int = GRID_CHANNELS) -> np.ndarray:
    """A grid of the channels with the highest mean activation, each scaled on its own."""
    activation = torch.as_tensor(activation)
    channels, height, width = activation.shape
    count = min(count, channels)
    order = torch.argsort(activation.mean(dim=(1, 2)), descending=True)[:count]
    tiles = activation[order].cpu().numpy()
    low = tiles.min(axis=(1, 2), keepdims=True)
    span = tiles.max(axis=(1, 2), keepdims=True) - low
    tiles = apply_colormap(np.where(span > 1e-12, (tiles - low) / np.where(span > 1e-12, span, 1.0), 0.0))
    columns = int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    cell, gap = 1, 1
    # Pad every tile with a white gap on its right and bottom, then lay the tiles out row by row.
    padded = np.full((rows * columns, height * cell + gap, width * cell + gap, 3), 255, np.uint8)
    padded[:count, : height * cell, : width * cell] = tiles.repeat(cell, axis=1).repeat(cell, axis=2)
    grid = padded.reshape(rows, columns, height * cell + gap, width * cell + gap, 3).transpose(0, 2, 1, 3, 4)
    grid = grid.reshape(rows * (height * cell + gap), columns * (width * cell + gap), 3)
    return np.ascontiguousarray(grid[:-gap, :-gap])


def heatmap(cam: np.ndarray) -> np.ndarray:
    """A non-negative Grad-CAM map coloured for display, scaled by its own peak."""
    cam = np.asarray(cam, dtype=np.float32)
    peak = float(cam.max()) if cam.size else 0.0
    return apply_colormap(cam / peak if peak > 0 else np.zeros_like(cam), CAM_CMAP)


def encode(picture: np.ndarray | Image.Image, format: str = "png", quality: int = 90) -> bytes:
    """The picture as file bytes: PNG where every pixel matters, JPEG or WebP for photographs."""
    image = picture if isinstance(picture, Image.Image) else Image.fromarray(picture)
    buffer = io.BytesIO()
    if format == "png":
        # Level 1: these pictures are small, and a browser decodes either level alike.
        image.save(buffer, format="PNG", compress_level=1)
    else:
        image.save(buffer, format=format.upper(), quality=quality)
    return buffer.getvalue()


def data_uri(picture: np.ndarray | Image.Image, format: str = "png", quality: int = 90) -> str:
    """The picture inlined as a `data:` URI, for pages that should not fetch a file per picture."""
    payload = base64.b64encode(encode(picture, format, quality)).decode("ascii")
    return f"data:image/{format};base64,{payload}"


def overlay(image: np.ndarray | Image.Image, cam: np.ndarray, opacity: float = 0.5) -> np.ndarray:
    """Blend a [0, 1] Grad-CAM map (same size as the image) over an RGB image."""
    base = np.asarray(image, dtype=np.float32)
    heat = apply_colormap(cam, CAM_CMAP).astype(np.float32)
    opacity = float(np.clip(opacity, 0.0, 1.0))
    return np.rint((1.0 - opacity) * base + opacity * heat).astype(np.uint8)


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def with_caption(rgb: np.ndarray, caption: str) -> Image.Image:
    """The picture with a caption strip above it, so an exported PNG says what it shows. A caption
    wider than the picture is wrapped onto more lines."""
    height, width = rgb.shape[:2]
    font = _font(14)
    lines = _wrap(caption, font, width - 8)
    strip = 22 + 18 * (len(lines) - 1)
    canvas = Image.new("RGB", (width, height + strip), (255, 255, 255))
    canvas.paste(Image.fromarray(rgb), (0, strip))
    draw = ImageDraw.Draw(canvas)
    for row, line in enumerate(lines):
        draw.text((4, 3 + 18 * row), line, fill=(20, 20, 20), font=font)
    return canvas


def _wrap(text: str, font: ImageFont.ImageFont, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split(" "):
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def diverging_view(values: np.ndarray, limit: float | None = None) -> np.ndarray:
    """A signed [H, W] map through a diverging colormap centred on 0: white at 0, red at +limit,
    blue at -limit (default limit: the 99th percentile of |values|)."""
    values = np.asarray(values, dtype=np.float32)
    limit = diverging_limit(values) if limit is None else float(limit)
    unit = 0.5 + 0.5 * values / limit if limit > 0 else np.full_like(values, 0.5)
    return upscale(apply_colormap(np.clip(unit, 0.0, 1.0), DIVERGING_CMAP))


def signed_layer(values: np.ndarray, limit: float) -> np.ndarray:
    """RGBA for laying a signed map over a picture: the diverging colour of each value (red at
    +limit, blue at -limit), and an opacity that grows with |value|, so the picture shows through
    where the map says nothing."""
    values = np.asarray(values, dtype=np.float32)
    scaled = np.clip(values / limit, -1.0, 1.0) if limit > 0 else np.zeros_like(values)
    rgb = apply_colormap(0.5 + 0.5 * scaled, DIVERGING_CMAP)
    # The square root keeps a map's weaker half visible.
    alpha = np.rint(255 * np.sqrt(np.abs(scaled))).astype(np.uint8)
    return np.dstack([rgb, alpha])


def diverging_limit(values: np.ndarray) -> float:
    """The symmetric range a diverging map is drawn with: the 99th percentile of |values|."""
    values = np.abs(np.asarray(values, dtype=np.float32))
    return float(np.percentile(values, 99)) if values.size else 0.0


def sequential_view(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """An [H, W] map through the feature colormap between two given values, so several maps drawn
    with the same range can be compared."""
    values = np.asarray(values, dtype=np.float32)
    unit = (values - low) / (high - low) if high > low else np.zeros_like(values)
    return upscale(apply_colormap(np.clip(unit, 0.0, 1.0)))


def receptive_field_view(field: ReceptiveField, scale: str = "sqrt") -> np.ndarray:
    """The effective receptive field over the dimmed crop, with the theoretical field drawn as a
    box and the position's centre as a cross. `scale` ("linear", "sqrt" or "log": six decades
    below the peak) sets how the ERF's tail is shown."""
    erf = np.asarray(field.erf, dtype=np.float64)
    peak = float(erf.max())
    if peak <= 0:
        unit = np.zeros_like(erf)
    elif scale == "linear":
        unit = erf / peak
    elif scale == "sqrt":
        unit = np.sqrt(erf / peak)
    elif scale == "log":
        unit = np.clip(1.0 + np.log10(np.maximum(erf / peak, 1e-12)) / 6.0, 0.0, 1.0)
    else:
        raise ValueError(f"scale must be linear, sqrt or log, not {scale!r}")
    grey = np.asarray(field.input_image.convert("L"), dtype=np.float32)[..., None] * 0.35
    heat = apply_colormap(unit, ERF_CMAP).astype(np.float32)
    alpha = np.clip(unit, 0.0, 1.0)[..., None] ** 0.5
    canvas = Image.fromarray(np.rint((1 - alpha) * grey + alpha * heat).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    top, left, bottom, right = field.box
    draw.rectangle((left, top, right - 1, bottom - 1), outline=(0, 230, 255), width=2)
    geometry = field.geometry
    cy = geometry.offset + field.y * geometry.jump + (geometry.size - 1) / 2
    cx = geometry.offset + field.x * geometry.jump + (geometry.size - 1) / 2
    draw.line((cx - 4, cy, cx + 4, cy), fill=(255, 255, 255), width=1)
    draw.line((cx, cy - 4, cx, cy + 4), fill=(255, 255, 255), width=1)
    return np.asarray(canvas)


def attribution_overlay(
    image: np.ndarray | Image.Image, values: np.ndarray, signed: bool, opacity: float = 0.5, limit: float | None = None
) -> np.ndarray:
    """An attribution map (the image's size) over the image: signed maps on the diverging scale
    (blue negative, white 0, red positive, +-limit at the ends; default limit: diverging_limit),
    others scaled to their maximum on the CAM colormap."""
    if not signed:
        peak = float(np.max(values)) if np.size(values) else 0.0
        return overlay(image, np.asarray(values) / peak if peak > 0 else np.zeros_like(values), opacity)
    values = np.asarray(values, dtype=np.float32)
    limit = diverging_limit(values) if limit is None else float(limit)
    unit = np.clip(0.5 + 0.5 * values / limit, 0.0, 1.0) if limit > 0 else np.full_like(values, 0.5)
    base = np.asarray(image, dtype=np.float32)
    heat = apply_colormap(unit, DIVERGING_CMAP).astype(np.float32)
    opacity = float(np.clip(opacity, 0.0, 1.0))
    return np.rint((1.0 - opacity) * base + opacity * heat).astype(np.uint8)


# The token mixer you can touch: the pooling window outlined in white and the token in black, each
# over a thin edge of the other colour, so both show on any map.
WINDOW_EDGE, TOKEN_EDGE = (255, 255, 255), (0, 0, 0)


def window_view(cells: np.ndarray, window, token, size: int = 2 * VIEW_SIZE) -> np.ndarray:
    """A stage's map coloured one pixel per position (by `apply_colormap`, `heatmap`), enlarged to at
    least `size`, with the pooling window (top, left, bottom, right in grid cells, ends exclusive)
    outlined in white and the token (y, x) in black."""
    canvas = Image.fromarray(upscale(cells, size))
    draw = ImageDraw.Draw(canvas)
    factor = canvas.width // cells.shape[1]
    y, x = token
    for cell_box, colour, edge in ((window, WINDOW_EDGE, TOKEN_EDGE), ((y, x, y + 1, x + 1), TOKEN_EDGE, WINDOW_EDGE)):
        top, left, bottom, right = (factor * side for side in cell_box)
        draw.rectangle((left, top, right - 1, bottom - 1), outline=edge, width=3)
        draw.rectangle((left, top, right - 1, bottom - 1), outline=colour, width=2)
    return np.asarray(canvas)


def diverging_cells(values: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray]:
    """Table cells on the diverging scale (red at +limit, white at 0, blue at -limit): each value's
    background, and black or white text, whichever contrasts more with it (WCAG; at least 4.5:1 on any
    colour). Both RGB uint8."""
    unit = 0.5 + 0.5 * np.asarray(values, dtype=np.float32) / limit if limit > 0 else np.full(np.shape(values), 0.5)
    background = apply_colormap(np.clip(unit, 0.0, 1.0), DIVERGING_CMAP)
    srgb = background / 255.0
    luminance = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4) @ [0.2126, 0.7152, 0.0722]
    white = 1.05 / (luminance + 0.05) > (luminance + 0.05) / 0.05
    return background, np.where(white[..., None], 255, 0).astype(np.uint8).repeat(3, axis=-1)
