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
from ....i18n import Messages, english
from ....variants import HUB_VARIANTS
from ...kit.view import Session, cam_scale_html, failure_text, md

# A model taken from the cache faster than this was already loaded.
ALREADY_LOADED_S = 0.05


def source_markdown(session: Session | None, t: Messages | None = None) -> str:
    """Which image a comparison uses when none is uploaded here."""
    t = t or english()
    if session is None:
        return t.text("compare.source.none")
    return t.text("compare.source", image=md(Path(session.image).name))


def _heat_figure(run: VariantRun, t: Messages) -> str:
    crop = render.data_uri(run.input_image, "jpeg")
    heat = render.data_uri(render.heatmap(run.cam_raw))
    height, width = run.cam_raw.shape
    target = run.target.name
    model = run.variant.name.upper()
    alt = t.text("compare.heat_alt", target=target, model=model)
    caption = t.html(
        "compare.heat_caption",
        target=target,
        height=height,
        width=width,
        crop_width=run.input_image.width,
        crop_height=run.input_image.height,
    )
    return (
        f'<figure class="pf-map" style="--pf-crop: url({crop})"><span class="pf-cam">'
        f'<img class="pf-heat" alt="{html.escape(alt)}" src="{heat}"></span><figcaption>{caption}</figcaption></figure>'
    )


def _top_table(run: VariantRun, t: Messages) -> str:
    rows = []
    for rank, p in enumerate(run.predictions, start=1):
        chosen = ' class="pf-target"' if p.index == run.target.index else ""
        rows.append(
            f'<tr{chosen}><td>{rank}</td><td>{html.escape(p.name)}</td><td class="pf-num">{p.probability:.1%}</td></tr>'
        )
    heads = "".join(f"<th>{html.escape(t.text(f'compare.head.{name}'))}</th>" for name in ("rank", "class", "p"))
    return f'<table class="pf-topk"><thead><tr>{heads}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def time_text(run: VariantRun, t: Messages | None = None) -> str:
    t = t or english()
    if run.load_seconds < ALREADY_LOADED_S:
        return t.text("compare.time.loaded", seconds=run.seconds)
    return t.text("compare.time.loading", seconds=run.seconds, load=run.load_seconds)


def _run_column(run: VariantRun, t: Messages) -> str:
    name = run.variant.name
    return (
        f'<section class="pf-variant" data-variant="{html.escape(name)}">'
        f"<h4>PoolFormer-{html.escape(name.upper())}</h4>{_heat_figure(run, t)}{_top_table(run, t)}"
        f'<p class="pf-note pf-time">{html.escape(time_text(run, t))}</p>'
        f'<p class="pf-note pf-source">{html.escape(t.text("compare.weights", source=t.said(run.weights_source)))}</p>'
        "</section>"
    )


def _failure_column(failure: VariantFailure, message: str) -> str:
    """`message` is fit for a page already (`failure_text`)."""
    name = failure.variant.name
    return (
        f'<section class="pf-variant pf-unavailable" data-variant="{html.escape(name)}">'
        f"<h4>PoolFormer-{html.escape(name.upper())}</h4>"
        f'<p class="pf-note">⚠️ {message}</p></section>'
    )


def missing_weights_text(names: Sequence[str], t: Messages | None = None) -> str:
    """One line for every variant asked for whose weights are not here (the same reason for all)."""
    t = t or english()
    shown = t.listed([f"PoolFormer-{name.upper()}" for name in names])
    return t.plural("compare.not_run", len(names), models=shown, help=t.text("weights.help"))


def agreement(comparison: Comparison, t: Messages | None = None) -> str:
    """One sentence on whether the models that ran name the same top class."""
    t = t or english()
    runs = comparison.runs
    if not runs:
        return t.text("compare.agreement.none")
    tops = {run.predictions[0].name for run in runs}
    if len(runs) == 1:
        return t.text("compare.agreement.one", model=runs[0].variant.name.upper())
    if len(tops) == 1:
        return t.text("compare.agreement.same", count=len(runs), name=tops.pop())
    said = "; ".join(f"{run.variant.name.upper()}: {run.predictions[0].name}" for run in runs)
    return t.text("compare.agreement.differ", answers=said)


def compare_html(
    comparison: Comparison | None = None, messages: Mapping[str, str] | None = None, t: Messages | None = None
) -> str:
    """One column per variant asked for, in the order asked: its result, or why it could not run.
    `messages` gives, per failed variant, what the page says (a `Said`, put in language `t`)."""
    t = t or english()
    if comparison is None:
        return f'<div class="pf-comparison pf-empty"><p class="pf-hint"><span>{t.text("compare.hint")}</span></p></div>'
    messages = messages or {}
    columns = []
    missing = []
    for name in comparison.requested or [run.variant.name for run in comparison.runs]:
        outcome = comparison.outcome(name)
        if isinstance(outcome, VariantFailure) and isinstance(outcome.error, WeightsUnavailableError):
            missing.append(name)
        elif isinstance(outcome, VariantFailure):
            columns.append(_failure_column(outcome, failure_text(messages.get(name, str(outcome.error)), t)))
        else:
            columns.append(_run_column(outcome, t))
    notes = "".join(f'<p class="pf-note">ℹ️ {html.escape(t.said(note))}</p>' for note in comparison.notes)
    if missing:
        notes += f'<p class="pf-note pf-missing">⚠️ {html.escape(missing_weights_text(missing, t))}</p>'
    return (
        f'<div class="pf-comparison">{notes}<p class="pf-note"><b>{html.escape(agreement(comparison, t))}</b> '
        f"{html.escape(t.text('compare.own_peak'))}</p>"
        f'<div class="pf-compare-grid">{"".join(columns)}</div>{cam_scale_html(t=t)}</div>'
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
            entry["error"] = failure_text(messages.get(entry["variant"], entry["error"]))
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


def variants_info(available: Sequence[str], t: Messages | None = None) -> str | None:
    """Why no model is ticked, where fewer than two ImageNet models can run here."""
    if default_variants(available):
        return None
    return (t or english()).text("compare.variants_info")
