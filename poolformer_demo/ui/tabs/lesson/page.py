"""The "Lesson" tab: ten guided steps through MetaFormer on the image analysed last.

Each step's view is measured when the step is shown, by the core's own entry points (analyze,
block_anatomy, knockouts, receptive_field, the lab's reference run) through the app's runner;
view.py formats it. Steps that show the same measurement share it (steps 1-3 one analysis, steps
4-7 one block anatomy), and measurements are kept for the next student who opens the same step.
Without an analysis yet, the lesson runs on a bundled shapes example with the offline model.
"""

from __future__ import annotations

import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from .... import lesson
from ....i18n import Messages, messages
from ....lesson import STEP_MEASUREMENTS
from ....runner import LruStore, Runner
from ....variants import SHAPES_VARIANT_NAME, get_variant
from ....weights import ModelCache
from ...kit import block_views as inside_view
from ...kit.errors import failure_said
from ...kit.language import LanguageSection, Retelling
from ...kit.mixer_section import MixerSection
from ...kit.pictures import content_key
from ...kit.runs import MODEL
from ...kit.view import SCROLLABLE_JS, Session, failure_text
from . import handout, view

FALLBACK_IMAGE = "shapes_star.png"
# The browser's half of the list of steps (static/page.js): a step's button opens it.
STEPS_JS = "PoolFormer.lessonSteps(element, trigger)"
# Measurements kept (an analysis, a block anatomy, a knockout or two receptive fields each) for a
# class that walks the same lesson on the same image.
MEASUREMENTS_KEPT = 64
# The step under whose card the student can touch the token mixer.
MIXER_STEP = "highpass"
HANDOUT_DIR = Path(tempfile.gettempdir()) / "poolformer-handouts"


@dataclass(frozen=True)
class LessonParts:
    """What the rest of the page reads or sets: the step number (a link sets it), and the event that
    measures and shows the step it holds (opening the tab, or a link, runs it)."""

    number: gr.Number
    show_event: dict
    retelling: Retelling


