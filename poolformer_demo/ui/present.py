"""What the page shows, as plain values: Markdown, label dicts and picture lists from an Analysis.

Nothing here imports Gradio, so formatting is tested without a server, and every tab formats
the same way.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, fields
from functools import lru_cache

import numpy as np

from .. import render
from ..analysis import Analysis
from ..errors import without_paths
from ..variants import HUB_VARIANTS, STAGE_COUNT, Variant

VIEW_PCA = "PCA (RGB)"
VIEW_MEAN = "mean activation"
VIEW_CHANNELS = "top channels"
VIEWS = (VIEW_PCA, VIEW_MEAN, VIEW_CHANNELS)
DEFAULT_VIEW = VIEW_PCA
DEFAULT_OPACITY = 0.5
DEEPEST_STAGE = STAGE_COUNT
_VIEW_ATTRIBUTES = {VIEW_PCA: "pca", VIEW_MEAN: "mean", VIEW_CHANNELS: "channels"}


@dataclass(frozen=True, eq=False)
class Session:
    """What one browser tab remembers between events: the image, the variant and the last result.

    eq=False keeps identity hashing: an Analysis holds arrays, which cannot be hashed by value.
    """

    image: str
    variant: str
    analysis: Analysis
    stage: int = DEEPEST_STAGE


@dataclass(frozen=True)
class ExploreView:
    """Every result the Explore tab shows for one analysis, by name.

    The field order is the order of the `/analyze` endpoint's outputs; the layout and the tests
    read it from here instead of repeating positions.
    """

    predictions: dict[str, float]
    feature_maps: list[tuple[np.ndarray, str]]
    cam_gallery: list[tuple[np.ndarray, str]]
    cam_large: np.ndarray
    target: str
    target_info: str
    facts: str
    notes: str
    journey: str
    session: Session

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def values(self) -> tuple:
        # Not dataclasses.astuple: it would deep-copy every array.
        return tuple(getattr(self, name) for name in self.names())


def explore_view(session: Session, view: str = DEFAULT_VIEW, opacity: float = DEFAULT_OPACITY) -> ExploreView:
    """All the Explore tab's results for one analysis."""
    analysis = session.analysis
    return ExploreView(
        predictions=label_value(analysis),
        feature_maps=feature_gallery(analysis, view),
        cam_gallery=overlay_gallery(analysis, opacity),
        cam_large=large_overlay(analysis, session.stage, opacity),
        target=target_name(analysis),
        target_info=target_markdown(analysis, session.stage),
        facts=facts_markdown(analysis.variant, analysis),
        notes=notes_markdown(analysis),
        journey=journey_markdown(analysis),
        session=session,
    )


@lru_cache(maxsize=8)
def display_names(labels: tuple[str, ...]) -> tuple[str, ...]:
    """Class names as shown in menus and in the top-5 list, made unique.

    ImageNet names two classes "crane" (the bird and the machine); a dict keyed by name, as the
    Label component needs, would merge them, so repeated names get their class index appended.
    """
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return tuple(label if counts[label] == 1 else f"{label} (class {i})" for i, label in enumerate(labels))


def label_value(analysis: Analysis) -> dict[str, float]:
    names = display_names(analysis.labels)
    return {names[p.index]: p.probability for p in analysis.predictions}


def feature_gallery(analysis: Analysis, view: str = DEFAULT_VIEW) -> list[tuple[np.ndarray, str]]:
    attribute = _VIEW_ATTRIBUTES.get(view, "pca")
    return [(getattr(stage.views, attribute), stage.caption) for stage in analysis.stages]


def overlay_gallery(analysis: Analysis, opacity: float = DEFAULT_OPACITY) -> list[tuple[np.ndarray, str]]:
    return [(render.overlay(analysis.input_image, stage.cam, opacity), stage.caption) for stage in analysis.stages]


def large_overlay(analysis: Analysis, stage: int = DEEPEST_STAGE, opacity: float = DEFAULT_OPACITY) -> np.ndarray:
    return render.overlay(analysis.input_image, analysis.stages[stage - 1].cam, opacity)


