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
from typing import TYPE_CHECKING

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
from ....variants import Variant
from ...kit.pictures import layer_uri
from ...kit.view import STAGES, Session, cam_scale_html, display_names, legend_html, md
from .timing import BUSY_NOTE, crop_px, expected_seconds, seconds_text, timings

if TYPE_CHECKING:  # the sanity check loads scipy; only its handler imports it
    pass


INTRO = (
    "Several explanations of the prediction you analysed on the *Explore* tab, side by side, and two tests of "
    "how far to trust them: do the pixels a map ranks first really carry the prediction (faithfulness), and "
    "does the map change when the model is destroyed (the sanity check)?"
)
NO_SESSION = "Analyse an image on the **Explore** tab first: this tab explains that prediction."
IMAGE_GONE = "The last image is no longer on the server. Upload it again on the Explore tab and analyse it."

# ---------------------------------------------------------------------------------------------
# The CAM family
# ---------------------------------------------------------------------------------------------

CAM_NOTES = {
    "gradcam": "Grad-CAM (Selvaraju et al., 2017): each channel weighted by its gradient averaged over positions; "
    "the weighted sum, negatives cut off.",
    "hirescam": "HiResCAM (Draelos & Carin, 2020): gradient times activation at each position, summed over "
    "channels; no averaging, so the map follows the gradient's own layout.",
    "gradcampp": "Grad-CAM++ (Chattopadhay et al., 2018): channel weights from the positive gradients only, "
    "weighted by second- and third-order terms, so several objects of a class all count.",
    "xgradcam": "XGrad-CAM (Fu et al., 2020): gradients averaged with the activation itself as the weight.",
    "layercam": "LayerCAM (Jiang et al., 2021): each position's activation weighted by its own positive gradient; "
    "sharper at the early stages.",
}
CAM_FAMILY_HINT = "Analyse an image on the Explore tab, then open this tab: the five CAMs of every stage appear here."
CAM_FAMILY_TEXT = (
    "All five maps come from the one forward and backward pass of the analysis: the activation of each stage's "
    "last block and the gradient of the class score with respect to it (equal to pytorch-grad-cam's maps before "
    "its resizing). Each map is scaled to its own peak, coloured as on the Explore tab; switching the method "
    "happens in your browser."
)
# The browser's half (static/page.js): the chosen method is a page-wide setting, so it outlives new results.
CAM_JS = "(method) => PoolFormer.setCamMethod(method)"
DEFAULT_OPACITY = 0.7
OPACITY_JS = "(opacity) => PoolFormer.setExplainOpacity(opacity)"


def cam_choices() -> list[tuple[str, str]]:
    return [(method.title, name) for name, method in CAM_METHODS.items()]


def method_choices() -> list[tuple[str, str]]:
    """Every method the attributions section offers: the CAMs and the pixel methods."""
    return [(title, name) for name, title in METHOD_TITLES.items()]


def source_markdown(session: Session | None) -> str:
    """Which prediction the tab explains: the last analysis on the Explore tab."""
    if session is None:
        return NO_SESSION
    target = display_names(session.labels)[session.target]
    return (
        f"**Explaining:** *{md(target)}* (class {session.target}) for {md(Path(session.image).name)} on "
        f"**PoolFormer-{md(session.variant.upper())}**. "
        '<span class="pf-needs-controls">Analyse another image or click another class on the Explore tab to '
        "explain that one.</span>"
    )


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


def cam_family_html(analysis: Analysis | None = None, pictures: dict | None = None) -> str:
    """Four stage pictures for every CAM method, only the chosen method's shown (CSS, from `CAM_JS`)."""
    notes = "".join(
        f'<span class="pf-camnote pf-m-{name}">{html.escape(note)}</span>' for name, note in CAM_NOTES.items()
    )
    if analysis is None or pictures is None:
        frames = "".join(
            f'<figure class="pf-map"><span class="pf-cam"></span><figcaption>Stage {i}</figcaption></figure>'
            for i in STAGES
        )
        return (
            '<div class="pf-explain pf-cam-family pf-empty">'
            f'<p class="pf-note">{notes}</p><div class="pf-strip">{frames}</div>'
            f'<p class="pf-hint-line">{CAM_FAMILY_HINT}</p></div>'
        )
    target = display_names(analysis.labels)[analysis.target.index]
    figures = []
    for stage in pictures["stages"]:
        layers = "".join(
            f'<img class="pf-heat pf-camfam pf-m-{name}" alt="{html.escape(CAM_METHODS[name].title)} for '
            f'{html.escape(target)}, stage {stage["index"]}, scaled to its own peak" src="{uri}">'
            for name, uri in stage["cams"].items()
        )
        figures.append(
            f'<figure class="pf-map"><span class="pf-cam">{layers}</span>'
            f"<figcaption>{html.escape(stage['caption'])}</figcaption></figure>"
        )
    return (
        f'<div class="pf-explain pf-cam-family" style="--pf-crop: url({pictures["crop"]})">'
        f'<p class="pf-note"><b>For {html.escape(target)}</b> (p = {analysis.target.probability:.1%}) · {notes}</p>'
        f'<div class="pf-strip">{"".join(figures)}</div>{cam_scale_html()}'
        f'<p class="pf-hint-line">{html.escape(CAM_FAMILY_TEXT)}</p></div>'
    )


# ---------------------------------------------------------------------------------------------
# Attributions
# ---------------------------------------------------------------------------------------------


