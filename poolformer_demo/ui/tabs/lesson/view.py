"""The guided lesson: ten steps through MetaFormer on the image analysed last, as plain values.

The steps themselves (claim, question, which measurement) are the core's (`poolformer_demo.lesson`);
each shows a view and an answer measured on the student's own image, or read from the lab's shipped
reference run. The page and the handout hand in what the core measured (an Analysis, a
BlockAnatomy, two Analyses around a knockout, receptive fields, the lab's summaries); the core's
readings (``poolformer_demo.readings``) turn the numbers into the answers, and this module formats
them: two sentences for the class, the rest behind "more". Nothing here imports Gradio.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np

from .... import plots, render
from ....analysis import Analysis
from ....anatomy import BlockAnatomy
from ....diagram import STEP_NAMES
from ....edges import edge_strength, mixer_at_edges
from ....lesson import STEP_COUNT, STEPS
from ....readings import block as block_readings
from ....readings import lesson as readings
from ....readings.knockout import knockout_answer
from ....readings.lab_arms import chance
from ....readings.sentences import pct
from ....receptive_field import ReceptiveField
from ....shapes.lab import LAB_CONFIGS
from ....shapes.lab_results import ArmSummary
from ....variants import get_variant
from ...kit.diagram_view import diagram_html
from ...kit.view import cam_scale_html, chance_row, display_names, mean_spread, more_html

PENDING = "Measured when the step opens."
LESSON_PLOT_SCALE = 1.4


def step_index(value) -> int:
    """A step number from 1 (a page's or a link's), clamped to the lesson."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 1
    return min(max(number, 1), STEP_COUNT)


def progress_html(number: int) -> str:
    """Where the student is: the steps as buttons that open them, the current one marked."""
    items = "".join(
        f'<li><button type="button" data-step="{i}"{" aria-current=step" * (i == number)}><span class="pf-step-number">'
        f'{i}</span> <span class="pf-step-title">{html.escape(s.title)}</span></button></li>'
        for i, s in enumerate(STEPS, start=1)
    )
    return (
        f'<nav class="pf-lesson-progress" aria-label="Lesson steps"><p>Step {number} of {STEP_COUNT}</p>'
        f"<ol>{items}</ol></nav>"
    )


def card_html(number: int, view: str, answer: str, source: str = "") -> str:
    """One step: its claim, the question, the answer behind a disclosure, and its view."""
    step = STEPS[number - 1]
    view_block = f'<div class="pf-lesson-view">{view}</div>'
    reveal = (
        '<details class="pf-reveal"><summary>Show the answer</summary>'
        f'<div class="pf-answer">{answer}</div>{"" if step.view_first else view_block}</details>'
    )
    return (
        f'<article class="pf-lesson-card" data-step="{step.key}" aria-labelledby="pf-lesson-title">'
        f'<h2 id="pf-lesson-title">{number}. {html.escape(step.title)}</h2>'
        f'<p class="pf-claim">{html.escape(step.claim)}</p>'
        f"{view_block if step.view_first else ''}"
        f'<p class="pf-question"><b>Think first:</b> {html.escape(step.question)}</p>{reveal}'
        f"{f'<p class=pf-note>{source}</p>' if source else ''}</article>"
    )


def source_html(image_name: str, variant: str, fallback: bool = False) -> str:
    """Which image and model the lesson is measuring."""
    where = (
        "No image analysed yet, so the lesson uses a bundled example. "
        if fallback
        else "The image last analysed on the Explore tab. "
    )
    return (
        f'<p class="pf-note">{where}Measured now on <b>{html.escape(image_name)}</b> with '
        f"<b>PoolFormer-{html.escape(variant.upper())}</b>.</p>"
    )


# ---------------------------------------------------------------------------------------------
# The views and answers, one pair per step
# ---------------------------------------------------------------------------------------------


