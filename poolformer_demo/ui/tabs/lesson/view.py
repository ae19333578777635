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
from ....diagram import step_name
from ....edges import edge_strength, mixer_at_edges
from ....i18n import Messages, english
from ....lesson import STEP_COUNT, STEPS
from ....readings import block as block_readings
from ....readings import lesson as readings
from ....readings.knockout import knockout_answer
from ....readings.lab_arms import chance
from ....readings.sentences import pct
from ....receptive_field import ReceptiveField
from ....shapes.lab import LAB_CONFIGS
from ....shapes.lab_grid import LabGrid
from ....shapes.lab_results import ArmSummary
from ....variants import get_variant
from ...kit.diagram_view import diagram_html
from ...kit.view import cam_scale_html, chance_row, display_names, mean_spread, more_html

LESSON_PLOT_SCALE = 1.4


def pending(t: Messages | None = None) -> str:
    return (t or english()).text("lesson.pending")


def step_index(value) -> int:
    """A step number from 1 (a page's or a link's), clamped to the lesson."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 1
    return min(max(number, 1), STEP_COUNT)


def _words(key: str, part: str, t: Messages) -> str:
    return t.text(f"lesson.{key}.{part}")


def progress_html(number: int, t: Messages | None = None) -> str:
    """Where the student is: the steps as buttons that open them, the current one marked."""
    t = t or english()
    items = "".join(
        f'<li><button type="button" data-step="{i}"{" aria-current=step" * (i == number)}><span class="pf-step-number">'
        f'{i}</span> <span class="pf-step-title">{html.escape(_words(s.key, "title", t))}</span></button></li>'
        for i, s in enumerate(STEPS, start=1)
    )
    where = html.escape(t.text("lesson.step_of", number=number, count=STEP_COUNT))
    label = html.escape(t.text("lesson.steps_label"))
    return f'<nav class="pf-lesson-progress" aria-label="{label}"><p>{where}</p><ol>{items}</ol></nav>'


def card_html(number: int, view: str, answer: str, source: str = "", t: Messages | None = None) -> str:
    """One step: its claim, the question, the answer behind a disclosure, and its view."""
    t = t or english()
    step = STEPS[number - 1]
    view_block = f'<div class="pf-lesson-view">{view}</div>'
    reveal = (
        f'<details class="pf-reveal"><summary>{html.escape(t.text("lesson.show_answer"))}</summary>'
        f'<div class="pf-answer">{answer}</div>{"" if step.view_first else view_block}</details>'
    )
    question = t.html("lesson.think_first", question=_words(step.key, "question", t))
    return (
        f'<article class="pf-lesson-card" data-step="{step.key}" aria-labelledby="pf-lesson-title">'
        f'<h2 id="pf-lesson-title">{number}. {html.escape(_words(step.key, "title", t))}</h2>'
        f'<p class="pf-claim">{html.escape(_words(step.key, "claim", t))}</p>'
        f"{view_block if step.view_first else ''}"
        f'<p class="pf-question">{question}</p>{reveal}'
        f"{f'<p class=pf-note>{source}</p>' if source else ''}</article>"
    )


def source_html(image_name: str, variant: str, fallback: bool = False, t: Messages | None = None) -> str:
    """Which image and model the lesson is measuring."""
    t = t or english()
    key = "lesson.source.fallback" if fallback else "lesson.source"
    return f'<p class="pf-note">{t.html(key, image=image_name, model=variant.upper())}</p>'


# ---------------------------------------------------------------------------------------------
# The views and answers, one pair per step
# ---------------------------------------------------------------------------------------------


def _top5(analysis: Analysis, t: Messages) -> str:
    names = display_names(analysis.labels)
    rows = "".join(
        f"<tr><td>{rank}</td><td>{html.escape(names[p.index])}</td><td class='pf-num'>{p.probability:.1%}</td></tr>"
        for rank, p in enumerate(analysis.predictions, start=1)
    )
    heads = "".join(f"<th>{html.escape(t.text(f'lesson.top5.{h}'))}</th>" for h in ("rank", "class", "probability"))
    return (
        f'<table class="pf-topk"><caption>{html.escape(t.text("lesson.top5"))}</caption>'
        f"<thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table>"
    )


def _crop(analysis: Analysis, t: Messages) -> str:
    alt = t.text("lesson.crop_alt", width=analysis.input_image.width, height=analysis.input_image.height)
    return (
        f'<img class="pf-lesson-crop" alt="{html.escape(alt)}" src="{render.data_uri(analysis.input_image, "jpeg")}">'
    )


def predict(analysis: Analysis, t: Messages | None = None) -> tuple[str, str]:
    t = t or english()
    top = analysis.predictions[0]
    name = display_names(analysis.labels)[top.index]
    answer = t.html("lesson.predict.answer", name=name, probability=top.probability, classes=len(analysis.labels))
    return f'<div class="pf-lesson-row">{_crop(analysis, t)}{_top5(analysis, t)}</div>', answer


def stages(analysis: Analysis, t: Messages | None = None) -> tuple[str, str]:
    t = t or english()

    def figure(s) -> str:
        channels, height, width = s.shape
        alt = t.text("lesson.stages.alt", stage=s.index, height=height, width=width)
        caption = t.text(
            "lesson.stages.caption", stage=s.index, channels=channels, height=height, width=width, stride=s.stride
        )
        return (
            f'<figure class="pf-map"><img class="pf-cells" alt="{html.escape(alt)}" '
            f'src="{render.data_uri(render.pca_view(s.activation))}"><figcaption>{html.escape(caption)}</figcaption></figure>'
        )

    first, last = analysis.stages[0], analysis.stages[-1]
    answer = html.escape(
        t.text(
            "lesson.stages.answer",
            first_height=first.shape[1],
            first_width=first.shape[2],
            first_channels=first.shape[0],
            last_stage=last.index,
            last_height=last.shape[1],
            last_width=last.shape[2],
            last_channels=last.shape[0],
            stride=last.stride,
        )
    )
    note = f"<p class='pf-note'>{html.escape(t.text('lesson.stages.colours'))}</p>"
    return f'<div class="pf-strip">{"".join(figure(s) for s in analysis.stages)}</div>{note}', answer


def gradcam(analysis: Analysis, t: Messages | None = None) -> tuple[str, str]:
    t = t or english()
    name = display_names(analysis.labels)[analysis.target.index]
    crop = render.data_uri(analysis.input_image, "jpeg")

    def figure(s) -> str:
        alt = html.escape(t.text("lesson.gradcam.alt", target=name, stage=s.index))
        caption = html.escape(t.text("lesson.gradcam.caption", stage=s.index, height=s.shape[1], width=s.shape[2]))
        return (
            f'<figure class="pf-map"><span class="pf-cam" style="--pf-crop: url({crop})">'
            f'<img class="pf-heat" alt="{alt}" src="{render.data_uri(render.heatmap(s.cam_raw))}"></span>'
            f"<figcaption>{caption}</figcaption></figure>"
        )

    figures = "".join(figure(s) for s in analysis.stages)
    answer = readings.cam_peak(name, analysis.stages[-1].cam_raw).sentences(t)
    return f'<div class="pf-strip">{figures}</div>{cam_scale_html(t=t)}', more_html(answer, t=t)


def block(pictures: dict | None, where: str, t: Messages | None = None) -> tuple[str, str]:
    t = t or english()
    return diagram_html(pictures, where, t=t), t.html("lesson.block.answer")


def _step_figures(pictures: dict, names: Sequence[str], where: str, t: Messages) -> str:
    chosen = [s for s in pictures["steps"] if s["name"] in names]
    return "".join(
        f'<figure class="pf-step"><img class="pf-cells" alt="{html.escape(s["title"])}, {html.escape(where)}" '
        f'src="{s["picture"]}"><figcaption><b>{html.escape(step_name(s["name"], t))}</b>'
        f"<code>{html.escape(s['title'])}</code><span>{html.escape(t.said(s['caption']))}</span></figcaption></figure>"
        for s in chosen
    )


def anatomy(anatomy: BlockAnatomy, pictures: dict, where: str, t: Messages | None = None) -> tuple[str, str]:
    t = t or english()
    answer = block_readings.block_likeness(anatomy, pictures["channel"]).sentences(t)
    names = ("input", "normed", "pooled", "mixer", "mixed", "mlp", "output")
    view = (
        f'<p class="pf-note">{html.escape(where)}</p><div class="pf-steps pf-lesson-steps">'
        f"{_step_figures(pictures, names, where, t)}</div>"
        '<p class="pf-legend"><span class="pf-diverging-bar" aria-hidden="true"></span>'
        f"{html.escape(t.text('lesson.anatomy.legend'))}</p>"
    )
    return view, more_html(answer, t=t)


def _map_figure(values: np.ndarray, title: str, caption: str, alt: str) -> str:
    picture = render.sequential_view(values, 0.0, max(float(values.max()), 1e-12))
    return (
        f'<figure class="pf-step"><img class="pf-cells" alt="{html.escape(alt)}" src="{render.data_uri(picture)}">'
        f"<figcaption><b>{html.escape(title)}</b><span>{html.escape(caption)}</span></figcaption></figure>"
    )


def highpass(anatomy: BlockAnatomy, pictures: dict, where: str, t: Messages | None = None) -> tuple[str, str]:
    """The mixer's output against edges found on the image itself, never by the mixer."""
    t = t or english()
    channels, height, width = anatomy.mixer.shape
    reading = block_readings.high_pass(mixer_at_edges(anatomy), channels)
    edges = _map_figure(
        edge_strength(anatomy.input_image, (height, width)),
        t.text("lesson.highpass.edges"),
        t.text("lesson.highpass.edges_caption"),
        t.text("lesson.highpass.edges_alt", height=height, width=width),
    )
    size = _map_figure(
        np.abs(anatomy.mixer).mean(axis=0),
        "|mixer output|",
        t.text("lesson.highpass.size_caption", channels=channels),
        t.text("lesson.highpass.size_alt", height=height, width=width),
    )
    names = ("normed", "pooled", "mixer")
    view = (
        f'<div class="pf-steps pf-lesson-steps pf-three">{_step_figures(pictures, names, where, t)}</div>'
        f'<div class="pf-steps pf-lesson-steps">{edges}{size}</div>'
    )
    return view, more_html(reading.sentences(t), t=t)


