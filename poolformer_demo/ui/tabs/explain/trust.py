"""How far to trust an explanation, as the Explain tab shows it: faithfulness (deletion and
insertion against random orders) and the cascading-randomisation sanity check, as HTML with
inlined pictures, Markdown and JSON. Nothing here imports Gradio."""

from __future__ import annotations

import html
from collections.abc import Mapping

from .... import plots, render
from ....attributions import DEFAULT_SETTINGS, METHOD_TITLES
from ....cams import CAM_METHODS
from ....faithfulness import RANDOM, FaithfulnessReport, FaithfulnessSettings, verdict
from ....i18n import Messages, english
from ....readings import trust as readings
from ....sanity import SanityCheck, default_granularity, null_models, step_count
from ....variants import HUB_VARIANTS, Variant
from ...kit.pictures import layer_uri
from ...kit.view import legend_html, plot_images
from .timing import busy_note, expected_seconds, seconds_text, timings

# ---------------------------------------------------------------------------------------------
# Faithfulness
# ---------------------------------------------------------------------------------------------


def faithfulness_seconds(maps: int, settings: FaithfulnessSettings) -> float:
    """Expected time on S12 (2 cores), scaled from the work the time was measured on."""
    measured = timings()
    work = measured.faithfulness
    images = (maps + settings.random_orders) * (settings.steps - 1)
    return measured.seconds["faithfulness"] * images / ((work["maps"] + work["random_orders"]) * (work["steps"] - 1))


def faithfulness_intro(settings: FaithfulnessSettings = FaithfulnessSettings(), t: Messages | None = None) -> str:
    t = t or english()
    return t.text(
        "explain.faithfulness.intro",
        steps=settings.steps,
        orders=settings.random_orders,
        batch=settings.batch_size,
        time=seconds_text(faithfulness_seconds(4, settings), t),
        busy=busy_note(t),
    )


def faithfulness_table_html(report: FaithfulnessReport, t: Messages | None = None) -> str:
    t = t or english()
    road = report.road is not None
    heads = ["method", "deletion", "insertion", *(["road"] if road else []), "against_random"]
    head = "".join(f"<th>{html.escape(t.text(f'explain.faithfulness.head.{name}'))}</th>" for name in heads)
    rows = []
    for name, curves in report.methods.items():
        road_cell = f'<td class="pf-num">{report.road[name]:.3f}</td>' if road else ""
        rows.append(
            f'<tr data-method="{name}"><td>{html.escape(readings.method_title(name, t))}</td>'
            f'<td class="pf-num">{curves.deletion_auc:.3f}</td><td class="pf-num">{curves.insertion_auc:.3f}</td>'
            f"{road_cell}<td>{html.escape(readings.method_verdict(report, name).text(t))}</td></tr>"
        )
    random = report.random
    orders = random.deletion_auc.shape[0]
    road_cell = f'<td class="pf-num">{report.road[RANDOM]:.3f}</td>' if road else ""
    rows.append(
        f'<tr data-method="{RANDOM}" class="pf-random">'
        f"<td>{html.escape(t.plural('explain.faithfulness.random', orders))}</td>"
        f'<td class="pf-num">{random.deletion_auc.mean():.3f} ± {random.deletion_auc.std():.3f}</td>'
        f'<td class="pf-num">{random.insertion_auc.mean():.3f} ± {random.insertion_auc.std():.3f}</td>'
        f"{road_cell}<td>{html.escape(t.text('explain.faithfulness.baseline'))}</td></tr>"
    )
    return f'<table class="pf-faith-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def faithfulness_plot_uri(report: FaithfulnessReport, titles: Mapping[str, str], scale: float = 1.0) -> str:
    return render.data_uri(plots.faithfulness_plot(report, dict(titles), scale))


def faithfulness_html(
    report: FaithfulnessReport | None = None,
    plot: str | None = None,
    room: str | None = None,
    t: Messages | None = None,
) -> str:
    """The AUC table beside the curves (drawn for a screen, and for presenter mode in `room`), with
    a sentence on how to read them."""
    t = t or english()
    if report is None or plot is None:
        hint = t.text("explain.faithfulness.hint")
        return f'<div class="pf-faith pf-empty"><p class="pf-hint"><span>{hint}</span></p></div>'
    summary = readings.faithfulness_summary(report).text(t)
    substrate = report.substrate
    how = t.text(
        "explain.faithfulness.how",
        steps=report.steps,
        deletion=t.said(substrate["deletion"]),
        insertion=t.said(substrate["insertion"]),
        seconds=report.seconds,
    )
    alt = t.text("explain.faithfulness.plot_alt")
    return (
        '<div class="pf-faith"><div class="pf-faith-row"><div>'
        f"{faithfulness_table_html(report, t)}"
        f'<p class="pf-note"><b>{html.escape(summary)}</b> {html.escape(t.text("explain.faithfulness.reading"))}</p>'
        f'<p class="pf-note">{html.escape(how)}</p></div>'
        f'<figure class="pf-faith-plot">{plot_images(plot, room, alt)}</figure>'
        "</div></div>"
    )


def faithfulness_pictures(report: FaithfulnessReport) -> tuple[str, str]:
    """The curves drawn for a screen and for presenter mode (the plot's words stay English)."""
    return (
        faithfulness_plot_uri(report, METHOD_TITLES),
        faithfulness_plot_uri(report, METHOD_TITLES, plots.PRESENTER_SCALE),
    )


