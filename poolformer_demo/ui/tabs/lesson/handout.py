"""The lesson as one file: the ten steps on one image and model, for a class to read after the
lecture, a classroom PC without the app, or paper.

The handout is made from a `LessonResult` (the core's measurements, the same the Lesson tab stores)
with the Lesson tab's own views (view.py), so a step reads in the file as it reads on the page. The
file is self-contained: pictures are data URIs, the diagram inline SVG, the page's stylesheet and
script inline, and its Content-Security-Policy lets nothing be fetched; the only links out are to
the paper and PoolFormer's code. Each answer sits in a closed disclosure, so a student predicts
first; printed, there is one step per page with every answer shown. Nothing here imports Gradio.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

from .... import i18n
from ....files import write_atomically
from ....lesson import STEPS, LessonResult, measure_lesson
from ....readings.knockout import mixer_off_note
from ...kit.block_views import anatomy_pictures, knockout_html
from ...kit.facts import model_rows
from ...kit.pictures import image_key
from . import view

HANDOUT_NAME = "lesson.html"
STATIC = Path(__file__).resolve().parent.parent.parent / "static"
PAPER_URL = "https://arxiv.org/abs/2111.11418"
CODE_URL = "https://github.com/sail-sg/poolformer"
# Nothing may be fetched: pictures are data URIs, style and script are inline.
CONTENT_POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def lesson_parts(
    result: LessonResult, pictures: dict | None = None, t: i18n.Messages | None = None
) -> list[tuple[str, str]]:
    """(view, answer) of every step, in order, from the Lesson tab's views, in language `t`.
    `pictures` are the block's pictures (`anatomy_pictures`) when they were made already."""
    t = t or i18n.english()
    anatomy, analysis, comparison = result.anatomy, result.analysis, result.knockout
    pictures = pictures or anatomy_pictures(anatomy)
    where = t.text("diagram.where", stage=anatomy.stage, block=anatomy.block, channel=pictures["channel"])
    facts = analysis.variant.bundled
    note = mixer_off_note(result.variant, facts, t) if facts is not None else ""
    lab = result.lab
    parts = {
        "predict": lambda: view.predict(analysis, t),
        "stages": lambda: view.stages(analysis, t),
        "gradcam": lambda: view.gradcam(analysis, t),
        "block": lambda: view.block(pictures, where, t),
        "anatomy": lambda: view.anatomy(anatomy, pictures, where, t),
        "highpass": lambda: view.highpass(anatomy, pictures, where, t),
        "branches": lambda: view.branches(anatomy, t),
        "knockout": lambda: view.knockout(comparison.before, comparison.after, knockout_html(comparison, t), note, t),
        "field": lambda: view.field(result.fields, t),
        "lab": lambda: view.lab(lab.shapes, lab.pairs, lab.control, lab.control_steps, lab.grid, t),
    }
    return [parts[step.key]() for step in STEPS]


def _step_section(number: int, parts: tuple[str, str], t: i18n.Messages) -> str:
    card = view.card_html(number, *parts, t=t)
    # Ten cards in one document: each title needs an id of its own.
    card = card.replace('"pf-lesson-title"', f'"pf-lesson-title-{number}"')
    return f'<section class="pf-handout-step" id="step-{number}">{card}</section>'