def _settings_text(method: str, settings, crop: int | None = None) -> str:
    if isinstance(settings, IntegratedGradientsSettings):
        baseline = "a black image" if settings.baseline == "black" else "zeros (the mean colour)"
        return (
            f"{settings.n_steps} steps ({settings.method}), from {baseline}, "
            f"{settings.internal_batch_size} images per pass"
        )
    if isinstance(settings, SmoothGradSettings):
        return (
            f"{settings.nt_samples} noisy copies, noise {settings.noise_level:.0%} of the input range, "
            f"signed gradients, seed {settings.seed}"
        )
    if isinstance(settings, OcclusionSettings):
        crop = crop or timings().crop_px
        window, stride = occlusion_geometry(settings, (crop, crop))
        fill = "the mean colour" if settings.baseline == "zeros" else "black"
        return (
            f"{window}×{window} px patch of {fill}, stride {stride} px (at {crop} px), "
            f"{settings.perturbations_per_eval} patches per pass"
        )
    raise ValueError(f"no pixel method {method!r}")


def settings_markdown(settings: Mapping[str, object] | None = None, variant: Variant | None = None) -> str:
    """The pixel methods' settings and the time each should take on `variant` (default: S12, on
    which the times were measured), as a table."""
    chosen = {**DEFAULT_SETTINGS, **dict(settings or {})}
    crop = crop_px(variant)
    name = f"PoolFormer-{(variant.name if variant is not None else timings().variant).upper()}"
    rows = [
        f"| Method | Settings (captum) | Expected time on {name} at {crop} px |",
        "|---|---|---|",
        "| CAMs (any stage) | from the analysis's one forward and backward pass | under a second |",
    ]
    for method, title in PIXEL_METHOD_TITLES.items():
        seconds = expected_seconds(method, chosen[method], variant)
        expected = seconds_text(seconds) if seconds is not None else "not measured"
        rows.append(f"| {title} | {_settings_text(method, chosen[method], crop)} | {expected} |")
    measured = timings()
    if variant is None or variant.name == measured.variant:
        where = f"Times measured on {measured.variant.upper()} at {measured.crop_px} px {BUSY_NOTE}."
    else:
        how = "measured in one run" if variant.name in measured.relative else "from the models' MACs"
        where = (
            f"Times: this model's share of {measured.variant.upper()}'s time ({how}) times "
            f"{measured.variant.upper()}'s measured time, {BUSY_NOTE}."
        )
    return "\n".join(rows) + f"\n\n{where}"


def attribution_pictures(explanation: Explanation) -> dict:
    """The crop and, per method, its map as a layer on the shared diverging scale and that scale's limit."""
    layers = {}
    for name, attribution in explanation.attributions.items():
        uri, limit = layer_uri(attribution.map)
        layers[name] = {"picture": uri, "limit": limit}
    return {"crop": render.data_uri(explanation.analysis.input_image, "jpeg"), "methods": layers}


ATTRIBUTIONS_HINT = "Choose the methods and press <b>Run the attributions</b>; progress shows here."
SCALE_NOTE = (
    "One colour scale for every map: red is evidence for the class, blue against it, and the more the map says, "
    "the more opaque; at 0 the crop shows through. Each map is scaled to ± its own 99th percentile of |value| "
    "(under each picture), because the methods measure different things (logit change, gradient). The CAMs are "
    "never negative, so they are only red."
)


def _attribution_caption(attribution: Attribution, limit: float) -> str:
    where = f" · stage {attribution.settings['stage']}" if "stage" in attribution.settings else ""
    took = "from the analysis" if attribution.method in CAM_METHODS else f"{attribution.seconds:.1f} s"
    return f"<b>{html.escape(attribution.title)}</b>{where} · ±{limit:.3g} · {took}"


def attributions_html(explanation: Explanation | None = None, pictures: dict | None = None) -> str:
    """The maps side by side over the crop, on one colour scale, with its legend."""
    if explanation is None or pictures is None:
        hint = f'<p class="pf-hint"><span>{ATTRIBUTIONS_HINT}</span></p>'
        return f'<div class="pf-explain pf-attributions pf-empty">{hint}</div>'
    analysis = explanation.analysis
    target = display_names(analysis.labels)[analysis.target.index]
    figures = "".join(
        f'<figure class="pf-attr" data-method="{name}"><span class="pf-cam">'
        f'<img class="pf-heat" alt="{html.escape(attribution.title)}" src="{pictures["methods"][name]["picture"]}">'
        f"</span><figcaption>{_attribution_caption(attribution, pictures['methods'][name]['limit'])}</figcaption>"
        "</figure>"
        for name, attribution in explanation.attributions.items()
    )
    delta = explanation.attributions.get("ig")
    check = ""
    if delta is not None and "convergence_delta" in delta.diagnostics:
        check = (
            f" Integrated Gradients' attributions add up to the logit change from the baseline within "
            f"{delta.diagnostics['convergence_delta']:.3g} (its convergence check)."
        )
    return (
        f'<div class="pf-explain pf-attributions" style="--pf-crop: url({pictures["crop"]})">'
        f'<p class="pf-note">Why <b>{html.escape(target)}</b> (p = {analysis.target.probability:.1%}) on '
        f"PoolFormer-{html.escape(analysis.variant.name.upper())} · all methods in {explanation.seconds:.1f} s."
        f"{html.escape(check)}</p>"
        f'<div class="pf-attr-grid">{figures}</div>{legend_html(SCALE_NOTE)}</div>'
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
    data["colour_scale"] = SCALE_NOTE
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
