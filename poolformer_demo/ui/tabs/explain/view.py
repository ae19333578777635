"""What the Explain tab shows, as plain values: HTML with inlined pictures, Markdown and JSON, from
an Analysis (the CAM family), an Explanation (attributions), a FaithfulnessReport and a SanityCheck.

Nothing here imports Gradio, so the formatting is tested without a server. Stage maps are sent at
the stage's own resolution and enlarged smoothly by the browser, as on the Explore tab; maps at the
crop's size are sent as WebP, which keeps a noisy pixel attribution a third of its PNG size.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from .... import render
from ....analysis import Analysis
from ....attributions import (
    DEFAULT_SETTINGS,
    METHOD_TITLES,
    PIXEL_METHOD_TITLES,
    Attribution,
    IntegratedGradientsSettings,
    OcclusionSettings,
    SmoothGradSettings,
    occlusion_geometry,
)
from ....cams import CAM_METHODS, DEFAULT_CAM
from ....explanation import Explanation
from ....i18n import Messages, english
from ....readings.trust import method_title
from ....variants import Variant
from ...kit.pictures import layer_uri
from ...kit.view import STAGES, Session, cam_scale_html, display_names, legend_html, md
from .timing import busy_note, crop_px, expected_seconds, seconds_text, timings

NOTED_CAMS = tuple(CAM_METHODS)
# The browser's half (static/page.js): the chosen method is a page-wide setting, so it outlives new results.
CAM_JS = "(method) => PoolFormer.setCamMethod(method)"
DEFAULT_OPACITY = 0.7
OPACITY_JS = "(opacity) => PoolFormer.setExplainOpacity(opacity)"


def cam_choices(t: Messages | None = None) -> list[tuple[str, str]]:
    return [(method_title(name, t), name) for name in CAM_METHODS]


def method_choices(t: Messages | None = None) -> list[tuple[str, str]]:
    """Every method the attributions section offers: the CAMs and the pixel methods."""
    return [(method_title(name, t), name) for name in METHOD_TITLES]


def source_markdown(session: Session | None, t: Messages | None = None) -> str:
    """Which prediction the tab explains: the last analysis on the Explore tab."""
    t = t or english()
    if session is None:
        return t.text("explain.no_session")
    target = display_names(session.labels)[session.target]
    explaining = t.text(
        "explain.source",
        target=md(target),
        index=session.target,
        image=md(Path(session.image).name),
        model=md(session.variant.upper()),
    )
    return f'{explaining} <span class="pf-needs-controls">{html.escape(t.text("explain.source.other"))}</span>'


def cam_family_pictures(analysis: Analysis) -> dict:
    """The crop (JPEG) and, per stage, every CAM method's map coloured at the stage's resolution (PNG)."""
    return {
        "crop": render.data_uri(analysis.input_image, "jpeg"),
        "stages": [
            {
                "index": stage.index,
                "caption": stage.caption,
                "shape": list(stage.shape),
                "stride": stage.stride,
                "cams": {name: render.data_uri(render.heatmap(stage.cams[name])) for name in CAM_METHODS},
            }
            for stage in analysis.stages
        ],
    }


def _stage_caption(stage: dict, t: Messages) -> str:
    channels, height, width = stage["shape"]
    return t.text(
        "stage.caption", stage=stage["index"], channels=channels, height=height, width=width, stride=stage["stride"]
    )


def cam_family_html(analysis: Analysis | None = None, pictures: dict | None = None, t: Messages | None = None) -> str:
    """Four stage pictures for every CAM method, only the chosen method's shown (CSS, from `CAM_JS`)."""
    t = t or english()
    notes = "".join(
        f'<span class="pf-camnote pf-m-{name}">{html.escape(t.text(f"explain.cam_note.{name}"))}</span>'
        for name in NOTED_CAMS
    )
    if analysis is None or pictures is None:
        titles = [html.escape(t.text("stage.title", stage=i)) for i in STAGES]
        frames = "".join(
            f'<figure class="pf-map"><span class="pf-cam"></span><figcaption>{title}</figcaption></figure>'
            for title in titles
        )
        return (
            '<div class="pf-explain pf-cam-family pf-empty">'
            f'<p class="pf-note">{notes}</p><div class="pf-strip">{frames}</div>'
            f'<p class="pf-hint-line">{html.escape(t.text("explain.cam_hint"))}</p></div>'
        )
    target = display_names(analysis.labels)[analysis.target.index]
    figures = []
    for stage in pictures["stages"]:
        alts = {
            name: html.escape(
                t.text("explain.cam_alt", method=method_title(name, t), target=target, stage=stage["index"])
            )
            for name in stage["cams"]
        }
        layers = "".join(
            f'<img class="pf-heat pf-camfam pf-m-{name}" alt="{alts[name]}" src="{uri}">'
            for name, uri in stage["cams"].items()
        )
        figures.append(
            f'<figure class="pf-map"><span class="pf-cam">{layers}</span>'
            f"<figcaption>{html.escape(_stage_caption(stage, t))}</figcaption></figure>"
        )
    heading = t.html("explain.cam_for", target=target, probability=analysis.target.probability)
    return (
        f'<div class="pf-explain pf-cam-family" style="--pf-crop: url({pictures["crop"]})">'
        f'<p class="pf-note">{heading} · {notes}</p>'
        f'<div class="pf-strip">{"".join(figures)}</div>{cam_scale_html(t=t)}'
        f'<p class="pf-hint-line">{html.escape(t.text("explain.cam_text"))}</p></div>'
    )