def _model_section(result: LessonResult, messages: i18n.Messages, model: str) -> str:
    variant = result.analysis.variant
    rows = [
        *model_rows(variant, messages),
        (messages.text("handout.weights"), messages.said(result.analysis.weights_source)),
    ]
    table = "".join(f"<tr><th scope='row'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in rows)
    training = f"<p>{html.escape(messages.said(variant.training))}</p>" if variant.training else ""
    return (
        f'<section class="pf-handout-model" aria-labelledby="pf-model-title">'
        f'<h2 id="pf-model-title">{html.escape(messages.text("handout.model", model=model))}</h2>'
        f"<table><tbody>{table}</tbody></table>{training}</section>"
    )


def handout_html(result: LessonResult, lang: str | None = None, parts: list[tuple[str, str]] | None = None) -> str:
    """The whole handout as one HTML document in language `lang` (the i18n catalogs' codes).
    `parts` are the steps' (view, answer) when the caller has them (`lesson_parts`)."""
    language = i18n.language(lang)
    messages = i18n.messages(language.code)
    parts = parts or lesson_parts(result, t=messages)
    model = f"PoolFormer-{result.variant.upper()}"
    title = messages.text("handout.title", image=result.image)
    contents = "".join(
        f'<li><a href="#step-{number}">{html.escape(messages.text(f"lesson.{step.key}.title"))}</a></li>'
        for number, step in enumerate(STEPS, 1)
    )
    steps = "".join(_step_section(number, step_parts, messages) for number, step_parts in enumerate(parts, start=1))
    style = (STATIC / "style.css").read_text(encoding="utf-8") + (STATIC / "handout.css").read_text(encoding="utf-8")
    script = (STATIC / "page.js").read_text(encoding="utf-8")
    # "</" could end the script element early; JSON allows it escaped.
    data = json.dumps(result.to_json(), ensure_ascii=False).replace("</", "<\\/")
    return (
        f'<!doctype html><html lang="{language.code}" dir="{language.direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_POLICY}">'
        f"<title>{html.escape(title)} · {model}</title><style>{style}</style></head>"
        '<body><div class="pf-handout"><header class="pf-handout-head">'
        f"<h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(messages.text('handout.source', image=result.image, model=model))}</p>"
        f"<p>{html.escape(messages.text('handout.print'))}</p>"
        f'<nav class="pf-handout-contents" aria-label="{html.escape(messages.text("handout.contents"))}">'
        f"<b>{html.escape(messages.text('handout.contents'))}</b><ol>{contents}</ol></nav>"
        f"{_model_section(result, messages, model)}</header>"
        f"<main>{steps}</main>"
        '<footer class="pf-handout-foot">'
        f"<p>{html.escape(messages.text('handout.made'))} {html.escape(messages.text('handout.data'))}</p>"
        f'<p><a href="{PAPER_URL}">{html.escape(messages.text("handout.paper"))}</a> · '
        f'<a href="{CODE_URL}">{html.escape(messages.text("handout.code"))}</a></p></footer></div>'
        f'<script type="application/json" id="pf-lesson-data">{data}</script>'
        f"<script>{script}</script></body></html>"
    )


def write_handout(
    result: LessonResult, folder: str | Path, lang: str | None = None, parts: list[tuple[str, str]] | None = None
) -> Path:
    """Write the handout as `folder`/lesson.html (atomically: a reader never sees half of it)."""
    return write_atomically(Path(folder) / HANDOUT_NAME, handout_html(result, lang, parts))


# Handouts a server keeps for download, newest first; older ones are removed as new ones are made.
HANDOUTS_KEPT = 32


def handout_file(
    measured: dict, image: str, variant: str, target: int | None, folder: str | Path, lang: str | None = None
) -> Path:
    """The Lesson tab's handout: made from the measurements it stored (by kind, the anatomy with its
    pictures, as the tab's `measure` returns them) and written atomically into `folder` under a name
    of its own, since several students may ask for the same lesson at once."""
    anatomy, pictures = measured["anatomy"]
    result = measure_lesson(image, variant, target, measured={**measured, "anatomy": anatomy})
    language = i18n.language(lang).code
    name = f"lesson-{Path(image).stem}-{result.variant}-{target}-{language}-{image_key(image)[:12]}.html"
    parts = lesson_parts(result, pictures, i18n.messages(language))
    path = write_atomically(Path(folder) / name, handout_html(result, language, parts))
    for old in sorted(Path(folder).glob("lesson-*.html"), key=lambda p: p.stat().st_mtime, reverse=True)[
        HANDOUTS_KEPT:
    ]:
        old.unlink(missing_ok=True)
    return path
