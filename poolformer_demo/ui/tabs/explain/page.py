"""The Explain tab: the prediction last analysed on the Explore tab, explained several ways.

Four sections: the CAM family at every stage (from one analysis; the method is switched in the
browser), pixel attributions side by side (captum), their faithfulness against random maps, and
the cascading-randomisation sanity check. Every computation goes through the app's runner; the
long ones are followed (`kit.runs.follow_with_status`) so the page shows their progress and its
Stop button ends them.
The `/explain` and `/sanity` endpoints (api.py) give programs the same explanations of any image as JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from .... import render
from ....analysis import analyze
from ....attributions import DEFAULT_SETTINGS, METHOD_TITLES, parse_methods
from ....blocks import model_inputs
from ....cams import DEFAULT_CAM
from ....explanation import score_faithfulness
from ....faithfulness import FaithfulnessSettings
from ....images import crop_image, prepare_image
from ....runner import LruStore, Runner
from ....variants import DEFAULT_VARIANT, STAGE_COUNT, get_variant
from ....weights import ModelCache
from ...kit.errors import failure_message
from ...kit.pictures import image_key
from ...kit.runs import LONG, MODEL, follow_with_status
from ...kit.view import SCROLLABLE_JS, STOPPED, Session, counted, failure_html, message_html, stage_choices
from . import trust, view
from .api import ExplainEndpoints

# Explanations kept for the faithfulness button to reuse (each a few MB at 224 px).
EXPLANATIONS_KEPT = 16
# Answers computed once for every request that asks the same question (image, model, class,
# methods, stage): explanations, sanity checks and the CAM family's analyses.
SHARED_KEPT = 16
# The JSON answers of /explain, pictures encoded (each a few hundred KB).
API_ANSWERS_KEPT = 16
NO_METHOD = "Tick at least one method."


@dataclass(frozen=True)
class ExplainParts:
    """What the rest of the page reads or sets: the CAM method, and the event drawing the CAM family."""

    method: gr.Radio
    cams_event: dict


class ExplainTab(ExplainEndpoints):
    """The tab's handlers and layout (its endpoints come from ExplainEndpoints), bound to the model
    cache and the explanation settings the app was built with.

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

    # -----------------------------------------------------------------------------------------
    # The computations behind the page
    # -----------------------------------------------------------------------------------------

    def _crop(self, image, variant: str):
        loaded = self.cache.get(variant)
        return crop_image(model_inputs(loaded, prepare_image(image).image)[0], loaded.processor)

    # -----------------------------------------------------------------------------------------
    # Page handlers: a failure is said above its section and leaves the last pictures in place
    # -----------------------------------------------------------------------------------------

    @staticmethod
    def _session_inputs(session: Session | None) -> tuple[str, str, int]:
        if session is None:
            raise gr.Error(view.NO_SESSION.replace("**", ""), print_exception=False)
        if not Path(session.image).is_file():
            raise gr.Error(view.IMAGE_GONE, print_exception=False)
        return session.image, session.variant, session.target

    @staticmethod
    def _key(session: Session, stage: int) -> tuple:
        return (session.image_key or session.image, session.variant, session.target, int(stage))

    def show_cams(self, session: Session | None, shown: Session | None):
        """The CAM family for the Explore tab's prediction, unless it is already shown:
        (status, CAM family HTML, the session shown)."""
        if session is None or session == shown:
            return gr.skip(), gr.skip(), gr.skip()
        try:
            image, variant, target = self._session_inputs(session)

            def compute(progress, should_stop):
                return analyze(image, variant, target=target, cache=self.cache)

            key = ("cams", session.image_key or image_key(image), variant, target)
            analysis = self.runner.run(compute, MODEL, key=key, store=self.shared_answers)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            return failure_html(failure_message(exc)), gr.skip(), gr.skip()
        return "", view.cam_family_html(analysis, view.cam_family_pictures(analysis)), session

    def _follow(self, compute: Callable, started_text: str, key=None) -> Iterator[tuple[str, object]]:
        store = self.shared_answers if key is not None else None
        return closing(follow_with_status(self.runner, compute, LONG, started_text, key, store))

    @staticmethod
    def _status(value) -> object:
        return gr.skip() if value is None else value

    def run_attributions(self, session: Session | None, methods: list[str], stage: int):
        """The chosen methods side by side: (status, attributions HTML), with progress while they run."""
        try:
            image, variant, target = self._session_inputs(session)
            if not methods:
                raise gr.Error(NO_METHOD, print_exception=False)
            names = parse_methods(methods)

            def compute(progress, should_stop):
                return self._explain(
                    image, variant, target, names, int(stage), progress=progress, should_stop=should_stop
                )

            key = self._explain_key(session.image_key or image, variant, target, names, int(stage), False)
            with self._follow(compute, "Loading the model and analysing the image…", key) as events:
                for kind, value in events:
                    if kind == "status":
                        yield self._status(value), gr.skip()
                    else:
                        self.explanations.put(self._key(session, stage), value)
                        done = f"Done: {counted(len(value.attributions), 'map')} in {value.seconds:.1f} s."
                        yield message_html(done), view.attributions_html(value, view.attribution_pictures(value))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            yield failure_html(failure_message(exc)), gr.skip()

    def run_faithfulness(self, session: Session | None, methods: list[str], stage: int):
        """Deletion and insertion for the chosen methods and random maps: (status, faithfulness HTML,
        attributions HTML). The last attributions of this prediction are reused; if there are none
        for every chosen method, they are computed first and shown too."""
        try:
            image, variant, target = self._session_inputs(session)
            if not methods:
                raise gr.Error(NO_METHOD, print_exception=False)
            names = parse_methods(methods)
            key = self._key(session, stage)
            stored = self.explanations.get(key)
            reuse = stored is not None and set(names) <= set(stored.attributions)

            def compute(progress, should_stop):
                if reuse:
                    return score_faithfulness(
                        image, stored, names, self.faithfulness, progress, should_stop, cache=self.cache
                    )
                return self._explain(
                    image,
                    variant,
                    target,
                    names,
                    int(stage),
                    faithfulness=True,
                    progress=progress,
                    should_stop=should_stop,
                )

            first = "Measuring…" if reuse else "Running the attributions first, then deletion and insertion…"
            shared = (
                None
                if reuse
                else self._explain_key(session.image_key or image, variant, target, names, int(stage), True)
            )
            with self._follow(compute, first, shared) as events:
                for kind, value in events:
                    if kind == "status":
                        yield self._status(value), gr.skip(), gr.skip()
                        continue
                    attributions = gr.skip()
                    if reuse:
                        report = value
                    else:
                        self.explanations.put(key, value)
                        report = value.faithfulness
                        attributions = view.attributions_html(value, view.attribution_pictures(value))
                    plot = trust.faithfulness_plot_uri(report, METHOD_TITLES)
                    done = (
                        f"Done: {counted(len(report.methods), 'map')} and "
                        f"{counted(report.random.deletion.shape[0], 'random order')}."
                    )
                    yield message_html(done), trust.faithfulness_html(report, METHOD_TITLES, plot), attributions
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            yield failure_html(failure_message(exc)), gr.skip(), gr.skip()

    def run_sanity(self, session: Session | None, method: str, stage: int):
        """Cascading randomisation of a copy of the model: (status, sanity HTML)."""
        # scipy's rank correlation is loaded with the first check, not with the app.
        from ....sanity import cascading_randomization

        try:
            image, variant, target = self._session_inputs(session)
            (method,) = parse_methods([method or DEFAULT_CAM])

            def compute(progress, should_stop):
                return cascading_randomization(
                    image,
                    variant,
                    method=method,
                    stage=int(stage),
                    target=target,
                    settings=self.settings,
                    progress=progress,
                    should_stop=should_stop,
                    cache=self.cache,
                )

            key = self._sanity_key(session.image_key or image, variant, target, method, int(stage))
            with self._follow(compute, "Explaining the trained model…", key) as events:
                for kind, value in events:
                    if kind == "status":
                        yield self._status(value), gr.skip()
                    else:
                        crop = render.data_uri(self._crop(image, variant), "jpeg")
                        done = f"Done: {len(value.steps)} steps in {value.seconds:.1f} s."
                        yield message_html(done), trust.sanity_html(value, trust.sanity_pictures(value), crop)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            yield failure_html(failure_message(exc)), gr.skip()

    @staticmethod
    def stopped() -> str:
        return message_html(STOPPED)

    def first_variant(self):
        """The model the page opens on: S12 where it can run, else the first model that can."""
        runnable = self.cache.runnable_variants()
        return get_variant(DEFAULT_VARIANT if DEFAULT_VARIANT in runnable or not runnable else runnable[0])

    def settings_for(self, session: Session | None):
        """The settings table with the expected times on the analysed model."""
        return gr.skip() if session is None else view.settings_markdown(self.settings, get_variant(session.variant))

    def sanity_expected(self, method: str, session: Session | None = None) -> str:
        """What the chosen method's sanity check costs on the analysed model, said before it runs."""
        try:
            (method,) = parse_methods([method or DEFAULT_CAM])
            variant = get_variant(session.variant) if session is not None else get_variant(DEFAULT_VARIANT)
        except Exception:  # noqa: BLE001 - an unknown method is reported when the check runs
            return gr.skip()
        return f"Expected: {trust.sanity_expected_text(method, self.settings, variant)}."

    # -----------------------------------------------------------------------------------------
    # Layout
    # -----------------------------------------------------------------------------------------

    def render(
        self, model_events: dict, session: gr.State, tab: gr.Tab | None = None, long_events: dict | None = None
    ) -> ExplainParts:
        """Lay the tab out inside the current Blocks and wire its events.

        `session` is the Explore tab's state (image, model, class); `tab` is this tab, whose opening
        draws the CAM family of that prediction (without it, every new analysis does). The long runs
        (attributions, faithfulness, sanity and their endpoints) queue in `long_events`' lane, so a
        short answer never waits behind them (default: `model_events`).
        """
        long_events = long_events if long_events is not None else model_events
        gr.Markdown(view.INTRO, elem_id="explain-intro")
        with gr.Row(equal_height=False):
            source = gr.Markdown(view.source_markdown(None), elem_id="explain-source")
            opacity = gr.Slider(
                0.0,
                1.0,
                value=view.DEFAULT_OPACITY,
                step=0.05,
                label="Map opacity",
                elem_id="explain-opacity",
                scale=0,
                min_width=240,
            )

        with gr.Accordion("1 · The CAM family at every stage", open=True, elem_id="cams-section"):
            with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
                cam_method = gr.Radio(
                    view.cam_choices(), value=DEFAULT_CAM, label="CAM method", elem_id="cam-method", scale=3
                )
                cam_status = gr.HTML("", elem_id="cam-status", scale=2)
            cams = gr.HTML(view.cam_family_html(), elem_id="cam-family")
        shown = gr.State(None)

        with gr.Accordion("2 · Attributions side by side", open=True, elem_id="attributions-section"):
            with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
                methods = gr.CheckboxGroup(
                    view.method_choices(),
                    value=list(view.DEFAULT_ATTRIBUTION_METHODS),
                    label="Methods",
                    elem_id="attribution-methods",
                    scale=4,
                )
                stage = gr.Radio(
                    stage_choices(), value=STAGE_COUNT, label="CAMs at", elem_id="attribution-stage", scale=2
                )
                run = gr.Button("Run the attributions", variant="primary", elem_id="attributions-button", scale=1)
                stop = gr.Button("Stop", variant="stop", elem_id="attributions-stop", scale=0, min_width=80)
            settings_table = gr.Markdown(
                view.settings_markdown(self.settings, self.first_variant()), elem_id="attribution-settings"
            )
            attr_status = gr.HTML("", elem_id="attributions-status")
            attributions = gr.HTML(view.attributions_html(), elem_id="attributions")

        with gr.Accordion(
            "3 · Faithfulness: do the maps point at what the model uses?", open=True, elem_id="faithfulness-section"
        ):
            with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
                gr.Markdown(trust.faithfulness_intro(self.faithfulness), elem_id="faithfulness-intro")
                measure = gr.Button(
                    "Measure faithfulness", variant="primary", elem_id="faithfulness-button", scale=0, min_width=200
                )
                faith_stop = gr.Button("Stop", variant="stop", elem_id="faithfulness-stop", scale=0, min_width=80)
            faith_status = gr.HTML("", elem_id="faithfulness-status")
            faithfulness = gr.HTML(trust.faithfulness_html(), js_on_load=SCROLLABLE_JS, elem_id="faithfulness")

        with gr.Accordion(
            "4 · The sanity check: destroy the model, watch the map", open=True, elem_id="sanity-section"
        ):
            gr.Markdown(trust.SANITY_TEXT, elem_id="sanity-text")
            with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
                sanity_method = gr.Dropdown(
                    view.method_choices(), value=DEFAULT_CAM, label="Method", elem_id="sanity-method", scale=2
                )
                sanity_stage = gr.Radio(
                    stage_choices(), value=STAGE_COUNT, label="CAMs at", elem_id="sanity-stage", scale=2
                )
                sanity_run = gr.Button("Randomise the model", variant="primary", elem_id="sanity-button", scale=1)
                sanity_stop = gr.Button("Stop", variant="stop", elem_id="sanity-stop", scale=0, min_width=80)
            expected = gr.Markdown(self.sanity_expected(DEFAULT_CAM), elem_id="sanity-expected")
            sanity_status = gr.HTML("", elem_id="sanity-status")
            sanity = gr.HTML(trust.sanity_html(), elem_id="sanity")

        self.expose_endpoints(long_events)

        private = {"api_visibility": "private", **model_events}
        long = {"api_visibility": "private", **long_events}
        format_only = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
        session.change(view.source_markdown, inputs=session, outputs=source, **format_only)
        cams_event = {
            "fn": self.show_cams,
            "inputs": [session, shown],
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
            inputs=[session, methods, stage],
            outputs=[attr_status, attributions],
            show_progress_on=[attr_status],
            **long,
        )
        stop.click(self.stopped, outputs=attr_status, cancels=[attributions_event], **format_only)
        faithfulness_event = measure.click(
            self.run_faithfulness,
            inputs=[session, methods, stage],
            outputs=[faith_status, faithfulness, attributions],
            show_progress_on=[faith_status],
            **long,
        )
        faith_stop.click(self.stopped, outputs=faith_status, cancels=[faithfulness_event], **format_only)
        sanity_event = sanity_run.click(
            self.run_sanity,
            inputs=[session, sanity_method, sanity_stage],
            outputs=[sanity_status, sanity],
            show_progress_on=[sanity_status],
            **long,
        )
        sanity_stop.click(self.stopped, outputs=sanity_status, cancels=[sanity_event], **format_only)
        session.change(self.settings_for, inputs=session, outputs=settings_table, **format_only)
        for changed in (sanity_method, session):
            changed.change(self.sanity_expected, inputs=[sanity_method, session], outputs=expected, **format_only)
        return ExplainParts(method=cam_method, cams_event=cams_event)
