"""The Compare tab: one image through two or more variants, side by side.

The page's run and the `/compare` endpoint share one computation (`comparison.compare`, one model
at a time through the cache), run by the app's runner. The page follows it so it shows which model
is running, and its Stop button ends the comparison before the next model.
"""

from __future__ import annotations

import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from ....comparison import Comparison, compare
from ....i18n import Messages, messages
from ....runner import Runner
from ....variants import VARIANTS, get_variant
from ....weights import ModelCache
from ...kit.endpoints import expose, image_input, text_input
from ...kit.errors import failure_said, page_error, user_error
from ...kit.gradio_patches import hand_over_undecoded
from ...kit.language import LanguageSection, Retelling
from ...kit.runs import MODEL, follow_with_status
from ...kit.view import SCROLLABLE_JS, Session, failure_html, failure_text, message_html, stopped_html, variant_choices
from . import view


@dataclass(frozen=True)
class CompareParts:
    """The event that compares the ticked models on the Explore tab's image (a link runs it)."""

    compare_event: dict
    retelling: Retelling


class CompareTab:
    """The tab's handlers, bound to the model cache the app was built with."""

    def __init__(self, cache: ModelCache, runner: Runner):
        self.cache = cache
        self.runner = runner

    @staticmethod
    def messages(comparison: Comparison) -> dict[str, str]:
        """What the page says for each variant that could not run (details go to the log)."""
        return {failure.variant.name: failure_said(failure.error) for failure in comparison.failures}

    # -----------------------------------------------------------------------------------------
    # The named endpoint for programs
    # -----------------------------------------------------------------------------------------

    def compare_variants(self, image: str | None, variants: list[str] | None = None, target: str | None = None):
        """Run one image through two or more PoolFormer variants, one model at a time, and compare them.

        Args:
            image: the picture to classify.
            variants: two or more of s12, s24, s36, m36, m48, shapes, pairs.
            target: the class every variant explains (a name or an index); empty means each one's own top class.

        Returns JSON: per variant in the order given, its top-5, the class explained, the deepest stage's Grad-CAM
        (raw array and picture), the crop it saw and the seconds the analysis and the loading took; a variant that
        cannot run here has `error` instead, and the others still run.
        """
        try:

            def compute(progress, should_stop):
                return compare(image, variants or [], target=target or None, should_stop=should_stop, cache=self.cache)

            comparison = self.runner.run(compute, MODEL)
            return view.compare_api(comparison, self.messages(comparison))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            raise user_error(exc) from None

    # -----------------------------------------------------------------------------------------
    # Page handlers
    # -----------------------------------------------------------------------------------------

    @staticmethod
    def _image(session: Session | None, upload: str | None) -> str:
        if upload:
            return upload
        if session is None:
            raise page_error("compare.no_image")
        if not Path(session.image).is_file():
            raise page_error("compare.image_gone")
        return session.image

    def run_compare(self, session: Session | None, upload: str | None, variants: list[str], lang: str = "en"):
        """The chosen models side by side: (status, columns HTML, what is shown), with the running model said."""
        t = messages(lang)
        try:
            image = self._image(session, upload)
            chosen = {get_variant(v).name for v in variants or []}
            # In the menu's order, whichever order the boxes were ticked in.
            names = [name for name in VARIANTS if name in chosen]
            started = time.monotonic()

            def compute(progress, should_stop):
                return compare(image, names, progress=progress, should_stop=should_stop, cache=self.cache)

            starting = t.text("compare.starting")
            with closing(follow_with_status(self.runner, compute, MODEL, starting, t=t)) as events:
                for kind, value in events:
                    if kind == "status":
                        yield (gr.skip() if value is None else value), gr.skip(), gr.skip()
                    else:
                        shown = (value, self.messages(value), len(names), time.monotonic() - started)
                        yield *self.said(t, shown)[:2], shown
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            yield failure_html(failure_text(failure_said(exc), t), t), gr.skip(), gr.skip()

    @staticmethod
    def said(t: Messages, shown: tuple | None, *_) -> tuple:
        """(status, columns) of the comparison shown, in language `t`: from what the tab keeps, so a new
        language computes nothing."""
        if shown is None:
            return gr.skip(), view.compare_html(t=t)
        comparison, failures, asked, seconds = shown
        done = t.plural("compare.done", asked, done=len(comparison.runs), seconds=seconds)
        return message_html(done), view.compare_html(comparison, failures, t)

    def compare_ticked(self, session: Session | None, upload: str | None, variants: list[str], lang: str = "en"):
        """The comparison a link shows: the ticked models, where two or more are ticked."""
        if len(variants or []) < 2:
            yield gr.skip(), gr.skip(), gr.skip()
            return
        yield from self.run_compare(session, upload, variants, lang)

    @staticmethod
    def stopped(lang: str = "en") -> str:
        return stopped_html(messages(lang))

    # -----------------------------------------------------------------------------------------
    # Layout
    # -----------------------------------------------------------------------------------------

    def render(self, model_events: dict, session: gr.State, language: LanguageSection) -> CompareParts:
        """Lay the tab out inside the current Blocks and wire its events. `session` is the Explore
        tab's state, whose image is compared when none is uploaded here."""
        words, lang = language.words, language.menu
        words(gr.Markdown(elem_id="compare-intro"), value="compare.intro")
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=280):
                upload = gr.Image(
                    sources=["upload", "clipboard"],
                    type="filepath",
                    image_mode=None,
                    height=200,
                    elem_id="compare-image",
                )
                words(hand_over_undecoded(upload), label="compare.image")
                source = gr.Markdown(view.source_markdown(None), elem_id="compare-source")
                runnable = self.cache.runnable_variants()
                variants = words(
                    gr.CheckboxGroup(value=view.default_variants(runnable), elem_id="compare-variants"),
                    label="compare.models",
                    info=lambda t: view.variants_info(runnable, t),
                    choices=lambda t: variant_choices(runnable, t),
                )
                with gr.Row():
                    run = words(gr.Button(variant="primary", elem_id="compare-button"), value="compare.run")
                    stop = words(gr.Button(variant="stop", elem_id="compare-stop", min_width=80), value="page.stop")
            with gr.Column(scale=4):
                status = gr.HTML("", elem_id="compare-status")
                columns = gr.HTML(view.compare_html(), js_on_load=SCROLLABLE_JS, elem_id="comparison")
        shown = gr.State(None)

        # The endpoint for programs: inputs of its own, the result as JSON.
        api_variants = gr.CheckboxGroup(list(VARIANTS), value=["s12", "m36"], visible=False)
        expose(self.compare_variants, "compare", [image_input(), api_variants, text_input()], **model_events)

        format_only = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
        session.change(self.source, inputs=[session, lang], outputs=source, **format_only)
        compare_event = {
            "inputs": [session, upload, variants, lang],
            "outputs": [status, columns, shown],
            "show_progress_on": [status],
            "api_visibility": "private",
            **model_events,
        }
        event = run.click(self.run_compare, **compare_event)
        stop.click(self.stopped, inputs=lang, outputs=status, cancels=[event], **format_only)

        def retell(t: Messages, kept, current: Session | None):
            return (*self.said(t, kept), view.source_markdown(current, t))

        retelling = Retelling(retell, [shown, session], [status, columns, source])
        return CompareParts(compare_event={"fn": self.compare_ticked, **compare_event}, retelling=retelling)

    @staticmethod
    def source(session: Session | None, lang: str = "en") -> str:
        return view.source_markdown(session, messages(lang))
