"""Figures for slides: the Lesson's and Explore's pictures at slide resolution, each a PNG at least
SLIDE_WIDTH pixels wide with its caption, its panels' titles and its colour bars drawn into it,
and the block diagram as SVG.

The pictures are the ones the pages show (render.py's views of the same measurements), enlarged:
nearest-neighbour for a stage's map, so each position stays a square; smoothly for a photograph, a
heatmap over one, and a plot (drawn again at the slide's resolution rather than enlarged).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from . import block_pictures, plots, render
from .diagram import block_diagram_file, step_name
from .edges import edge_strength
from .files import write_atomically
from .labels import display_names

if TYPE_CHECKING:
    from .analysis import Analysis
    from .lesson import LessonResult

SLIDE_WIDTH = 1600
MARGIN, GAP = 48, 28
CAPTION_PX, TITLE_PX, LABEL_PX = 34, 24, 22
BAR_WIDTH, BAR_HEIGHT = 560, 28
# Five pictures side by side still leave each about 280 px; more go on further rows.
MOST_COLUMNS = 5


@dataclass(frozen=True)
class ColourScale:
    """A colour bar: the colormap, what its two ends mean, and a line saying what is scaled to what."""

    cmap: str
    low: str
    high: str
    note: str


@dataclass(frozen=True)
class Panel:
    picture: np.ndarray
    title: str
    cells: bool = True
    """A stage's map, enlarged with one square per position; False: enlarged smoothly."""


@dataclass(frozen=True)
class SlideFigure:
    name: str
    """The file's name without its extension."""
    caption: str
    panels: tuple[Panel, ...]
    scales: tuple[ColourScale, ...] = ()


CAM_SCALE = ColourScale("jet", "0", "peak", "Grad-CAM over the crop; each map is scaled to its own peak.")
SIGNED_SCALE = ColourScale("RdBu_r", "−", "+", "Signed steps: blue below 0, white 0, red above, to each map's limit.")


def field_caption(field) -> str:
    """A receptive field's caption; a box as wide as the image is said by its width alone."""
    if field.wider_than_crop:
        return (
            f"Stage {field.stage}: box {field.theoretical_size} px wide, wider than the {field.crop_size[0]} px image"
        )
    return (
        f"Stage {field.stage}: box {field.theoretical_size} px wide; {field.mass_inside:.0%} of the gradient inside it"
    )


@lru_cache(maxsize=8)
def _font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words, line = paragraph.split(" "), ""
        for word in words:
            trial = f"{line} {word}".strip()
            if line and font.getlength(trial) > width:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines


def _text(draw: ImageDraw.ImageDraw, xy: tuple[int, int], lines: list[str], font, fill=(17, 17, 17)) -> int:
    """Draw `lines` from `xy` down; the height they took."""
    step = int(font.size * 1.3)
    for row, line in enumerate(lines):
        draw.text((xy[0], xy[1] + row * step), line, font=font, fill=fill)
    return step * len(lines)


def _enlarged(panel: Panel, width: int) -> Image.Image:
    picture = Image.fromarray(np.ascontiguousarray(panel.picture[..., :3]))
    height = max(1, round(picture.height * width / picture.width))
    return picture.resize((width, height), Image.Resampling.NEAREST if panel.cells else Image.Resampling.LANCZOS)


def _colour_bar(scale: ColourScale) -> Image.Image:
    label_font, note_font = _font(LABEL_PX, bold=True), _font(LABEL_PX)
    ramp = render.colormap_table(scale.cmap)[np.linspace(0, 255, BAR_WIDTH).astype(int)]
    note = _wrap(scale.note, note_font, SLIDE_WIDTH - 2 * MARGIN - BAR_WIDTH - GAP)
    height = max(BAR_HEIGHT + LABEL_PX + 12, int(LABEL_PX * 1.3) * len(note))
    bar = Image.new("RGB", (SLIDE_WIDTH - 2 * MARGIN, height), "white")
    bar.paste(Image.fromarray(np.repeat(ramp[None], BAR_HEIGHT, axis=0)), (0, 0))
    draw = ImageDraw.Draw(bar)
    draw.rectangle((0, 0, BAR_WIDTH - 1, BAR_HEIGHT - 1), outline=(80, 80, 80))
    draw.text((0, BAR_HEIGHT + 4), scale.low, font=label_font, fill=(17, 17, 17))
    draw.text((BAR_WIDTH, BAR_HEIGHT + 4), scale.high, font=label_font, fill=(17, 17, 17), anchor="ra")
    _text(draw, (BAR_WIDTH + GAP, 0), note, note_font)
    return bar