class LessonTab:
    """The lesson's handlers, bound to the model cache the app was built with."""

    def __init__(self, cache: ModelCache, runner: Runner, examples_dir: Path):
        self.cache = cache
        self.runner = runner
        self.fallback = Path(examples_dir) / FALLBACK_IMAGE
        self.measurements = LruStore(MEASUREMENTS_KEPT)
        self.mixer = MixerSection(cache, runner, lambda session: self._subject(session)[:2])

    def _subject(self, session: Session | None) -> tuple[str, str, int | None, bool]:
        """(image path, variant, target, whether this is the bundled example)."""
        if session is not None and Path(session.image).is_file():
            return session.image, session.variant, session.target, False
        return str(self.fallback), SHAPES_VARIANT_NAME, None, True

    def measure(self, kind: str, image: str, name: str, target: int | None):
        """One of the lesson's measurements of `image` on model `name`, through the runner."""

        def compute(progress, should_stop):
            measured = lesson.measure(kind, image, name, target, cache=self.cache)
            # The block's pictures are encoded once and stored with it, for every student after.
            return (measured, inside_view.anatomy_pictures(measured)) if kind == "anatomy" else measured

        key = (kind, content_key(image), name, target)
        return self.runner.run(compute, MODEL, key=key, store=self.measurements)

    def measured(self, session: Session | None, number: int):
        """What step `number` (from 1) shows: its measurement on the session's image (the lab's
        reference for the last step), taken through the runner or read from its store."""
        image, variant, target, _ = self._subject(session)
        key = view.STEPS[number - 1].key
        if key not in STEP_MEASUREMENTS:
            return self.lab_reference
        return self.measure(STEP_MEASUREMENTS[key], image, get_variant(variant).name, target)

    @staticmethod
    def step_parts(number: int, measured, name: str, t: Messages) -> tuple[str, str]:
        """The view and answer of step `number` (from 1) in language `t`, from its measurement."""
        key = view.STEPS[number - 1].key
        if key == "lab":
            return view.lab(*measured, t=t)
        if key in ("predict", "stages", "gradcam"):
            return getattr(view, key)(measured, t)
        if key in ("block", "anatomy", "highpass", "branches"):
            anatomy, pictures = measured
            if key == "branches":
                return view.branches(anatomy, t)
            where = t.text("diagram.where", stage=anatomy.stage, block=anatomy.block, channel=pictures["channel"])
            if key == "block":
                return view.block(pictures, where, t)
            return getattr(view, key)(anatomy, pictures, where, t)
        if key == "knockout":
            facts = get_variant(name).bundled
            note = inside_view.mixer_off_note(name, facts, t) if facts is not None else ""
            return view.knockout(measured.before, measured.after, inside_view.knockout_html(measured, t), note, t)
        return view.field(measured, t)

    @functools.cached_property
    def lab_reference(self) -> tuple:
        """The lab step's data: the same for every student, read from the shipped files once."""
        lab = lesson.lab_reference()
        return lab.shapes, lab.pairs, lab.control, lab.control_steps, lab.grid

    @classmethod
    def said(cls, t: Messages, shown) -> tuple[str, str]:
        """(progress, card) of the step shown, in language `t`: `shown` is what `show_step` kept (the
        step, the image and model it measured, its measurement or the failure), so nothing is measured
        again."""
        if shown is None:
            return view.progress_html(1, t), view.card_html(1, "", view.pending(t), t=t)
        number, image_name, variant, fallback, measured, failure = shown
        source = view.source_html(image_name, variant, fallback, t)
        if failure is not None:
            parts = f'<p class="pf-note">⚠️ {failure_text(failure, t)}</p>', t.text("lesson.not_measured")
        else:
            parts = cls.step_parts(number, measured, get_variant(variant).name, t)
        return view.progress_html(number, t), view.card_html(number, *parts, source, t)

    def show_step(self, session: Session | None, number, lang: str = "en") -> tuple:
        """(progress, card, what is shown, step number) for step `number`; a failure is said in the card."""
        number = view.step_index(number)
        image, variant, _, fallback = self._subject(session)
        measured, failure = None, None
        try:
            measured = self.measured(session, number)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            failure = failure_said(exc)
        shown = (number, Path(image).name, variant, fallback, measured, failure)
        return (*self.said(messages(lang), shown), shown, number)

    def back(self, session: Session | None, number, lang: str = "en"):
        return self.show_step(session, view.step_index(number) - 1, lang)

    def forward(self, session: Session | None, number, lang: str = "en"):
        return self.show_step(session, view.step_index(number) + 1, lang)

    def pick(self, session: Session | None, number, lang: str, evt: gr.SelectData):
        """A step chosen in the list of steps (by mouse or keyboard: each step is a button)."""
        return self.show_step(session, evt.value, lang)

    @staticmethod
    def nav_buttons(number):
        """Back is off on the first step and Next on the last."""
        number = view.step_index(number)
        return gr.update(interactive=number > 1), gr.update(interactive=number < view.STEP_COUNT)

    def render(self, model_events: dict, session: gr.State, language: LanguageSection) -> LessonParts:
        """Lay the tab out inside the current Blocks and wire its events."""
        words, lang = language.words, language.menu
        words(gr.Markdown(elem_id="lesson-intro"), value="lesson.intro")
        progress = gr.HTML(view.progress_html(1), js_on_load=STEPS_JS, elem_id="lesson-progress")
        card = gr.HTML(view.card_html(1, "", view.pending()), js_on_load=SCROLLABLE_JS, elem_id="lesson-card")
        with gr.Row(elem_id="lesson-nav"):
            back = words(
                gr.Button(elem_id="lesson-back", scale=0, min_width=120, interactive=False), value="lesson.back"
            )
            forward = words(
                gr.Button(variant="primary", elem_id="lesson-next", scale=0, min_width=120), value="lesson.next"
            )
        # The mixer step lets the student touch the token mixer, below its card.
        with gr.Group(visible=False, elem_id="lesson-mixer") as mixer_group:
            mixer = self.mixer.render(model_events, session, "lesson", language)
        number = gr.Number(1, precision=0, visible=False, elem_id="lesson-step")
        shown = gr.State(None)
        events = {
            "inputs": [session, number, lang],
            "outputs": [progress, card, shown, number],
            "api_visibility": "private",
            "show_progress_on": [card],
            # A step chosen while another is still being measured is shown after it, never dropped
            # (Gradio's default drops a trigger while the event is pending).
            "trigger_mode": "always_last",
            **model_events,
        }
        back.click(self.back, **events)
        forward.click(self.forward, **events)
        progress.select(self.pick, **events)
        number.change(
            self.nav_buttons,
            inputs=number,
            outputs=[back, forward],
            queue=False,
            api_visibility="private",
            show_progress="hidden",
        )
        number.change(
            self.mixer_shown,
            inputs=number,
            outputs=mixer_group,
            queue=False,
            api_visibility="private",
            show_progress="hidden",
        ).then(
            self.mixer_on_its_step,
            inputs=[session, number, *mixer.event["inputs"][1:]],
            outputs=mixer.event["outputs"],
            api_visibility="private",
            **model_events,
        )
        download = words(gr.Button(elem_id="lesson-download", scale=0, min_width=200), value="lesson.download")
        # Shown once it holds the file: Gradio's empty file box carries an attribute its role forbids.
        handout_file = words(
            gr.File(elem_id="lesson-handout", interactive=False, visible=False), label="lesson.handout"
        )
        download.click(self.download, [session, lang], [handout_file], api_visibility="private", **model_events)
        retelling = Retelling.combined(Retelling(self.said, [shown], [progress, card]), mixer.retelling)
        return LessonParts(number=number, show_event={"fn": self.show_step, **events}, retelling=retelling)

    @staticmethod
    def mixer_shown(number) -> dict:
        return gr.update(visible=view.STEPS[view.step_index(number) - 1].key == MIXER_STEP)

    def mixer_on_its_step(self, session: Session | None, number, stage: int, lang: str = "en"):
        """The touchable mixer's centre token, measured only when its step is open."""
        if view.STEPS[view.step_index(number) - 1].key != MIXER_STEP:
            return gr.skip(), gr.skip(), gr.skip()
        return self.mixer.show_mixer(session, stage, lang)

    def download(self, session: Session | None, lang: str = "en") -> dict:
        """The lesson on the image and model it shows as one HTML file in the page's language, from the
        stored measurements."""
        image, variant, target, _ = self._subject(session)
        name = get_variant(variant).name
        measured = {kind: self.measure(kind, image, name, target) for kind in lesson.MEASUREMENTS}
        path = handout.handout_file(measured, image, name, target, HANDOUT_DIR, lang)
        return gr.update(value=str(path), visible=True)