def branches(anatomy: BlockAnatomy, t: Messages | None = None) -> tuple[str, str]:
    t = t or english()
    # Larger type than the Inside tab's copy: the lesson is read from the back of a room.
    plot = render.data_uri(plots.branch_ratio_plot(anatomy.branches, (anatomy.stage, anatomy.block), LESSON_PLOT_SCALE))
    answer = (*block_readings.branch_sizes(anatomy).sentences(t), *block_readings.mixer_factors(anatomy).sentences(t))
    view = (
        f'<figure class="pf-branches"><img alt="{html.escape(t.text("lesson.branches.alt"))}" src="{plot}">'
        f"<figcaption>{html.escape(t.text('lesson.branches.caption'))}</figcaption></figure>"
    )
    return view, more_html(answer, t=t)


def knockout(
    before: Analysis, after: Analysis, compare_html: str, model_note: str = "", t: Messages | None = None
) -> tuple[str, str]:
    """The knockout step; ``model_note`` is what a bundled model's measurement says about the same
    knockout on its held-out images."""
    t = t or english()
    answer = knockout_answer(before, after).sentences(t)
    return compare_html, more_html((*answer, model_note) if model_note else answer, t=t)


def field(fields: Sequence[ReceptiveField], t: Messages | None = None) -> tuple[str, str]:
    t = t or english()

    def figure(f: ReceptiveField) -> str:
        alt = html.escape(t.text("lesson.field.alt", stage=f.stage))
        if f.wider_than_crop:
            caption = t.text("lesson.field.caption_wider", stage=f.stage, size=f.theoretical_size, image=f.crop_size[0])
        else:
            caption = t.text("lesson.field.caption", stage=f.stage, size=f.theoretical_size, inside=f.mass_inside)
        return (
            f'<figure class="pf-map"><img alt="{alt}" '
            f'src="{render.data_uri(render.receptive_field_view(f, "sqrt"), "jpeg")}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )

    figures = "".join(figure(f) for f in fields)
    note = f"<p class='pf-note'>{html.escape(t.text('lesson.field.note'))}</p>"
    answer = more_html(readings.field_reach(fields).sentences(t), t=t)
    return f'<div class="pf-strip pf-two">{figures}</div>{note}', answer


LAB_TASKS = ("shapes", "pairs", "control")
# The paper's ImageNet-1k has a thousand classes: its chance row.
IMAGENET_CLASSES = 1000


def lab(
    shapes: Sequence[ArmSummary],
    pairs: Sequence[ArmSummary],
    control: Sequence[ArmSummary],
    control_steps: int,
    grid: LabGrid | None = None,
    t: Messages | None = None,
) -> tuple[str, str]:
    """The lab's references on both tasks and the pairs task's norm control, beside the paper, and
    what they say about training without a token mixer."""
    t = t or english()
    tasks = {"shapes": {s.arm: s for s in shapes}, "pairs": {s.arm: s for s in pairs}}
    tasks["control"] = {s.arm: s for s in control}
    rows = []
    for s in shapes:
        cells = "".join(
            f"<td class='pf-num'>{mean_spread(r.accuracy_mean, r.accuracy_std, r.seeds) if r else '–'}</td>"
            for r in (tasks[task].get(s.arm) for task in LAB_TASKS)
        )
        title = t.text(f"arm.title.{s.arm}") if f"arm.title.{s.arm}" in english() else s.title
        rows.append(f"<tr><td>{html.escape(title)}</td>{cells}<td class='pf-num'>{s.paper_top1:g} %</td></tr>")
    rows.append(
        chance_row(*(pct(chance(task)) for task in ("shapes", "pairs", "pairs")), pct(1 / IMAGENET_CLASSES), t=t)
    )
    # The network of the pooling and identity arms (the convolution arm has a few more weights).
    parameters = next(
        (s.parameters for s in shapes if s.arm == "pooling"), max((s.parameters for s in shapes), default=0)
    )
    config = LAB_CONFIGS["shapes"]
    steps = sorted({c.steps for c in LAB_CONFIGS.values()} | ({control_steps} if control_steps else set()))
    caption = t.text(
        "lesson.lab.caption",
        parameters=parameters / 1e6,
        budget=t.alternatives([f"{n:,}" for n in steps]),
        images=config.train_size,
        px=config.image_size,
        s12=get_variant("s12").params_m,
    )
    heads = "".join(
        f"<th>{html.escape(t.text(f'lesson.lab.head.{h}'))}</th>"
        for h in ("arm", "shapes", "pairs", "control", "paper")
    )
    table = (
        f'<table class="pf-lab-table"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{heads}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    answer = readings.lab_step(shapes, pairs, control, control_steps, grid, t)
    return table, more_html(answer, t=t) if answer else html.escape(t.text("lesson.lab.no_arms"))