def slide_picture(figure: SlideFigure, width: int = SLIDE_WIDTH) -> Image.Image:
    """The figure drawn at `width` pixels (at least SLIDE_WIDTH): its caption above, its panels in
    rows with their titles below them, its colour bars at the bottom."""
    width = max(width, SLIDE_WIDTH)
    inner = width - 2 * MARGIN
    columns = min(len(figure.panels), MOST_COLUMNS) if len(figure.panels) <= MOST_COLUMNS else 4
    cell = (inner - (columns - 1) * GAP) // columns
    caption_font, title_font = _font(CAPTION_PX, bold=True), _font(TITLE_PX)
    caption = _wrap(figure.caption, caption_font, inner)
    pictures = [_enlarged(p, cell) for p in figure.panels]
    titles = [_wrap(p.title, title_font, cell) for p in figure.panels]
    rows = [range(i, min(i + columns, len(pictures))) for i in range(0, len(pictures), columns)]
    title_step = int(TITLE_PX * 1.3)
    row_heights = [max(pictures[i].height + 10 + title_step * len(titles[i]) for i in row) for row in rows]
    bars = [_colour_bar(s) for s in figure.scales]
    height = (
        MARGIN
        + int(CAPTION_PX * 1.3) * len(caption)
        + GAP
        + sum(row_heights)
        + GAP * len(rows)
        + sum(b.height + GAP for b in bars)
        + MARGIN
    )
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    top = MARGIN + _text(draw, (MARGIN, MARGIN), caption, caption_font) + GAP
    for row, row_height in zip(rows, row_heights):
        for column, index in enumerate(row):
            left = MARGIN + column * (cell + GAP)
            canvas.paste(pictures[index], (left, top))
            _text(draw, (left, top + pictures[index].height + 10), titles[index], title_font)
        top += row_height + GAP
    for bar in bars:
        canvas.paste(bar, (MARGIN, top))
        top += bar.height + GAP
    return canvas


def slide_png(figure: SlideFigure, width: int = SLIDE_WIDTH) -> bytes:
    buffer = io.BytesIO()
    # Level 6, not render.encode's 1: a slide is written once and kept; it halves photographs' size.
    slide_picture(figure, width).save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# The pages' pictures as figures
# ---------------------------------------------------------------------------------------------


def _cam_panels(analysis: Analysis) -> tuple[Panel, ...]:
    return tuple(
        Panel(render.overlay(analysis.input_image, s.cam), f"Stage {s.index} · {s.shape[1]}×{s.shape[2]}", False)
        for s in analysis.stages
    )


def explore_figures(analysis: Analysis) -> tuple[SlideFigure, ...]:
    """Explore's pictures: Grad-CAM at every stage, and each feature view at every stage."""
    target = display_names(analysis.labels)[analysis.target.index]
    model = f"PoolFormer-{analysis.variant.name.upper()}"
    views = [render.feature_views(s.activation) for s in analysis.stages]
    figures = [SlideFigure("explore-gradcam", f"Grad-CAM for {target} at every stage ({model})",
                           _cam_panels(analysis), (CAM_SCALE,))]  # fmt: skip
    described = {
        "pca": ("first three principal components as red, green and blue", ()),
        "mean": (
            "mean over channels",
            (ColourScale("viridis", "1st pct.", "99th pct.", "Each map on its own range."),),
        ),
        "channels": ("the 16 strongest channels, each on its own range", (ColourScale("viridis", "min", "max", ""),)),
    }
    for view, (what, scales) in described.items():
        panels = tuple(Panel(getattr(v, view), s.caption) for v, s in zip(views, analysis.stages))
        figures.append(SlideFigure(f"explore-features-{view}", f"Feature maps at every stage: {what} ({model})",
                                   panels, scales))  # fmt: skip
    return tuple(figures)


def _anatomy_panel(view: block_pictures.StepView) -> Panel:
    return Panel(view.picture, f"{step_name(view.name)}\n{view.title}")


