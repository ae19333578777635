"""The Explain tab: the prediction last analysed on the Explore tab, explained several ways.

Four sections: the CAM family at every stage (from one analysis; the method is switched in the
browser), pixel attributions side by side (captum), their faithfulness against random maps, and
the cascading-randomisation sanity check. Every computation goes through the app's runner; the
long ones (runs.py) are followed so the page shows their progress and its Stop button ends them.
Each section keeps what it shows, so a new language says it again without computing anything.
The `/explain` and `/sanity` endpoints (api.py) give programs the same explanations of any image as JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import gradio as gr

from ....analysis import analyze
from ....attributions import DEFAULT_SETTINGS, parse_methods
from ....cams import DEFAULT_CAM
from ....faithfulness import FaithfulnessSettings
from ....i18n import Messages, messages
from ....runner import LruStore, Runner
from ....variants import DEFAULT_VARIANT, STAGE_COUNT, get_variant
from ....weights import ModelCache
from ...kit.errors import failure_said
from ...kit.language import LanguageSection, Retelling
from ...kit.pictures import image_key
from ...kit.runs import MODEL
from ...kit.view import SCROLLABLE_JS, Session, failure_html, failure_text, stage_choices
from . import trust, view
from .api import ExplainEndpoints
from .runs import ExplainRuns, attributions_said, faithfulness_said, sanity_said

# Explanations kept for the faithfulness button to reuse (each a few MB at 224 px).
EXPLANATIONS_KEPT = 16
# Answers computed once for every request that asks the same question (image, model, class,
# methods, stage): explanations, sanity checks and the CAM family's analyses.
SHARED_KEPT = 16
# The JSON answers of /explain, pictures encoded (each a few hundred KB).
API_ANSWERS_KEPT = 16


@dataclass(frozen=True)
class ExplainParts:
    """What the rest of the page reads or sets: the CAM method, the event drawing the CAM family,
    and how the tab says again what it shows in a new language."""

    method: gr.Radio
    cams_event: dict
    retelling: Retelling


class ExplainTab(ExplainEndpoints, ExplainRuns):
    """The tab's handlers and layout (its endpoints come from ExplainEndpoints, its long runs from
    ExplainRuns), bound to the model cache and the explanation settings the app was built with.

    `settings` replaces the pixel methods' defaults (per method, as for `explain`), `faithfulness`
    the deletion/insertion settings; tests pass small ones.
    """

    def __init__(
        self,
        cache: ModelCache,
        runner: Runner,
        settings: Mapping[str, object] | None = None,
        faithfulness: FaithfulnessSettings | None = None,
    ):
        self.cache = cache
        self.runner = runner
        self.settings = {**DEFAULT_SETTINGS, **dict(settings or {})}
        self.faithfulness = faithfulness or FaithfulnessSettings()
        self.explanations = LruStore(EXPLANATIONS_KEPT)
        self.shared_answers = LruStore(SHARED_KEPT)
        self.api_answers = LruStore(API_ANSWERS_KEPT)

    def show_cams(self, session: Session | None, shown, lang: str = "en"):
        """The CAM family for the Explore tab's prediction, unless it is already shown:
        (status, CAM family HTML, what is shown: the session, its analysis and pictures)."""
        if session is None or (shown is not None and session == shown[0]):
            return gr.skip(), gr.skip(), gr.skip()
        t = messages(lang)
        try:
            image, variant, target = self._session_inputs(session)

            def compute(progress, should_stop):
                return analyze(image, variant, target=target, cache=self.cache)

            key = ("cams", session.image_key or image_key(image), variant, target)
            analysis = self.runner.run(compute, MODEL, key=key, store=self.shared_answers)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            return failure_html(failure_text(failure_said(exc), t), t), gr.skip(), gr.skip()
        pictures = view.cam_family_pictures(analysis)
        return "", view.cam_family_html(analysis, pictures, t), (session, analysis, pictures)

    def first_variant(self):
        """The model the page opens on: S12 where it can run, else the first model that can."""
        runnable = self.cache.runnable_variants()
        return get_variant(DEFAULT_VARIANT if DEFAULT_VARIANT in runnable or not runnable else runnable[0])

    def settings_for(self, session: Session | None, lang: str = "en"):
        """The settings table with the expected times on the analysed model."""
        variant = get_variant(session.variant) if session is not None else self.first_variant()
        return view.settings_markdown(self.settings, variant, messages(lang))

    def sanity_expected(self, method: str, session: Session | None = None, lang: str = "en") -> str:
        """What the chosen method's sanity check costs on the analysed model, said before it runs."""
        t = messages(lang)
        try:
            (method,) = parse_methods([method or DEFAULT_CAM])
            variant = get_variant(session.variant) if session is not None else get_variant(DEFAULT_VARIANT)
        except Exception:  # noqa: BLE001 - an unknown method is reported when the check runs
            return gr.skip()
        return t.text(
            "explain.sanity.expected_line", expected=trust.sanity_expected_text(method, self.settings, variant, t)
        )

    def retell(self, t: Messages, session, shown, attributions, faithfulness, sanity, method):
        """Every section in language `t`, from what each keeps: nothing is computed again."""
        cams = view.cam_family_html(*(shown[1:] if shown is not None else ()), t=t)
        return (
            view.source_markdown(session, t),
            cams,
            *attributions_said(t, attributions),
            *faithfulness_said(t, faithfulness),
            *sanity_said(t, sanity),
            self.settings_for(session, t.code),
            self.sanity_expected(method, session, t.code),
        )

    # -----------------------------------------------------------------------------------------
    # Layout
    # -----------------------------------------------------------------------------------------

    def render(
        self,
        model_events: dict,
        session: gr.State,
        language: LanguageSection,
        tab: gr.Tab | None = None,
        long_events: dict | None = None,
    ) -> ExplainParts:
        """Lay the tab out inside the current Blocks and wire its events.

        `session` is the Explore tab's state (image, model, class); `tab` is this tab, whose opening
        draws the CAM family of that prediction (without it, every new analysis does). The long runs
        (attributions, faithfulness, sanity and their endpoints) queue in `long_events`' lane, so a
        short answer never waits behind them (default: `model_events`).
        """
        words, lang = language.words, language.menu
        long_events = long_events if long_events is not None else model_events
        words(gr.Markdown(elem_id="explain-intro"), value="explain.intro")
        with gr.Row(equal_height=False):
            source = gr.Markdown(view.source_markdown(None), elem_id="explain-source")
            opacity = words(
                gr.Slider(
                    0.0, 1.0, value=view.DEFAULT_OPACITY, step=0.05, elem_id="explain-opacity", scale=0, min_width=240
                ),
                label="explain.opacity",
            )

        with words(gr.Accordion(open=True, elem_id="cams-section"), label="explain.section.cams"):
            with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
                cam_method = words(
                    gr.Radio(value=DEFAULT_CAM, elem_id="cam-method", scale=3),
                    label="explain.cam_method",
                    choices=view.cam_choices,
                )
                cam_status = gr.HTML("", elem_id="cam-status", scale=2)
            cams = gr.HTML(view.cam_family_html(), elem_id="cam-family")
        shown = gr.State(None)

        with words(gr.Accordion(open=True, elem_id="attributions-section"), label="explain.section.attributions"):
            with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
                methods = words(
                    gr.CheckboxGroup(
                        value=list(view.DEFAULT_ATTRIBUTION_METHODS), elem_id="attribution-methods", scale=4
                    ),
                    label="explain.methods",
                    choices=view.method_choices,
                )
                stage = words(
                    gr.Radio(value=STAGE_COUNT, elem_id="attribution-stage", scale=2),
                    label="explain.cams_at",
                    choices=stage_choices,
                )
                run = words(gr.Button(variant="primary", elem_id="attributions-button", scale=1), value="explain.run")
                stop = words(
                    gr.Button(variant="stop", elem_id="attributions-stop", scale=0, min_width=80), value="page.stop"
                )
            settings_table = gr.Markdown(
                view.settings_markdown(self.settings, self.first_variant()), elem_id="attribution-settings"
            )
            attr_status = gr.HTML("", elem_id="attributions-status")
            attributions = gr.HTML(view.attributions_html(), elem_id="attributions")
        kept_attributions = gr.State(None)

        with words(gr.Accordion(open=True, elem_id="faithfulness-section"), label="explain.section.faithfulness"):
            with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
                words(
                    gr.Markdown(elem_id="faithfulness-intro"),
                    value=lambda t: trust.faithfulness_intro(self.faithfulness, t),
                )
                measure = words(
                    gr.Button(variant="primary", elem_id="faithfulness-button", scale=0, min_width=200),
                    value="explain.measure",
                )
                faith_stop = words(
                    gr.Button(variant="stop", elem_id="faithfulness-stop", scale=0, min_width=80), value="page.stop"
                )
            faith_status = gr.HTML("", elem_id="faithfulness-status")
            faithfulness = gr.HTML(trust.faithfulness_html(), js_on_load=SCROLLABLE_JS, elem_id="faithfulness")
        kept_faithfulness = gr.State(None)

        with words(gr.Accordion(open=True, elem_id="sanity-section"), label="explain.section.sanity"):
            words(gr.Markdown(elem_id="sanity-text"), value="explain.sanity.text")
            with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
                sanity_method = words(
                    gr.Dropdown(view.method_choices(), value=DEFAULT_CAM, elem_id="sanity-method", scale=2),
                    label="explain.method",
                    choices=view.method_choices,
                )
                sanity_stage = words(
                    gr.Radio(value=STAGE_COUNT, elem_id="sanity-stage", scale=2),
                    label="explain.cams_at",
                    choices=stage_choices,
                )
                sanity_run = words(
                    gr.Button(variant="primary", elem_id="sanity-button", scale=1), value="explain.randomise"
                )
                sanity_stop = words(
                    gr.Button(variant="stop", elem_id="sanity-stop", scale=0, min_width=80), value="page.stop"
                )
            expected = gr.Markdown(self.sanity_expected(DEFAULT_CAM), elem_id="sanity-expected")
            sanity_status = gr.HTML("", elem_id="sanity-status")
            sanity = gr.HTML(trust.sanity_html(), elem_id="sanity")
        kept_sanity = gr.State(None)

        self.expose_endpoints(long_events)

        private = {"api_visibility": "private", **model_events}
        long = {"api_visibility": "private", **long_events}
        format_only = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
        session.change(self.source, inputs=[session, lang], outputs=source, **format_only)
        cams_event = {
            "fn": self.show_cams,
            "inputs": [session, shown, lang],
            "outputs": [cam_status, cams, shown],
            "show_progress_on": [cams],
            **private,
        }
        if tab is not None:
            tab.select(**cams_event)
        else:
            session.change(**cams_event)
        # Looks only: the browser does these, the server is not asked.
        cam_method.change(None, inputs=cam_method, js=view.CAM_JS, api_visibility="private")
        opacity.input(None, inputs=opacity, js=view.OPACITY_JS, api_visibility="private")

        attributions_event = run.click(
            self.run_attributions,
            inputs=[session, methods, stage, lang],
            outputs=[attr_status, attributions, kept_attributions],
            show_progress_on=[attr_status],
            **long,
        )
        stop.click(self.stopped, inputs=lang, outputs=attr_status, cancels=[attributions_event], **format_only)
        faithfulness_event = measure.click(
            self.run_faithfulness,
            inputs=[session, methods, stage, lang],
            outputs=[faith_status, faithfulness, attributions, kept_faithfulness, kept_attributions],
            show_progress_on=[faith_status],
            **long,
        )
        faith_stop.click(self.stopped, inputs=lang, outputs=faith_status, cancels=[faithfulness_event], **format_only)
        sanity_event = sanity_run.click(
            self.run_sanity,
            inputs=[session, sanity_method, sanity_stage, lang],
            outputs=[sanity_status, sanity, kept_sanity],
            show_progress_on=[sanity_status],
            **long,
        )
        sanity_stop.click(self.stopped, inputs=lang, outputs=sanity_status, cancels=[sanity_event], **format_only)
        session.change(self.settings_for, inputs=[session, lang], outputs=settings_table, **format_only)
        for changed in (sanity_method, session):
            changed.change(self.sanity_expected, inputs=[sanity_method, session, lang], outputs=expected, **format_only)
        retelling = Retelling(
            self.retell,
            [session, shown, kept_attributions, kept_faithfulness, kept_sanity, sanity_method],
            [
                source,
                cams,
                attr_status,
                attributions,
                faith_status,
                faithfulness,
                sanity_status,
                sanity,
                settings_table,
                expected,
            ],
        )
        return ExplainParts(method=cam_method, cams_event=cams_event, retelling=retelling)

    @staticmethod
    def source(session: Session | None, lang: str = "en") -> str:
        return view.source_markdown(session, messages(lang))