def _top5(analysis: Analysis) -> str:
    names = display_names(analysis.labels)
    rows = "".join(
        f"<tr><td>{rank}</td><td>{html.escape(names[p.index])}</td><td class='pf-num'>{p.probability:.1%}</td></tr>"
        for rank, p in enumerate(analysis.predictions, start=1)
    )
    return (
        '<table class="pf-topk"><caption>The model\'s top five</caption>'
        f"<thead><tr><th>#</th><th>class</th><th>probability</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _crop(analysis: Analysis) -> str:
    return (
        f'<img class="pf-lesson-crop" alt="the {analysis.input_image.width}×{analysis.input_image.height} crop '
        f'the model saw" src="{render.data_uri(analysis.input_image, "jpeg")}">'
    )


def predict(analysis: Analysis) -> tuple[str, str]:
    top = analysis.predictions[0]
    name = display_names(analysis.labels)[top.index]
    answer = (
        f"It puts <b>{html.escape(name)}</b> first with p = {top.probability:.1%}, out of "
        f"{len(analysis.labels)} classes it knows."
    )
    return f'<div class="pf-lesson-row">{_crop(analysis)}{_top5(analysis)}</div>', answer


def stages(analysis: Analysis) -> tuple[str, str]:
    figures = "".join(
        f'<figure class="pf-map"><img class="pf-cells" alt="feature map of stage {s.index}, first three principal '
        f'components as colour, {s.shape[1]}×{s.shape[2]} positions" '
        f'src="{render.data_uri(render.pca_view(s.activation))}">'
        f"<figcaption>Stage {s.index}: {s.shape[0]} channels × {s.shape[1]}×{s.shape[2]} positions "
        f"(stride {s.stride})</figcaption></figure>"
        for s in analysis.stages
    )
    first, last = analysis.stages[0], analysis.stages[-1]
    answer = (
        f"Stage 1 has {first.shape[1]}×{first.shape[2]} positions with {first.shape[0]} channels; stage "
        f"{last.index} has {last.shape[1]}×{last.shape[2]} with {last.shape[0]}: each position of the last stage "
        f"stands for a {last.stride}×{last.stride} pixel square."
    )
    note = "<p class='pf-note'>Colours: each map's first three principal components as red, green and blue.</p>"
    return f'<div class="pf-strip">{figures}</div>{note}', answer


def gradcam(analysis: Analysis) -> tuple[str, str]:
    name = display_names(analysis.labels)[analysis.target.index]
    crop = render.data_uri(analysis.input_image, "jpeg")
    figures = "".join(
        f'<figure class="pf-map"><span class="pf-cam" style="--pf-crop: url({crop})">'
        f'<img class="pf-heat" alt="Grad-CAM for {html.escape(name)}, stage {s.index}, scaled to its own peak" '
        f'src="{render.data_uri(render.heatmap(s.cam_raw))}"></span>'
        f"<figcaption>Stage {s.index} · {s.shape[1]}×{s.shape[2]}</figcaption></figure>"
        for s in analysis.stages
    )
    answer = readings.cam_peak(name, analysis.stages[-1].cam_raw).sentences()
    return f'<div class="pf-strip">{figures}</div>{cam_scale_html()}', more_html(answer)


def block(pictures: dict | None, where: str) -> tuple[str, str]:
    answer = (
        "A correction. Both halves end with <b>add (residual)</b>: Y = X + ls1·Mixer(Norm(X)), then "
        "Z = Y + ls2·MLP(Norm(Y)). The input always passes through unchanged, and each branch adds to it."
    )
    return diagram_html(pictures, where), answer


def _step_figures(pictures: dict, names: Sequence[str], where: str) -> str:
    chosen = [s for s in pictures["steps"] if s["name"] in names]
    return "".join(
        f'<figure class="pf-step"><img class="pf-cells" alt="{html.escape(s["title"])}, {html.escape(where)}" '
        f'src="{s["picture"]}"><figcaption><b>{html.escape(STEP_NAMES.get(s["name"], s["name"]))}</b>'
        f"<code>{html.escape(s['title'])}</code><span>{html.escape(s['caption'])}</span></figcaption></figure>"
        for s in chosen
    )


def anatomy(anatomy: BlockAnatomy, pictures: dict, where: str) -> tuple[str, str]:
    answer = block_readings.block_likeness(anatomy, pictures["channel"]).sentences()
    names = ("input", "normed", "pooled", "mixer", "mixed", "mlp", "output")
    view = (
        f'<p class="pf-note">{html.escape(where)}</p><div class="pf-steps pf-lesson-steps">'
        f"{_step_figures(pictures, names, where)}</div>"
        '<p class="pf-legend"><span class="pf-diverging-bar" aria-hidden="true"></span>'
        "Signed steps (mixer, MLP): blue below 0, white 0, red above.</p>"
    )
    return view, more_html(answer)


def _map_figure(values: np.ndarray, title: str, caption: str, alt: str) -> str:
    picture = render.sequential_view(values, 0.0, max(float(values.max()), 1e-12))
    return (
        f'<figure class="pf-step"><img class="pf-cells" alt="{html.escape(alt)}" src="{render.data_uri(picture)}">'
        f"<figcaption><b>{html.escape(title)}</b><span>{html.escape(caption)}</span></figcaption></figure>"
    )


def highpass(anatomy: BlockAnatomy, pictures: dict, where: str) -> tuple[str, str]:
    """The mixer's output against edges found on the image itself, never by the mixer."""
    channels, height, width = anatomy.mixer.shape
    reading = block_readings.high_pass(mixer_at_edges(anatomy), channels)
    edges = _map_figure(
        edge_strength(anatomy.input_image, (height, width)),
        "edges in the image",
        "Sobel gradient of the crop, averaged over each position's pixels; from 0 (black) to its peak.",
        f"edge strength of the crop on the {height}×{width} grid",
    )
    size = _map_figure(
        np.abs(anatomy.mixer).mean(axis=0),
        "|mixer output|",
        f"Mean over the {channels} channels of the size of AvgPool(n) − n; from 0 to its peak.",
        f"size of the token mixer's output on the {height}×{width} grid, mean over channels",
    )
    names = ("normed", "pooled", "mixer")
    view = (
        f'<div class="pf-steps pf-lesson-steps pf-three">{_step_figures(pictures, names, where)}</div>'
        f'<div class="pf-steps pf-lesson-steps">{edges}{size}</div>'
    )
    return view, more_html(reading.sentences())


def branches(anatomy: BlockAnatomy) -> tuple[str, str]:
    # Larger type than the Inside tab's copy: the lesson is read from the back of a room.
    plot = render.data_uri(plots.branch_ratio_plot(anatomy.branches, (anatomy.stage, anatomy.block), LESSON_PLOT_SCALE))
    answer = (*block_readings.branch_sizes(anatomy).sentences(), *block_readings.mixer_factors(anatomy).sentences())
    view = (
        '<figure class="pf-branches"><img alt="plot: size of the token mixer and channel MLP branches relative '
        f'to the stream, for every block" src="{plot}"><figcaption>Size of each branch '
        "divided by the size of the stream it is added to, block by block (token mixer blue, channel MLP orange)."
        "</figcaption></figure>"
    )
    return view, more_html(answer)


def knockout(before: Analysis, after: Analysis, compare_html: str, model_note: str = "") -> tuple[str, str]:
    """The knockout step; ``model_note`` is what a bundled model's measurement says about the same
    knockout on its held-out images."""
    answer = knockout_answer(before, after).sentences()
    return compare_html, more_html((*answer, model_note) if model_note else answer)


def field(fields: Sequence[ReceptiveField]) -> tuple[str, str]:
    figures = "".join(
        f'<figure class="pf-map"><img alt="effective receptive field of the centre position of stage {f.stage}, '
        f'theoretical field as a box" src="{render.data_uri(render.receptive_field_view(f, "sqrt"), "jpeg")}">'
        f"<figcaption>Stage {f.stage}: box {f.theoretical_size} px wide; "
        f"{f.mass_inside:.0%} of the gradient inside it</figcaption></figure>"
        for f in fields
    )
    note = (
        "<p class='pf-note'>Brightness: how much the position's activation changes with each pixel (square root, "
        "scaled to each picture's peak).</p>"
    )
    return f'<div class="pf-strip pf-two">{figures}</div>{note}', more_html(readings.field_reach(fields).sentences())


LAB_TASKS = ("shapes", "pairs", "control")
# The paper's ImageNet-1k has a thousand classes: its chance row.
IMAGENET_CLASSES = 1000


def lab(
    shapes: Sequence[ArmSummary], pairs: Sequence[ArmSummary], control: Sequence[ArmSummary], control_steps: int
) -> tuple[str, str]:
    """The lab's references on both tasks and the pairs task's norm control, beside the paper, and
    what they say about training without a token mixer."""
    tasks = {"shapes": {s.arm: s for s in shapes}, "pairs": {s.arm: s for s in pairs}}
    tasks["control"] = {s.arm: s for s in control}
    rows = []
    for s in shapes:
        cells = "".join(
            f"<td class='pf-num'>{mean_spread(r.accuracy_mean, r.accuracy_std, r.seeds) if r else '–'}</td>"
            for r in (tasks[t].get(s.arm) for t in LAB_TASKS)
        )
        rows.append(f"<tr><td>{html.escape(s.title)}</td>{cells}<td class='pf-num'>{s.paper_top1:g} %</td></tr>")
    rows.append(chance_row(*(pct(chance(t)) for t in ("shapes", "pairs", "pairs")), pct(1 / IMAGENET_CLASSES)))
    parameters = max((s.parameters for s in shapes), default=0)
    config = LAB_CONFIGS["shapes"]
    steps = sorted({c.steps for c in LAB_CONFIGS.values()} | ({control_steps} if control_steps else set()))
    budget = " or ".join(f"{n:,}" for n in steps)
    table = (
        '<table class="pf-lab-table"><caption>Held-out accuracy of the lab\'s tiny MetaFormers (mean ± spread over '
        f"seeds; about {parameters / 1e6:.2f} M parameters, {budget} steps on {config.train_size:,} synthetic "
        f"{config.image_size} px images) and the paper's ImageNet top-1 for the same change at S12 size "
        f"({get_variant('s12').params_m:g} M parameters, 1.28 M photos)</caption>"
        "<thead><tr><th>arm</th><th>one shape</th><th>pairs of discs</th><th>pairs, per-position norm</th>"
        "<th>paper, ImageNet</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )
    answer = readings.lab_step(shapes, pairs, control, control_steps)
    return table, more_html(answer) if answer else "The reference runs have no pooling or identity arm to compare."