def lesson_figures(result: LessonResult) -> tuple[SlideFigure, ...]:
    """The Lesson's pictures, one figure per step that shows pictures, named step-NN-key after it."""
    from .lesson import STEPS

    analysis, anatomy, comparison = result.analysis, result.anatomy, result.knockout
    model = f"PoolFormer-{result.variant.upper()}"
    number = {s.key: n for n, s in enumerate(STEPS, start=1)}

    def named(key: str) -> str:
        return f"step-{number[key]:02d}-{key}"

    def caption(key: str, what: str) -> str:
        return f"{number[key]}. {STEPS[number[key] - 1].title}: {what}"

    crop = analysis.input_image
    views = {v.name: v for v in block_pictures.anatomy_views(anatomy, block_pictures.anatomy_channel(anatomy))}
    where = f"stage {anatomy.stage}, block {anatomy.block}"
    stream = ColourScale("viridis", "low", "high", "The stream (input, after the add, output) on one range, the "
                         "normalised map and its average on another.")  # fmt: skip
    channels, height, width = anatomy.mixer.shape
    size = np.abs(anatomy.mixer).mean(axis=0)
    edges = edge_strength(anatomy.input_image, (height, width))
    before, after = comparison.before, comparison.after
    target = display_names(before.labels)[before.target.index]
    deepest = before.stages[-1].index
    figures = (
        SlideFigure(named("predict"), caption("predict", f"the {crop.width}×{crop.height} crop {model} classified"),
                    (Panel(np.asarray(crop), f"{result.image}", False),)),
        SlideFigure(named("stages"), caption("stages", "each stage's map, its first three principal components as "
                    "red, green and blue"),
                    tuple(Panel(render.pca_view(s.activation), f"Stage {s.index}: {s.shape[0]} channels × "
                          f"{s.shape[1]}×{s.shape[2]} (stride {s.stride})") for s in analysis.stages)),
        SlideFigure(named("gradcam"), caption("gradcam", f"Grad-CAM for {target} at every stage"),
                    _cam_panels(analysis), (CAM_SCALE,)),
        SlideFigure(named("anatomy"), caption("anatomy", f"{where}, channel {block_pictures.anatomy_channel(anatomy)}"),
                    tuple(_anatomy_panel(v) for v in views.values()), (stream, SIGNED_SCALE)),
        SlideFigure(named("highpass"), caption("highpass", f"{where}: the mixer beside the image's own edges"),
                    (*(_anatomy_panel(views[n]) for n in ("normed", "pooled", "mixer")),
                     Panel(render.sequential_view(edges, 0.0, max(float(edges.max()), 1e-12)), "edges in the image "
                           "(Sobel), 0 to its peak"),
                     Panel(render.sequential_view(size, 0.0, max(float(size.max()), 1e-12)),
                           f"|mixer output|, mean over {channels} channels, 0 to its peak")),
                    (ColourScale("viridis", "0", "peak", "Edges and |mixer output| from 0 to each map's peak."),
                     SIGNED_SCALE)),
        SlideFigure(named("branches"), caption("branches", "each branch's size divided by the stream's, block by "
                    "block (token mixer blue, channel MLP orange)"),
                    (Panel(plots.branch_ratio_plot(anatomy.branches, (anatomy.stage, anatomy.block), 1.4, dpi=270),
                           "", False),)),
        SlideFigure(named("knockout"), caption("knockout", f"Grad-CAM for {target} at stage {deepest}, as trained "
                    "and with the token mixer off in every stage"),
                    (Panel(render.overlay(crop, before.stages[-1].cam), f"as trained: p = "
                           f"{before.target.probability:.1%}", False),
                     Panel(render.overlay(after.input_image, after.stages[-1].cam),
                           f"{after.knockouts.describe()}: p = {after.target.probability:.1%}", False)),
                    (CAM_SCALE,)),
        SlideFigure(named("field"), caption("field", "how much the centre position's activation changes with each "
                    "pixel; its theoretical field as a box"),
                    tuple(Panel(render.receptive_field_view(f, "sqrt"), field_caption(f), False)
                          for f in result.fields),
                    (ColourScale("inferno", "0", "peak", "Square root of the gradient's size, scaled to each "
                                 "picture's peak, over the dimmed crop."),)),
    )  # fmt: skip
    return figures


DIAGRAM_FIGURE = "step-{number:02d}-block.svg"


def write_figures(figures: tuple[SlideFigure, ...], folder: str | Path) -> list[Path]:
    """Each figure as `folder`/NAME.png (written atomically)."""
    return [write_atomically(Path(folder) / f"{f.name}.png", slide_png(f)) for f in figures]


def write_lesson_figures(result: LessonResult, folder: str | Path) -> list[Path]:
    """The Lesson's figures as PNGs and the block diagram as SVG, in step order."""
    from .lesson import STEPS

    block = next(n for n, s in enumerate(STEPS, start=1) if s.key == "block")
    paths = write_figures(lesson_figures(result), folder)
    paths.append(write_atomically(Path(folder) / DIAGRAM_FIGURE.format(number=block), block_diagram_file()))
    return sorted(paths, key=lambda p: p.name)
