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
from ....readings import trust as readings
from ....sanity import SanityCheck, default_granularity, null_models, step_count
from ....variants import HUB_VARIANTS, Variant
from ...kit.pictures import layer_uri
from ...kit.view import legend_html, plot_images
from .timing import BUSY_NOTE, expected_seconds, seconds_text, timings

# ---------------------------------------------------------------------------------------------
# Faithfulness
# ---------------------------------------------------------------------------------------------

FAITHFULNESS_TEXT = (
    "Deletion removes the pixels a map ranks highest first (replacing them with the mean colour) and follows "
    "the class probability; insertion puts them back first into a blurred copy. **A map is more faithful to the "
    "model than a random one if its deletion AUC is lower and its insertion AUC higher than random's**: the "
    "pixels it points at really carry the prediction. It uses the maps of the last attributions run (or runs "
    "them first)."
)
FAITHFULNESS_HINT = (
    "Press <b>Measure faithfulness</b>: deletion and insertion curves for each method and for random maps."
)


def faithfulness_seconds(maps: int, settings: FaithfulnessSettings) -> float:
    """Expected time on S12 (2 cores), scaled from the work the time was measured on."""
    measured = timings()
    work = measured.faithfulness
    images = (maps + settings.random_orders) * (settings.steps - 1)
    return measured.seconds["faithfulness"] * images / ((work["maps"] + work["random_orders"]) * (work["steps"] - 1))


def faithfulness_intro(settings: FaithfulnessSettings = FaithfulnessSettings()) -> str:
    return (
        f"{FAITHFULNESS_TEXT} {settings.steps} steps, {settings.random_orders} random orders, "
        f"{settings.batch_size} images per pass: {seconds_text(faithfulness_seconds(4, settings))} for four maps "
        f"on S12 ({BUSY_NOTE})."
    )


