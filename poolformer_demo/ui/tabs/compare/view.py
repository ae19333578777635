"""What the Compare tab shows, as plain values: one column per variant (top-5, the deepest Grad-CAM
over the crop, the time it took, or why it could not run) as HTML, and the same as JSON.

Nothing here imports Gradio, so the formatting is tested without a server.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path

from .... import render
from ....comparison import Comparison, VariantFailure, VariantRun
from ....errors import WeightsUnavailableError
from ....variants import HUB_VARIANTS
from ....weights import WEIGHTS_HELP
from ...kit.view import Session, cam_scale_html, md

INTRO = (
    "One image through several PoolFormer variants, side by side: what each one predicts, where its deepest "
    "stage looks (Grad-CAM) and how long it took. The models run one at a time through the server's model "
    "cache, so comparing the big ones never holds them all in memory."
)
NO_IMAGE = "Upload an image here, or analyse one on the Explore tab first."
HINT = "Choose two or more models and press <b>Compare</b>; each model's result appears in its own column."
# A model taken from the cache faster than this was already loaded.
ALREADY_LOADED_S = 0.05


def source_markdown(session: Session | None) -> str:
    """Which image a comparison uses when none is uploaded here."""
    if session is None:
        return "**Image:** upload one here (nothing has been analysed on the Explore tab yet)."
    return (
        f"**Image:** the one uploaded here, or if there is none, {md(Path(session.image).name)} from the Explore tab."
    )


def _heat_figure(run: VariantRun) -> str:
    crop = render.data_uri(run.input_image, "jpeg")
    heat = render.data_uri(render.heatmap(run.cam_raw))
    height, width = run.cam_raw.shape
    target = run.target.name
    return (
        f'<figure class="pf-map" style="--pf-crop: url({crop})"><span class="pf-cam">'
        f'<img class="pf-heat" alt="Grad-CAM for {html.escape(target)}, PoolFormer-'
        f'{html.escape(run.variant.name.upper())}, deepest stage, scaled to its own peak" src="{heat}">'
        f"</span><figcaption>Grad-CAM for <b>{html.escape(target)}</b> · deepest stage, {height}×{width} · "
        f"{run.input_image.width}×{run.input_image.height} crop</figcaption></figure>"
    )


def _top_table(run: VariantRun) -> str:
    rows = []
    for rank, p in enumerate(run.predictions, start=1):
        chosen = ' class="pf-target"' if p.index == run.target.index else ""
        rows.append(
            f'<tr{chosen}><td>{rank}</td><td>{html.escape(p.name)}</td><td class="pf-num">{p.probability:.1%}</td></tr>'
        )
    head = "<thead><tr><th>#</th><th>class</th><th>p</th></tr></thead>"
    return f'<table class="pf-topk">{head}<tbody>{"".join(rows)}</tbody></table>'


def time_text(run: VariantRun) -> str:
    loading = (
        "model already loaded"
        if run.load_seconds < ALREADY_LOADED_S
        else f"loading the model took {run.load_seconds:.1f} s"
    )
    return f"Analysis took {run.seconds:.2f} s · {loading}"


def _run_column(run: VariantRun) -> str:
    name = run.variant.name
    return (
        f'<section class="pf-variant" data-variant="{html.escape(name)}">'
        f"<h4>PoolFormer-{html.escape(name.upper())}</h4>{_heat_figure(run)}{_top_table(run)}"
        f'<p class="pf-note pf-time">{html.escape(time_text(run))}</p>'
        f'<p class="pf-note pf-source">Weights: {html.escape(run.weights_source)}</p></section>'
    )


def _failure_column(failure: VariantFailure, message: str) -> str:
    name = failure.variant.name
    return (
        f'<section class="pf-variant pf-unavailable" data-variant="{html.escape(name)}">'
        f"<h4>PoolFormer-{html.escape(name.upper())}</h4>"
        f'<p class="pf-note">⚠️ {html.escape(message)}</p></section>'
    )


def missing_weights_text(names: Sequence[str]) -> str:
    """One line for every variant asked for whose weights are not here (the same reason for all)."""
    shown = [f"PoolFormer-{name.upper()}" for name in names]
    listed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
    return f"Not run: {listed}, whose weights are not on this server; {WEIGHTS_HELP}."


def agreement(comparison: Comparison) -> str:
    """One sentence on whether the models that ran name the same top class."""
    runs = comparison.runs
    if not runs:
        return "No model could run."
    tops = {run.predictions[0].name for run in runs}
    if len(runs) == 1:
        return f"Only PoolFormer-{runs[0].variant.name.upper()} could run."
    if len(tops) == 1:
        return f"All {len(runs)} models name the same top class: {tops.pop()}."
    said = "; ".join(f"{run.variant.name.upper()}: {run.predictions[0].name}" for run in runs)
    return f"The models disagree on the top class ({said})."


def compare_html(comparison: Comparison | None = None, messages: Mapping[str, str] | None = None) -> str:
    """One column per variant asked for, in the order asked: its result, or why it could not run.
    `messages` gives, per failed variant, the sentence the page shows."""
    if comparison is None:
        return f'<div class="pf-comparison pf-empty"><p class="pf-hint"><span>{HINT}</span></p></div>'
    messages = messages or {}
    columns = []
    missing = []
    for name in comparison.requested or [run.variant.name for run in comparison.runs]:
        outcome = comparison.outcome(name)
        if isinstance(outcome, VariantFailure) and isinstance(outcome.error, WeightsUnavailableError):
            missing.append(name)
        elif isinstance(outcome, VariantFailure):
            columns.append(_failure_column(outcome, messages.get(name, str(outcome.error))))
        else:
            columns.append(_run_column(outcome))
    notes = "".join(f'<p class="pf-note">ℹ️ {html.escape(note)}</p>' for note in comparison.notes)
    if missing:
        notes += f'<p class="pf-note pf-missing">⚠️ {html.escape(missing_weights_text(missing))}</p>'
    return (
        f'<div class="pf-comparison">{notes}<p class="pf-note"><b>{html.escape(agreement(comparison))}</b> '
        "Each Grad-CAM is scaled to its own peak.</p>"
        f'<div class="pf-compare-grid">{"".join(columns)}</div>{cam_scale_html()}</div>'
    )


def compare_api(comparison: Comparison, messages: Mapping[str, str] | None = None) -> dict:
    """The comparison for programs: Comparison.to_json with, per variant that ran, the crop it saw
    and its Grad-CAM as pictures (data URIs); a variant that could not run has the page's sentence
    (`messages`) as its `error`; and whether the models agree, in words."""
    messages = messages or {}
    data = comparison.to_json()
    for entry in data["variants"]:
        outcome = comparison.outcome(entry["variant"])
        if isinstance(outcome, VariantFailure):
            entry["error"] = messages.get(entry["variant"], entry["error"])
            continue
        entry["crop"] = render.data_uri(outcome.input_image, "jpeg")
        entry["gradcam_picture"] = render.data_uri(render.heatmap(outcome.cam_raw))
    data["agreement"] = agreement(comparison)
    return data


def default_variants(available: Sequence[str]) -> list[str]:
    """The models ticked when the page opens: the first two ImageNet models that can run here (S12 and
    the next), which answer the same question; none where fewer than two can (the bundled models each
    know their own task's classes, so two of them never answer the same picture)."""
    imagenet = [name for name in available if name in HUB_VARIANTS]
    return imagenet[:2] if len(imagenet) >= 2 else []


def variants_info(available: Sequence[str]) -> str | None:
    """Why no model is ticked, where fewer than two ImageNet models can run here."""
    if default_variants(available):
        return None
    return (
        "Fewer than two ImageNet models can run on this server, and the bundled models each know only their own "
        "task's classes (shapes, or pairs of discs): two of them never answer the same picture."
    )