# ---------------------------------------------------------------------------------------------
# Attributions
# ---------------------------------------------------------------------------------------------


def _settings_text(method: str, settings, t: Messages, crop: int | None = None) -> str:
    if isinstance(settings, IntegratedGradientsSettings):
        key = "explain.settings.ig.black" if settings.baseline == "black" else "explain.settings.ig.zeros"
        return t.text(key, steps=settings.n_steps, rule=settings.method, batch=settings.internal_batch_size)
    if isinstance(settings, SmoothGradSettings):
        return t.text(
            "explain.settings.smoothgrad", samples=settings.nt_samples, noise=settings.noise_level, seed=settings.seed
        )
    if isinstance(settings, OcclusionSettings):
        crop = crop or timings().crop_px
        window, stride = occlusion_geometry(settings, (crop, crop))
        key = "explain.settings.occlusion.mean" if settings.baseline == "zeros" else "explain.settings.occlusion.black"
        return t.text(key, window=window, stride=stride, crop=crop, batch=settings.perturbations_per_eval)
    raise ValueError(f"no pixel method {method!r}")


def settings_markdown(
    settings: Mapping[str, object] | None = None, variant: Variant | None = None, t: Messages | None = None
) -> str:
    """The pixel methods' settings and the time each should take on `variant` (default: S12, on
    which the times were measured), as a table."""
    t = t or english()
    chosen = {**DEFAULT_SETTINGS, **dict(settings or {})}
    crop = crop_px(variant)
    name = (variant.name if variant is not None else timings().variant).upper()
    heads = (t.text("explain.settings.head.method"), t.text("explain.settings.head.settings"))
    rows = [
        f"| {heads[0]} | {heads[1]} | {t.text('explain.settings.head.time', model=name, crop=crop)} |",
        "|---|---|---|",
        f"| {t.text('explain.settings.cams')} | {t.text('explain.settings.cams.how')} | "
        f"{t.text('explain.settings.cams.time')} |",
    ]
    for method in PIXEL_METHOD_TITLES:
        seconds = expected_seconds(method, chosen[method], variant)
        expected = seconds_text(seconds, t) if seconds is not None else t.text("explain.settings.not_measured")
        rows.append(f"| {method_title(method, t)} | {_settings_text(method, chosen[method], t, crop)} | {expected} |")
    measured = timings()
    reference = measured.variant.upper()
    if variant is None or variant.name == measured.variant:
        where = t.text("explain.settings.measured", model=reference, crop=measured.crop_px, busy=busy_note(t))
    else:
        key = "explain.settings.scaled.run" if variant.name in measured.relative else "explain.settings.scaled.macs"
        where = t.text(key, model=reference, busy=busy_note(t))
    return "\n".join(rows) + f"\n\n{where}"


def attribution_pictures(explanation: Explanation) -> dict:
    """The crop and, per method, its map as a layer on the shared diverging scale and that scale's limit."""
    layers = {}
    for name, attribution in explanation.attributions.items():
        uri, limit = layer_uri(attribution.map)
        layers[name] = {"picture": uri, "limit": limit}
    return {"crop": render.data_uri(explanation.analysis.input_image, "jpeg"), "methods": layers}


