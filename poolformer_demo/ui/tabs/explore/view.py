"""What the Explore tab shows, as plain values: Markdown, label dicts and HTML with inlined
pictures from an Analysis. Nothing here imports Gradio."""

from __future__ import annotations

import html
from dataclasses import dataclass, fields

from .... import weights
from ....analysis import Analysis
from ....i18n import Messages, english
from ....variants import DEFAULT_VARIANT, HUB_VARIANTS, SHAPES_VARIANT_NAME, Variant
from ...kit.facts import model_rows
from ...kit.journey import journey_markdown
from ...kit.pictures import FEATURE_VIEWS, FeaturePictures
from ...kit.view import DEEPEST_STAGE, Session, cam_scale_html, display_names, failure_text, md, model_name

# How the feature maps are drawn: the catalog's name for each view, in FeatureViews' order.
VIEWS = ("pca", "mean", "channels")


def default_variant(runnable: tuple[str, ...], shapes_available: bool) -> str:
    """s12 when its weights can be had (a local folder, the HF cache, or a reachable hub), else the
    bundled shapes model, so an app with no network still opens on something that works."""
    if DEFAULT_VARIANT in runnable or not shapes_available:
        return DEFAULT_VARIANT
    return SHAPES_VARIANT_NAME


def variant_hint(runnable: tuple[str, ...], t: Messages) -> str:
    """What is true about getting weights on this server, said under the model menu."""
    if weights.hub_probe.reachable():
        return t.text("explore.model_info.online")
    return t.text("explore.model_info.offline", models=", ".join(runnable) or t.text("explore.model_info.none"))


def photo_examples_label(runnable: tuple[str, ...], t: Messages) -> str:
    if any(name in HUB_VARIANTS for name in runnable):
        return t.text("explore.examples.photos")
    return t.text("explore.examples.photos_missing")


def view_choices(t: Messages) -> list[tuple[str, str]]:
    return [(t.text(f"explore.view.{view}"), view) for view in VIEWS]


DEFAULT_VIEW = "pca"


DEFAULT_OPACITY = 0.5


@dataclass(frozen=True)
class Shown:
    """What the tab shows now, kept so a new language says it again without computing anything:
    the last result (analysis, feature pictures, heatmaps), and the failure said above it, if any."""

    result: tuple[Analysis, FeaturePictures, tuple[str, ...]] | None = None
    failure: str | None = None
    keeps: bool = False
    """Whether the failure left a result on the page (the last one), as its sentence says."""


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
    shown: Shown

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def values(self) -> tuple:
        # Not dataclasses.astuple: it would copy every value deeply.
        return tuple(getattr(self, name) for name in self.names())


def explore_view(
    analysis: Analysis, session: Session, features: FeaturePictures, heatmaps: tuple[str, ...], t: Messages
) -> ExploreView:
    """All the Explore tab's results for one analysis, in language `t`."""
    return ExploreView(
        status=status_markdown(analysis, t),
        variant=analysis.variant.name,
        predictions=label_value(analysis),
        target=target_name(analysis),
        target_info=target_markdown(analysis, t),
        results=results_html(analysis, features, heatmaps, t),
        facts=facts_markdown(analysis.variant, analysis, t=t),
        journey=journey_markdown(analysis, t),
        session=session,
        shown=Shown((analysis, features, heatmaps)),
    )


def label_value(analysis: Analysis) -> dict[str, float]:
    names = display_names(analysis.labels)
    return {names[p.index]: p.probability for p in analysis.predictions}


def target_name(analysis: Analysis) -> str:
    return display_names(analysis.labels)[analysis.target.index]


def target_markdown(analysis: Analysis, t: Messages) -> str:
    """Which class Grad-CAM explains."""
    target = analysis.target
    top = target.index == analysis.predictions[0].index
    key = "explore.target_info.top" if top else "explore.target_info"
    return t.text(key, name=md(target_name(analysis)), index=target.index, probability=target.probability)


