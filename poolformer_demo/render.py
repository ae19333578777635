"""Arrays to pictures: colormaps, channel summaries, channel grids and Grad-CAM overlays.

Everything here is a lookup into a precomputed colormap table; drawing a pyplot figure per
map would cost about 40x more.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

# Feature maps are at most 56x56; nearest-neighbour upscaling keeps each position visible as a cell.
VIEW_SIZE = 224
GRID_CHANNELS = 16
FEATURE_CMAP = "viridis"
CAM_CMAP = "jet"


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


def channel_mean_view(activation: torch.Tensor) -> np.ndarray:
    """Mean over channels of a [C, H, W] activation, as a heatmap: where the stage responds."""
    mean = activation.mean(dim=0).numpy()
    return upscale(apply_colormap(normalize(mean, 1, 99)))


def pca_view(activation: torch.Tensor) -> np.ndarray:
    """The three main directions of variation across channels, shown as R, G and B.

    Positions with similar channel vectors get similar colours, so parts of an object the
    stage treats alike stand out as regions of one colour.
    """
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
    scores = (scores * torch.where(signs == 0, 1.0, signs)).numpy()
    rgb = np.stack([normalize(scores[:, i], 1, 99) for i in range(3)], axis=-1)
    return upscale((rgb.reshape(height, width, 3) * 255).astype(np.uint8))


def top_channels_view(activation: torch.Tensor, count: int = GRID_CHANNELS) -> np.ndarray:
    """A grid of the channels with the highest mean activation, each scaled on its own."""
    channels, height, width = activation.shape
    count = min(count, channels)
    order = torch.argsort(activation.mean(dim=(1, 2)), descending=True)[:count]
    tiles = activation[order].numpy()
    low = tiles.min(axis=(1, 2), keepdims=True)
    span = tiles.max(axis=(1, 2), keepdims=True) - low
    tiles = apply_colormap(np.where(span > 1e-12, (tiles - low) / np.where(span > 1e-12, span, 1.0), 0.0))
    columns = int(np.ceil(np.sqrt(count)))
    rows = int(np.ceil(count / columns))
    cell = max(1, int(np.ceil(VIEW_SIZE / columns / max(height, width))))
    gap = 2
    # Pad every tile with a white gap on its right and bottom, then lay the tiles out row by row.
    padded = np.full((rows * columns, height * cell + gap, width * cell + gap, 3), 255, np.uint8)
    padded[:count, : height * cell, : width * cell] = tiles.repeat(cell, axis=1).repeat(cell, axis=2)
    grid = padded.reshape(rows, columns, height * cell + gap, width * cell + gap, 3).transpose(0, 2, 1, 3, 4)
    grid = grid.reshape(rows * (height * cell + gap), columns * (width * cell + gap), 3)
    return np.ascontiguousarray(grid[:-gap, :-gap])


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
    """The picture with a caption strip above it, so an exported PNG says what it shows."""
    height, width = rgb.shape[:2]
    strip = 22
    canvas = Image.new("RGB", (width, height + strip), (255, 255, 255))
    canvas.paste(Image.fromarray(rgb), (0, strip))
    ImageDraw.Draw(canvas).text((4, 3), caption, fill=(20, 20, 20), font=_font(14))
    return canvas


SIGNED_CMAP = "RdBu_r"


def signed_unit(values: np.ndarray, high_pct: float = 99.5) -> np.ndarray:
    """A signed map to [0, 1] with 0 at 0.5, symmetric: +-(the high_pct percentile of |values|)
    reach the ends, so one outlier pixel does not wash the rest out."""
    values = np.asarray(values, dtype=np.float32)
    scale = float(np.percentile(np.abs(values), high_pct)) if values.size else 0.0
    if not np.isfinite(scale) or scale <= 1e-12:
        return np.full_like(values, 0.5)
    return np.clip(0.5 + 0.5 * values / scale, 0.0, 1.0)


def attribution_overlay(image: np.ndarray | Image.Image, values: np.ndarray, signed: bool, opacity: float = 0.5) -> np.ndarray:
    """An attribution map over the image: signed maps on a diverging scale (blue negative, white
    zero, red positive), others scaled to their maximum on the CAM colormap."""
    if not signed:
        peak = float(np.max(values)) if np.size(values) else 0.0
        return overlay(image, np.asarray(values) / peak if peak > 0 else np.zeros_like(values), opacity)
    base = np.asarray(image, dtype=np.float32)
    heat = apply_colormap(signed_unit(values), SIGNED_CMAP).astype(np.float32)
    opacity = float(np.clip(opacity, 0.0, 1.0))
    return np.rint((1.0 - opacity) * base + opacity * heat).astype(np.uint8)


def figure_to_rgb(figure) -> np.ndarray:
    """A matplotlib Figure drawn with the Agg canvas, as an HxWx3 uint8 array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def faithfulness_figure(report, titles: dict[str, str] | None = None):
    """Deletion and insertion curves of a faithfulness.FaithfulnessReport side by side, each
    method with its AUC in the legend, the random baseline as a mean line and a band (min to max
    over the random orders). Returns a matplotlib Figure (no pyplot state, safe in threads)."""
    from matplotlib.figure import Figure

    titles = titles or {}
    figure = Figure(figsize=(9, 3.2 + 0.18 * (len(report.methods) + 2)), dpi=100, layout="constrained")
    axes = figure.subplots(1, 2, sharey=True)
    x = report.fractions
    random = report.random
    for ax, kind, better in ((axes[0], "deletion", "lower"), (axes[1], "insertion", "higher")):
        curves = getattr(random, kind)
        ax.fill_between(x, curves.min(axis=0), curves.max(axis=0), color="0.8", label=None)
        ax.plot(x, curves.mean(axis=0), color="0.4", linestyle="--", label=f"random ({getattr(random.mean, kind + '_auc'):.3f})")
        for name, method_curves in report.methods.items():
            auc = getattr(method_curves, kind + "_auc")
            ax.plot(x, getattr(method_curves, kind), linewidth=1.8, label=f"{titles.get(name, name)} ({auc:.3f})")
        ax.set_title(f"{kind.capitalize()} (AUC, {better} is better)", fontsize=10)
        ax.set_xlabel("fraction of pixels " + ("removed" if kind == "deletion" else "inserted"))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        # Below the plot, so no curve is hidden behind it.
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)
    axes[0].set_ylabel("target class probability")
    return figure


def faithfulness_plot(report, titles: dict[str, str] | None = None) -> np.ndarray:
    """faithfulness_figure as an RGB array."""
    return figure_to_rgb(faithfulness_figure(report, titles))
