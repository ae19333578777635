"""What the Explore tab shows, as plain values: Markdown, label dicts and HTML with inlined
pictures from an Analysis. Nothing here imports Gradio."""

from __future__ import annotations

import html
from dataclasses import dataclass, fields

from ....analysis import Analysis
from ....variants import Variant, get_variant
from ...kit.facts import model_rows
from ...kit.journey import journey_markdown
from ...kit.pictures import FEATURE_VIEWS, FeaturePictures
from ...kit.view import DEEPEST_STAGE, Session, cam_scale_html, display_names, md

# How the feature maps are drawn: (label on the page, name in FeatureViews).
VIEW_CHOICES = (("PCA (RGB)", "pca"), ("mean activation", "mean"), ("top channels", "channels"))


DEFAULT_VIEW = "pca"


DEFAULT_OPACITY = 0.5


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


def facts_markdown(variant: Variant, analysis: Analysis | None = None, shown_variant: str | None = None) -> str:
    """The model's architecture and published figures; after an analysis, also where the weights
    came from and how long it took. `shown_variant` names the model of the result on the page when
    it is not this one."""
    source = f"`{variant.hub_id}`" if variant.hub_id else variant.description
    model = f"**PoolFormer-{variant.name.upper()}** · {source}"
    rows = model_rows(variant)
    if analysis is None:
        rows.append(("Weights", "loaded on the first analysis"))
    else:
        rows.append(("Weights", md(analysis.weights_source)))
        rows.append(("Analysis took", f"{analysis.seconds:.2f} s"))
    table = f"| Model | {model} |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)
    if shown_variant is None:
        return table
    shown = get_variant(shown_variant)
    whose = f"PoolFormer-{shown.name.upper()}'s" if shown.top1 is not None else f"the {shown.name} model's"
    return f"Facts of the chosen model; the result shown is {md(whose)}.\n\n{table}"


def status_markdown(analysis: Analysis) -> str:
    """What to know before reading the result: notes on the image and on the model (the core's)."""
    return "\n\n".join(f"ℹ️ {md(note)}" for note in analysis.notes)


def failure_markdown(message: str, keeps_result: bool) -> str:
    """A failed request, said above the result it left in place."""
    kept = " The result below is still the previous one." if keeps_result else ""
    return f"⚠️ {message}{kept}"


# What each feature-map view is, said to someone who cannot see it.
VIEW_ALT = {
    "pca": "feature map, first three principal components as colour",
    "mean": "feature map, mean activation over channels",
    "channels": "feature map, the strongest channels side by side",
}
# The colour scale of every Grad-CAM on the tab.
CAM_SCALE = cam_scale_html(
    "Grad-CAM colour scale: each map is scaled to its own peak, so colours compare places within one map, "
    "not strength between stages."
)

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
        alt = f"Grad-CAM for {target}, {captions[index]}, scaled to its own peak"
        return f'<img class="pf-heat" alt="{html.escape(alt)}" src="{heatmaps[index]}">'

    def views(index: int) -> str:
        if empty:
            return ""
        return "".join(
            f'<img class="pf-view pf-{view}" alt="{html.escape(VIEW_ALT.get(view, view))}, '
            f'{html.escape(captions[index])}" src="{features.views[view][index]}">'
            for view in FEATURE_VIEWS
        )

    deepest = DEEPEST_STAGE - 1
    title = "Grad-CAM" if empty else f"Grad-CAM for {html.escape(target)}"
    hint = f'<p class="pf-hint"><span>{EMPTY_HINT}</span></p>' if empty else ""
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
        f"{CAM_SCALE}"
        '<p class="pf-strip-title">Grad-CAM at every stage · click one to enlarge it</p>'
        f'<div class="pf-strip pf-cams">{cams}</div>'
        '<p class="pf-strip-title">Feature maps at every stage</p>'
        f'<div class="pf-strip pf-maps">{maps}</div></div>'
    )


# The browser's halves (static/page.js): a click on a stage enlarges it, and the choice outlives new
# results; the opacity and the feature view are page-wide looks set without a server round trip.
RESULTS_JS = "PoolFormer.results(element, watch)"
OPACITY_JS = "(opacity) => PoolFormer.setHeatOpacity(opacity)"
VIEW_JS = "(view) => PoolFormer.setFeatureView(view)"


def api_result(analysis: Analysis, features: FeaturePictures, heatmaps: tuple[str, ...]) -> dict:
    """The analysis for programs: Analysis.to_json with the pictures the page shows, as data URIs:
    the crop, and per stage its Grad-CAM coloured at the stage's resolution and its feature views."""
    data = analysis.to_json()
    data["crop"] = features.crop
    for stage in data["stages"]:
        stage["gradcam_picture"] = heatmaps[stage["index"] - 1]
        stage["feature_pictures"] = {view: features.views[view][stage["index"] - 1] for view in FEATURE_VIEWS}
    return data