def faithfulness_api(report: FaithfulnessReport, plot: str | None = None) -> dict:
    """The report for programs: FaithfulnessReport.to_json (AUCs and curves, the random baseline with
    its spread, steps, substrate, settings) with each method's verdict against random and the plot."""
    data = report.to_json()
    for name in report.methods:
        data[name]["verdict"] = verdict(report, name)
    if plot is not None:
        data["plot"] = plot
    return data


# ---------------------------------------------------------------------------------------------
# The sanity check
# ---------------------------------------------------------------------------------------------

S12 = HUB_VARIANTS["s12"]


def sanity_expected_text(
    method: str, settings: Mapping[str, object] | None = None, variant: Variant = S12, t: Messages | None = None
) -> str:
    """The chosen model's steps (from its blocks), and the time, measured on S12 and scaled by MACs."""
    t = t or english()
    steps = step_count(variant.depths, default_granularity(method))
    # The trained model, every step, and the other fully randomised models of the baseline.
    explanations = 1 + steps + null_models(method) - 1
    if method in CAM_METHODS:
        # The measured time covers the trained model and every step of S12's check: one pass each.
        measured = timings()
        each = measured.seconds["sanity_cam"] / (1 + measured.sanity_cam_steps)
        unit = "passes"
    else:
        chosen = {**DEFAULT_SETTINGS, **dict(settings or {})}[method]
        each = expected_seconds(method, chosen)
        unit = "attributions"
    work = t.plural(f"explain.sanity.work.{unit}", explanations, steps=steps, others=null_models(method) - 1)
    model = variant.name.upper()
    if variant.macs_g is None:
        return t.text("explain.sanity.expected.quicker", model=model, work=work)
    time = seconds_text(each * explanations * variant.macs_g / S12.macs_g, t)
    return t.text("explain.sanity.expected", time=time, model=model, work=work)


def sanity_pictures(check: SanityCheck) -> dict:
    """The original and every step's map as layers on the diverging scale, each scaled to itself."""
    return {
        "original": layer_uri(check.original)[0],
        "steps": [layer_uri(step.map)[0] for step in check.steps],
    }


def sanity_reading(check: SanityCheck, t: Messages | None = None) -> str:
    """What the numbers say, read against the baseline (the core's reading, in words)."""
    return readings.sanity_reading(check).text(t)


def sanity_html(
    check: SanityCheck | None = None, pictures: dict | None = None, crop: str | None = None, t: Messages | None = None
) -> str:
    """The original and the maps of the model randomised step by step, each with its rank correlation."""
    t = t or english()
    if check is None or pictures is None:
        hint = t.text("explain.sanity.hint")
        return f'<div class="pf-explain pf-sanity pf-empty"><p class="pf-hint"><span>{hint}</span></p></div>'
    title = readings.method_title(check.method, t)
    target = check.target.name
    original = (
        '<figure class="pf-attr pf-original"><span class="pf-cam">'
        f'<img class="pf-heat" alt="{html.escape(t.text("explain.sanity.original_alt", method=title))}" '
        f'src="{pictures["original"]}"></span>'
        f"<figcaption>{t.html('explain.sanity.original', target=target, probability=check.target.probability)}"
        "</figcaption></figure>"
    )
    steps = []
    for index, (step, uri) in enumerate(zip(check.steps, pictures["steps"]), start=1):
        alt = html.escape(t.text("explain.sanity.step_alt", layers=step.label))
        caption = t.html(
            "explain.sanity.step",
            layers=step.label,
            rho=step.spearman,
            top=step.top_class.name,
            probability=step.top_class.probability,
        )
        steps.append(
            f'<figure class="pf-attr" data-step="{index}"><span class="pf-cam">'
            f'<img class="pf-heat" alt="{alt}" src="{uri}"></span><figcaption>{caption}</figcaption></figure>'
        )
    style = f' style="--pf-crop: url({crop})"' if crop else ""
    key = "explain.sanity.about"
    if check.method in CAM_METHODS:
        key += ".stage"
    if check.signed:
        key += ".signed"
    about = t.html_plural(
        key,
        len(check.steps),
        method=title,
        stage=check.stage,
        target=target,
        unit=t.text(f"explain.sanity.unit.{check.granularity}"),
        seconds=check.seconds,
    )
    return (
        f'<div class="pf-explain pf-sanity"{style}><p class="pf-note">{about}</p>'
        f'<div class="pf-sanity-grid">{original}{"".join(steps)}</div>'
        f'<p class="pf-reading">{html.escape(sanity_reading(check, t))}</p>'
        f"{legend_html(t.text('explain.sanity.scale'))}</div>"
    )


def sanity_api(check: SanityCheck, pictures: dict) -> dict:
    """The sanity check for programs: SanityCheck.to_json (per step what was re-initialised, the rank
    correlation with the original map, what the model predicts then; the baseline and its verdict)
    with the maps as pictures and the reading in words."""
    data = check.to_json()
    data["original_picture"] = pictures["original"]
    for step, picture in zip(data["steps"], pictures["steps"]):
        step["picture"] = picture
    data["reading"] = sanity_reading(check)
    return data