def _attribution_caption(attribution: Attribution, limit: float, t: Messages) -> str:
    title = method_title(attribution.method, t)
    took = (
        t.text("explain.attribution.from_analysis")
        if attribution.method in CAM_METHODS
        else t.text("explain.attribution.seconds", seconds=attribution.seconds)
    )
    if "stage" in attribution.settings:
        return t.html(
            "explain.attribution.caption.stage",
            method=title,
            stage=attribution.settings["stage"],
            limit=limit,
            took=took,
        )
    return t.html("explain.attribution.caption", method=title, limit=limit, took=took)


def attributions_html(
    explanation: Explanation | None = None, pictures: dict | None = None, t: Messages | None = None
) -> str:
    """The maps side by side over the crop, on one colour scale, with its legend."""
    t = t or english()
    if explanation is None or pictures is None:
        hint = f'<p class="pf-hint"><span>{t.text("explain.attributions.hint")}</span></p>'
        return f'<div class="pf-explain pf-attributions pf-empty">{hint}</div>'
    analysis = explanation.analysis
    target = display_names(analysis.labels)[analysis.target.index]
    figures = "".join(
        f'<figure class="pf-attr" data-method="{name}"><span class="pf-cam">'
        f'<img class="pf-heat" alt="{html.escape(method_title(name, t))}" src="{pictures["methods"][name]["picture"]}">'
        f"</span><figcaption>{_attribution_caption(attribution, pictures['methods'][name]['limit'], t)}</figcaption>"
        "</figure>"
        for name, attribution in explanation.attributions.items()
    )
    delta = explanation.attributions.get("ig")
    check = ""
    if delta is not None and "convergence_delta" in delta.diagnostics:
        check = " " + html.escape(t.text("explain.attributions.ig_check", delta=delta.diagnostics["convergence_delta"]))
    why = t.html(
        "explain.attributions.why",
        target=target,
        probability=analysis.target.probability,
        model=analysis.variant.name.upper(),
        seconds=explanation.seconds,
    )
    return (
        f'<div class="pf-explain pf-attributions" style="--pf-crop: url({pictures["crop"]})">'
        f'<p class="pf-note">{why}{check}</p>'
        f'<div class="pf-attr-grid">{figures}</div>{legend_html(t.text("explain.scale_note"))}</div>'
    )


def npy_uri(values: np.ndarray) -> str:
    """A float32 array as a data URI of its .npy file: exact, and half the size of a JSON list."""
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(values, dtype=np.float32), allow_pickle=False)
    return "data:application/x-npy;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def read_npy_uri(uri: str) -> np.ndarray:
    """The array back from `npy_uri`'s data URI."""
    header, payload = uri.split(",", 1)
    if header != "data:application/x-npy;base64":
        raise ValueError("not a .npy data URI")
    return np.load(io.BytesIO(base64.b64decode(payload)), allow_pickle=False)


def explain_api(
    explanation: Explanation, pictures: dict, cam_pictures: dict, arrays: bool = False, faithfulness: dict | None = None
) -> dict:
    """The explanation for programs: Explanation.to_json (with `arrays`, the raw CAMs of every stage)
    with the pictures the page shows: the crop, per method its picture (data URI) with its
    colour-scale limit and, with `arrays`, the map itself (.npy data URI, float32, crop size), and
    the CAM family of every stage as pictures; `faithfulness` (trust.faithfulness_api's JSON: the
    report with its verdicts and plot) in place of the bare report, when computed."""
    data = explanation.to_json(arrays=arrays)
    data["crop"] = pictures["crop"]
    data["colour_scale"] = english().text("explain.scale_note")
    for name, entry in data["methods"].items():
        entry["limit"] = pictures["methods"][name]["limit"]
        entry["picture"] = pictures["methods"][name]["picture"]
        if arrays:
            entry["array"] = npy_uri(explanation.attributions[name].map)
    for entry, drawn in zip(data["stages"], cam_pictures["stages"]):
        entry["cam_pictures"] = drawn["cams"]
    if faithfulness is not None:
        data["faithfulness"] = faithfulness
    return data


# ---------------------------------------------------------------------------------------------
# Progress and messages
# ---------------------------------------------------------------------------------------------


DEFAULT_ATTRIBUTION_METHODS = (DEFAULT_CAM, *PIXEL_METHOD_TITLES)