def faithfulness_table_html(report: FaithfulnessReport, titles: Mapping[str, str]) -> str:
    road = report.road is not None
    head = "<th>Method</th><th>Deletion AUC ↓</th><th>Insertion AUC ↑</th>" + ("<th>ROAD ↑</th>" if road else "")
    rows = []
    for name, curves in report.methods.items():
        road_cell = f'<td class="pf-num">{report.road[name]:.3f}</td>' if road else ""
        rows.append(
            f'<tr data-method="{name}"><td>{html.escape(titles.get(name, name))}</td>'
            f'<td class="pf-num">{curves.deletion_auc:.3f}</td><td class="pf-num">{curves.insertion_auc:.3f}</td>'
            f"{road_cell}<td>{html.escape(readings.method_verdict(report, name).text())}</td></tr>"
        )
    random = report.random
    orders = random.deletion_auc.shape[0]
    road_cell = f'<td class="pf-num">{report.road[RANDOM]:.3f}</td>' if road else ""
    rows.append(
        f'<tr data-method="{RANDOM}" class="pf-random"><td>random ({orders} orders)</td>'
        f'<td class="pf-num">{random.deletion_auc.mean():.3f} ± {random.deletion_auc.std():.3f}</td>'
        f'<td class="pf-num">{random.insertion_auc.mean():.3f} ± {random.insertion_auc.std():.3f}</td>'
        f"{road_cell}<td>the baseline (mean ± standard deviation)</td></tr>"
    )
    return (
        f'<table class="pf-faith-table"><thead><tr>{head}<th>Compared with random</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def faithfulness_plot_uri(report: FaithfulnessReport, titles: Mapping[str, str], scale: float = 1.0) -> str:
    return render.data_uri(plots.faithfulness_plot(report, dict(titles), scale))


def faithfulness_html(
    report: FaithfulnessReport | None = None, titles: Mapping[str, str] | None = None, plot: str | None = None
) -> str:
    """The AUC table beside the curves, with a sentence on how to read them."""
    if report is None or plot is None:
        return f'<div class="pf-faith pf-empty"><p class="pf-hint"><span>{FAITHFULNESS_HINT}</span></p></div>'
    titles = titles or {}
    summary = readings.faithfulness_summary(report, titles).text()
    substrate = report.substrate
    # Presenter mode's copy of the curves, with larger type.
    room = faithfulness_plot_uri(report, titles, plots.PRESENTER_SCALE)
    return (
        '<div class="pf-faith"><div class="pf-faith-row"><div>'
        f"{faithfulness_table_html(report, titles)}"
        f'<p class="pf-note"><b>{html.escape(summary)}</b> Lower deletion AUC and higher insertion AUC than '
        "random mean a more faithful map. One image is one sample: over 50 held-out images of the shapes model, "
        "Grad-CAM at stage 4 and Integrated Gradients beat random on both curves (the project's tests check it).</p>"
        f'<p class="pf-note">{report.steps} steps; deletion fills with {html.escape(substrate["deletion"])}; '
        f"insertion starts from a {html.escape(substrate['insertion'])}; {report.seconds:.1f} s.</p></div>"
        f'<figure class="pf-faith-plot">{plot_images(plot, room, "deletion and insertion curves")}</figure>'
        "</div></div>"
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

SANITY_TEXT = (
    "The check of Adebayo et al. (2018): the model's weights are re-initialised from the top layer down, one "
    "layer more at each step, on a copy (the model serving this page is never touched), and the same class is "
    "explained again. **An explanation that does not change when the model is destroyed is not explaining the "
    "model**: it shows the image (its edges, its bright parts), not what the model learned. Watch the maps "
    "lose the original's shape and the rank correlation ρ fall. Maps of two random models can agree with each "
    "other through the image alone, so the verdict reads the fully randomised models' agreement with the trained "
    "map against their agreement with each other."
)
SANITY_HINT = (
    "Choose a method and press <b>Randomise the model</b>: the maps of the model destroyed step by step show here."
)
SANITY_SCALE = "Each map is scaled to ± its own 99th percentile of |value|: red for the class, blue against, clear at 0"
S12 = HUB_VARIANTS["s12"]


def sanity_expected_text(method: str, settings: Mapping[str, object] | None = None, variant: Variant = S12) -> str:
    """The chosen model's steps (from its blocks), and the time, measured on S12 and scaled by MACs."""
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
    work = f"{explanations} {unit}: the trained model, {steps} steps and {null_models(method) - 1} more random models"
    name = f"PoolFormer-{variant.name.upper()}"
    if variant.macs_g is None:
        return f"quicker than on S12 on {name} ({work})"
    return f"{seconds_text(each * explanations * variant.macs_g / S12.macs_g)} on {name} ({work})"


def sanity_pictures(check: SanityCheck) -> dict:
    """The original and every step's map as layers on the diverging scale, each scaled to itself."""
    return {
        "original": layer_uri(check.original)[0],
        "steps": [layer_uri(step.map)[0] for step in check.steps],
    }


def sanity_reading(check: SanityCheck) -> str:
    """What the numbers say, read against the baseline (the core's reading, in words)."""
    return readings.sanity_reading(check).text()


def sanity_html(check: SanityCheck | None = None, pictures: dict | None = None, crop: str | None = None) -> str:
    """The original and the maps of the model randomised step by step, each with its rank correlation."""
    if check is None or pictures is None:
        return f'<div class="pf-explain pf-sanity pf-empty"><p class="pf-hint"><span>{SANITY_HINT}</span></p></div>'
    title = METHOD_TITLES.get(check.method, check.method)
    where = f" at stage {check.stage}" if check.method in CAM_METHODS else ""
    original = (
        '<figure class="pf-attr pf-original"><span class="pf-cam">'
        f'<img class="pf-heat" alt="{html.escape(title)} of the trained model" src="{pictures["original"]}"></span>'
        f"<figcaption><b>trained model</b> · ρ = +1<br>p({html.escape(check.target.name)}) = "
        f"{check.target.probability:.1%}</figcaption>"
        "</figure>"
    )
    steps = []
    for index, (step, uri) in enumerate(zip(check.steps, pictures["steps"]), start=1):
        steps.append(
            f'<figure class="pf-attr" data-step="{index}"><span class="pf-cam">'
            f'<img class="pf-heat" alt="after re-initialising up to {html.escape(step.label)}" src="{uri}"></span>'
            f"<figcaption><b>+ {html.escape(step.label)}</b> · ρ = {step.spearman:+.2f}<br>"
            f"predicts {html.escape(step.top_class.name)} ({step.top_class.probability:.0%})</figcaption></figure>"
        )
    style = f' style="--pf-crop: url({crop})"' if crop else ""
    return (
        f'<div class="pf-explain pf-sanity"{style}>'
        f'<p class="pf-note"><b>{html.escape(title)}{where}</b> for <b>{html.escape(check.target.name)}</b>, '
        f"{len(check.steps)} steps from the top ({check.granularity} by {check.granularity}), "
        f"{check.seconds:.1f} s. ρ is Spearman's rank correlation with the trained model's map"
        f"{' (of |value|)' if check.signed else ''}.</p>"
        f'<div class="pf-sanity-grid">{original}{"".join(steps)}</div>'
        f'<p class="pf-reading">{html.escape(sanity_reading(check))}</p>'
        f"{legend_html(SANITY_SCALE)}</div>"
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