def facts_markdown(
    variant: Variant, analysis: Analysis | None = None, shown_variant: str | None = None, t: Messages | None = None
) -> str:
    """The model's architecture and published figures; after an analysis, also where the weights
    came from and how long it took. `shown_variant` names the model of the result on the page when
    it is not this one."""
    t = t or english()
    source = f"`{variant.hub_id}`" if variant.hub_id else t.text(f"facts.source.{variant.name}")
    model = f"**PoolFormer-{variant.name.upper()}** · {source}"
    rows = model_rows(variant, t)
    if analysis is None:
        rows.append((t.text("facts.weights"), t.text("facts.weights.first")))
    else:
        rows.append((t.text("facts.weights"), md(t.said(analysis.weights_source))))
        rows.append((t.text("facts.took"), t.text("facts.took.value", seconds=analysis.seconds)))
    table = f"| {t.text('facts.model')} | {model} |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in rows)
    if shown_variant is None:
        return table
    return f"{t.text('facts.other_model', model=md(model_name(shown_variant, t)))}\n\n{table}"


def status_markdown(analysis: Analysis, t: Messages) -> str:
    """What to know before reading the result: notes on the image and on the model (the core's)."""
    return "\n\n".join(f"ℹ️ {md(t.said(note))}" for note in analysis.notes)


def failure_markdown(message: str, keeps_result: bool, t: Messages | None = None) -> str:
    """A failed request, said above the result it left in place (`message` is fit for a page)."""
    kept = f" {(t or english()).text('explore.result_kept')}" if keeps_result else ""
    return f"⚠️ {message}{kept}"


def shown_markdown(shown: Shown, t: Messages) -> str:
    """The status line of what the tab shows: the failure above the result, or the result's notes."""
    if shown.failure is not None:
        return failure_markdown(failure_text(shown.failure, t), shown.keeps, t)
    return status_markdown(shown.result[0], t) if shown.result is not None else ""


def results_html(
    analysis: Analysis | None = None,
    features: FeaturePictures | None = None,
    heatmaps: tuple[str, ...] | None = None,
    t: Messages | None = None,
) -> str:
    """The enlarged Grad-CAM and the two stage strips, as one piece of HTML with inlined pictures.

    Without a result it draws the same boxes empty, so the page does not move when the first
    result arrives. Each heatmap is a layer over the crop whose opacity the page's slider sets,
    and which stage is enlarged is chosen in the browser: neither needs the server.
    """
    t = t or english()
    empty = analysis is None or features is None or heatmaps is None
    stages = range(1, DEEPEST_STAGE + 1)
    if empty:
        captions = [t.text("stage.title", stage=i) for i in stages]
    else:
        captions = [
            t.text(
                "stage.caption",
                stage=s.index,
                channels=s.shape[0],
                height=s.shape[1],
                width=s.shape[2],
                stride=s.stride,
            )
            for s in analysis.stages
        ]
    target = "" if empty else target_name(analysis)
    crop = "" if empty else f' style="--pf-crop: url({features.crop})"'

    def heat(index: int) -> str:
        if empty:
            return ""
        alt = t.text("explore.heat_alt", target=target, stage=captions[index])
        return f'<img class="pf-heat" alt="{html.escape(alt)}" src="{heatmaps[index]}">'

    def views(index: int) -> str:
        if empty:
            return ""
        alts = {view: html.escape(t.text(f"explore.view_alt.{view}", stage=captions[index])) for view in FEATURE_VIEWS}
        return "".join(
            f'<img class="pf-view pf-{view}" alt="{alts[view]}" src="{features.views[view][index]}">'
            for view in FEATURE_VIEWS
        )

    deepest = DEEPEST_STAGE - 1
    title = html.escape(t.text("explore.cam_title")) if empty else t.html("explore.cam_title.target", target=target)
    hint = f'<p class="pf-hint"><span>{html.escape(t.text("explore.empty_hint"))}</span></p>' if empty else ""
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
        f"{cam_scale_html(t.text('explore.cam_scale'), t)}"
        f'<p class="pf-strip-title">{html.escape(t.text("explore.cams_strip"))}</p>'
        f'<div class="pf-strip pf-cams">{cams}</div>'
        f'<p class="pf-strip-title">{html.escape(t.text("explore.maps_strip"))}</p>'
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
