"""What the page shows, as plain values: Markdown, label dicts and picture lists from an Analysis.

Nothing here imports Gradio, so formatting is tested without a server, and every tab formats
the same way.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, fields
from functools import lru_cache

from ..analysis import Analysis
from ..errors import without_paths
from ..variants import HUB_VARIANTS, STAGE_COUNT, VARIANTS, Variant
from .pictures import FEATURE_VIEWS, FeaturePictures

# How the feature maps are drawn: (label on the page, name in FeatureViews).
VIEW_CHOICES = (("PCA (RGB)", "pca"), ("mean activation", "mean"), ("top channels", "channels"))
DEFAULT_VIEW = "pca"
DEFAULT_OPACITY = 0.5
DEEPEST_STAGE = STAGE_COUNT
STAGES = tuple(range(1, STAGE_COUNT + 1))


@dataclass(frozen=True)
class Session:
    """What one browser tab remembers between events: which image, which model, which class.

    The pictures themselves live in the tab's bounded stores, so a session costs a few
    kilobytes however many people keep the page open.
    """

    image: str
    image_key: str
    variant: str
    labels: tuple[str, ...]
    target: int


@dataclass(frozen=True)
class ExploreView:
    """Every result the Explore tab shows for one analysis, by name.

    The field order is the order of the page event's outputs; the layout and the tests read it
    from here instead of repeating positions.
    """

    status: str
    variant: str
    predictions: dict[str, float]
    target: str
    target_info: str
    results: str
    facts: str
    journey: str
    session: Session

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def values(self) -> tuple:
        # Not dataclasses.astuple: it would copy every value deeply.
        return tuple(getattr(self, name) for name in self.names())


def explore_view(analysis: Analysis, session: Session, features: FeaturePictures, heatmaps: tuple[str, ...]):
    """All the Explore tab's results for one analysis."""
    return ExploreView(
        status=status_markdown(analysis),
        variant=analysis.variant.name,
        predictions=label_value(analysis),
        target=target_name(analysis),
        target_info=target_markdown(analysis),
        results=results_html(features, heatmaps, target_name(analysis)),
        facts=facts_markdown(analysis.variant, analysis),
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


def target_name(analysis: Analysis) -> str:
    return display_names(analysis.labels)[analysis.target.index]


def target_markdown(analysis: Analysis) -> str:
    """Which class Grad-CAM explains."""
    target = analysis.target
    top1 = " · top prediction" if target.index == analysis.predictions[0].index else ""
    return f"Grad-CAM for **{md(target_name(analysis))}** · class {target.index} · p = {target.probability:.1%}{top1}"


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


def status_markdown(analysis: Analysis) -> str:
    """What to know before reading the result: notes on the image, and the shapes model's limits."""
    lines = [f"ℹ️ {md(note)}" for note in analysis.notes]
    if analysis.variant.top1 is None:
        lines.append(
            f"ℹ️ The {md(analysis.variant.name)} model only knows {len(analysis.labels)} classes "
            f"({md(', '.join(analysis.labels))}) and names one of them for any picture. "
            "For photos, pick an ImageNet model (S12 … M48)."
        )
    return "\n\n".join(lines)


def failure_markdown(message: str, keeps_result: bool) -> str:
    """A failed request, said above the result it left in place."""
    kept = " The result below is still the previous one." if keeps_result else ""
    return f"⚠️ {message}{kept}"


EMPTY_HINT = "Results appear here: pick an example, or upload an image and press Analyse."


def results_html(
    features: FeaturePictures | None = None, heatmaps: tuple[str, ...] | None = None, target: str = ""
) -> str:
    """The enlarged Grad-CAM and the two stage strips, as one piece of HTML with inlined pictures.

    Without a result it draws the same boxes empty, so the page does not move when the first
    result arrives. Each heatmap is a layer over the crop whose opacity the page's slider sets,
    and which stage is enlarged is chosen in the browser: neither needs the server.
    """
    empty = features is None or heatmaps is None
    stages = range(1, DEEPEST_STAGE + 1)
    captions = [f"Stage {i}" for i in stages] if empty else list(features.captions)
    crop = "" if empty else f' style="--pf-crop: url({features.crop})"'

    def heat(index: int) -> str:
        if empty:
            return ""
        return f'<img class="pf-heat" alt="Grad-CAM, stage {index + 1}" src="{heatmaps[index]}">'

    def views(index: int) -> str:
        if empty:
            return ""
        return "".join(
            f'<img class="pf-view pf-{view}" alt="{view}, stage {index + 1}" src="{features.views[view][index]}">'
            for view in FEATURE_VIEWS
        )

    deepest = DEEPEST_STAGE - 1
    title = "Grad-CAM" if empty else f"Grad-CAM for {html.escape(target)}"
    hint = f'<p class="pf-hint">{EMPTY_HINT}</p>' if empty else ""
    cams = "".join(
        f'<button class="pf-stage" data-stage="{i + 1}" data-caption="{html.escape(caption)}" '
        f'aria-pressed="{str(i == deepest).lower()}"><span class="pf-cam">{heat(i)}</span>'
        f'<span class="pf-caption">{html.escape(caption)}</span></button>'
        for i, caption in enumerate(captions)
    )
    maps = "".join(
        f'<figure class="pf-map"><span class="pf-frame">{views(i)}</span>'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for i, caption in enumerate(captions)
    )
    return (
        f'<div class="pf-results{" pf-empty" if empty else ""}"{crop}>'
        f'<figure class="pf-large"><span class="pf-cam">{heat(deepest)}{hint}</span>'
        f'<figcaption><b>{title}</b> · <span class="pf-large-caption">{html.escape(captions[deepest])}</span>'
        "</figcaption></figure>"
        '<p class="pf-strip-title">Grad-CAM at every stage · click one to enlarge it</p>'
        f'<div class="pf-strip pf-cams">{cams}</div>'
        '<p class="pf-strip-title">Feature maps at every stage</p>'
        f'<div class="pf-strip pf-maps">{maps}</div></div>'
    )


# The browser's half of the results: a click on a stage enlarges it, and the choice outlives
# new results. `element` and `watch` are provided by gr.HTML.
RESULTS_JS = """
const show = () => {
  const stage = element.dataset.stage || "4";
  const chosen = element.querySelector(`.pf-stage[data-stage="${stage}"]`);
  element.querySelectorAll('.pf-stage').forEach(b => b.setAttribute('aria-pressed', String(b === chosen)));
  const large = element.querySelector('.pf-large .pf-heat');
  const heat = chosen && chosen.querySelector('.pf-heat');
  if (large && heat) large.src = heat.src;
  const caption = element.querySelector('.pf-large-caption');
  if (caption && chosen) caption.textContent = chosen.dataset.caption;
};
element.addEventListener('click', (event) => {
  const button = event.target.closest('.pf-stage');
  if (!button) return;
  element.dataset.stage = button.dataset.stage;
  show();
});
watch('value', show);
show();
"""
# Page-wide settings the slider and the radio set without a server round trip.
OPACITY_JS = "(opacity) => { document.documentElement.style.setProperty('--pf-heat-opacity', opacity); return []; }"
VIEW_JS = "(view) => { document.documentElement.dataset.pfView = view; return []; }"


def api_result(analysis: Analysis, features: FeaturePictures, heatmaps: tuple[str, ...]) -> dict:
    """The analysis for programs: everything the page shows, as JSON (pictures as data URIs)."""
    return {
        "variant": analysis.variant.name,
        "weights_source": analysis.weights_source,
        "target": prediction_json(analysis.target, analysis.labels),
        "top_k": [prediction_json(p, analysis.labels) for p in analysis.predictions],
        "crop_size": [analysis.input_image.height, analysis.input_image.width],
        "crop": features.crop,
        "stages": [
            {
                "index": stage.index,
                "shape": list(stage.shape),
                "stride": stage.stride,
                "caption": stage.caption,
                "gradcam": [[round(float(v), 6) for v in row] for row in stage.cam_raw],
                "gradcam_picture": heatmaps[stage.index - 1],
                "feature_pictures": {view: features.views[view][stage.index - 1] for view in FEATURE_VIEWS},
            }
            for stage in analysis.stages
        ],
        "notes": list(analysis.notes),
        "seconds": round(analysis.seconds, 4),
    }


def prediction_json(prediction, labels: tuple[str, ...]) -> dict:
    """One prediction for programs, named as the page names it."""
    return {
        "index": prediction.index,
        "label": display_names(labels)[prediction.index],
        "probability": prediction.probability,
    }


def variant_choices() -> list[tuple[str, str]]:
    """The model menus' entries: (short label, variant name)."""
    return [(VARIANTS[name].menu_label, name) for name in VARIANTS]


def stage_choices() -> list[tuple[str, int]]:
    return [(f"stage {i}", i) for i in STAGES]


def status_html(text: str, fraction: float | None = None) -> str:
    """A long run's progress bar (moving without a share when `fraction` is None) and a line of text."""
    bar = "<progress></progress>" if fraction is None else f'<progress max="1" value="{fraction:.4f}"></progress>'
    return f'<div class="pf-run-status">{bar}<span>{html.escape(text)}</span></div>'


def message_html(text: str) -> str:
    """A line without a bar where a long run's progress shows: done, stopped, or what went wrong."""
    return f'<div class="pf-run-status pf-idle"><span>{html.escape(text)}</span></div>'


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