def target_name(analysis: Analysis) -> str:
    return display_names(analysis.labels)[analysis.target.index]


def target_markdown(analysis: Analysis, stage: int = DEEPEST_STAGE) -> str:
    """Which class Grad-CAM explains, and which stage is shown large."""
    target = analysis.target
    top1 = " · top prediction" if target.index == analysis.predictions[0].index else ""
    return (
        f"Grad-CAM for **{md(target_name(analysis))}** · class {target.index} · p = {target.probability:.1%}{top1}"
        f"  \nEnlarged: {analysis.stages[stage - 1].caption}"
    )


def _joined(values) -> str:
    return " · ".join(str(v) for v in values)


def facts_markdown(variant: Variant, analysis: Analysis | None = None) -> str:
    """The model's architecture and published figures; after an analysis, also where the weights
    came from and how long it took."""
    source = f"`{variant.hub_id}`" if variant.hub_id else variant.description
    macs = f"{variant.macs_g:.1f} G at 224 px" if variant.macs_g else "–"
    model = f"**PoolFormer-{variant.name.upper()}** · {source}"
    rows = [
        ("Blocks per stage", _joined(variant.depths)),
        ("Widths", _joined(variant.hidden_sizes)),
        ("Parameters · MACs", f"{variant.params_m:g} M · {macs}"),
        ("ImageNet-1k top-1", f"{variant.top1:g} %" if variant.top1 is not None else "– (not an ImageNet model)"),
    ]
    if analysis is None:
        rows.append(("Weights", "loaded on the first analysis"))
    else:
        rows.append(("Weights", md(analysis.weights_source)))
        rows.append(("Analysis took", f"{analysis.seconds:.2f} s"))
    return f"| Model | {model} |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)


def notes_markdown(analysis: Analysis) -> str:
    return "\n".join(f"ℹ️ {md(note)}" for note in analysis.notes)


def journey_markdown(analysis: Analysis | None = None) -> str:
    """The shapes the last analysed image took through the four stages."""
    if analysis is None:
        return (
            "### Your image through the network\n"
            "Analyse an image on the *Explore* tab and its journey through the four stages appears here."
        )
    height, width = analysis.input_image.height, analysis.input_image.width
    lines = [
        "### Your image through the network",
        f"PoolFormer-{analysis.variant.name.upper()} saw a **{width}×{height}** RGB crop "
        f"(3×{height}×{width}). Each stage starts with a patch embedding that shrinks the grid, then "
        "runs its PoolFormer blocks, which keep the shape:",
        "",
        "| | shape (C×H×W) | stride | tokens | blocks |",
        "|---|---|---|---|---|",
        f"| input crop | 3×{height}×{width} | 1 | – | – |",
    ]
    for stage in analysis.stages:
        channels, h, w = stage.shape
        depth = analysis.variant.depths[stage.index - 1]
        lines.append(f"| stage {stage.index} | {channels}×{h}×{w} | {stage.stride} | {h * w:,} | {depth} |")
    lines.append("")
    lines.append(
        "The classifier averages the stage-4 grid into one vector (global average pooling) "
        f"and maps it to {len(analysis.labels):,} class scores."
    )
    return "\n".join(lines)


def variants_table() -> str:
    rows = [
        "| Variant | Blocks per stage | Widths | Params | MACs | ImageNet top-1 |",
        "|---|---|---|---|---|---|",
    ]
    for v in HUB_VARIANTS.values():
        rows.append(
            f"| {v.name.upper()} | {_joined(v.depths)} | {_joined(v.hidden_sizes)} | {v.params_m:g} M | "
            f"{v.macs_g:.1f} G | {v.top1:g} % |"
        )
    return "\n".join(rows)


def md(text: str) -> str:
    """Text from a model or a user, made inert in Markdown."""
    return re.sub(r"([\\`*_{}\[\]<>|#])", r"\\\1", str(text))


def public_message(exc: BaseException) -> str:
    """An error message fit for the page: folder names instead of absolute paths, HTML escaped
    (Gradio renders error messages as HTML)."""
    return html.escape(without_paths(str(exc)), quote=False)
