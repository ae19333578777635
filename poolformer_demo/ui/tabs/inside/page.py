"""The "Inside the block" tab: on the image and model last analysed on the Explore tab, one block's
steps, the token mixer one token at a time, knockouts of the token mixer or the channel MLP,
receptive fields, and the ablation lab.

Each section's page event and its named endpoint for programs (api.py: `/anatomy`, `/knockout`,
`/receptive_field`) share one computation; the page gets its pictures inlined in HTML, programs
get JSON with the pictures as data URIs, so no file is written that several requests could share.
Each section keeps what it shows, so a new language says it again without computing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import gradio as gr

from ....i18n import Messages, messages
from ....runner import LruStore, Runner
from ....variants import DEFAULT_VARIANT
from ....weights import ModelCache
from ...kit.diagram_view import diagram_html
from ...kit.endpoints import expose, image_input, number_input, text_input
from ...kit.errors import failure_message, page_error
from ...kit.language import LanguageSection, Retelling
from ...kit.mixer_section import MixerSection
from ...kit.view import SCROLLABLE_JS, Session, stage_choices
from . import field_view as field_present
from . import view
from .api import InsideEndpoints
from .lab_page import LabSection

# A point in the middle of the picture: where the receptive field starts before any click.
CENTRE = (0.5, 0.5)
# Answers kept for a class that asks the same: block anatomies (with their pictures), knockouts, fields.
ANSWERS_KEPT = 32


@dataclass(frozen=True)
class InsideParts:
    """What the rest of the page reads or sets: the block and the knockouts a link sets, the events
    that show the block, the knockout and the receptive field (a link runs them), and how the tab
    says again what it shows in a new language."""

    stage: gr.Radio
    block: gr.Dropdown
    mixer_off: gr.CheckboxGroup
    mlp_off: gr.CheckboxGroup
    anatomy_event: dict
    knockout_event: dict
    field_event: dict
    retelling: Retelling


class InsideTab(InsideEndpoints):
    """The tab's handlers (its endpoints and computations come from InsideEndpoints), bound to the
    model cache the app was built with."""

    def __init__(self, cache: ModelCache, runner: Runner):
        self.cache = cache
        self.runner = runner
        self.answers = LruStore(ANSWERS_KEPT)
        self.mixer = MixerSection(cache, runner, self._session_image)
        self.lab = LabSection(runner)

    # -----------------------------------------------------------------------------------------
    # Page handlers: a failure is said above its section and leaves the last pictures in place
    # -----------------------------------------------------------------------------------------

    @staticmethod
    def _session_image(session: Session | None) -> tuple[str, str]:
        if session is None:
            raise page_error("inside.no_session")
        if not Path(session.image).is_file():
            raise page_error("inside.image_gone")
        return session.image, session.variant

    @staticmethod
    def _failed(exc: BaseException, outputs: int, lang: str) -> tuple:
        t = messages(lang)
        return (view.section_failure(failure_message(exc, t), t), *[gr.skip()] * (outputs - 1))

    @staticmethod
    def anatomy_said(t: Messages, kept) -> str:
        """The diagram and the block's steps of what is shown (`kept`: the anatomy and its pictures)."""
        if kept is None:
            return diagram_html(t=t) + view.anatomy_html(t=t)
        anatomy, pictures = kept
        where = t.text("diagram.where", stage=anatomy.stage, block=anatomy.block, channel=pictures["channel"])
        return diagram_html(pictures, where, t=t) + view.anatomy_html(anatomy, pictures, t)

    def show_anatomy(self, session: Session | None, stage: int, block: int, lang: str = "en"):
        """The block's steps and the branch plot: (status, anatomy HTML, what is shown)."""
        try:
            image, variant = self._session_image(session)
            kept = self._anatomy(image, variant, stage, block)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            return self._failed(exc, 3, lang)
        return "", self.anatomy_said(messages(lang), kept), kept

    def show_knockout(self, session: Session | None, mixer_stages: list[str], mlp_stages: list[str], lang="en"):
        """Before and after the knockout, for the class explained on the Explore tab: (status, knockout
        HTML, what is shown)."""
        try:
            image, variant = self._session_image(session)
            comparison = self._knockout(image, variant, mixer_stages, mlp_stages, session.target)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            return self._failed(exc, 3, lang)
        return "", view.knockout_html(comparison, messages(lang)), comparison

    def show_field(self, session: Session | None, stage: int, point: tuple[float, float] | None, lang: str = "en"):
        """The receptive field at `point` (fractions down and across the crop; default its centre):
        (status, field HTML, the point, the field shown)."""
        point = tuple(point) if point else CENTRE
        try:
            image, variant = self._session_image(session)
            field = self._field(image, variant, stage, at=point)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            return self._failed(exc, 4, lang)
        return "", field_present.field_html(field, messages(lang)), list(point), field

    def show_field_at(self, session: Session | None, stage: int, lang: str, evt: gr.SelectData):
        """A click on the picture: the field of the cell under it, at the same stage."""
        return self.show_field(session, stage, evt.index, lang)

    @staticmethod
    def knockout_note(session: Session | None, mixer_stages: list[str], mlp_stages: list[str], lang: str = "en"):
        """The bundled model's measured note on the token mixer, unless only the channel MLP is ticked."""
        return "" if mlp_stages and not mixer_stages else view.knockout_note(session, messages(lang))

    @staticmethod
    def follow(session: Session | None, stage: int, block: int, lang: str = "en"):
        """A new analysis on the Explore tab: say what the tab works on; the block menu follows the model."""
        t = messages(lang)
        return view.source_markdown(session, t), InsideTab.blocks_for(session, stage, block, lang)

    @staticmethod
    def blocks_for(session: Session | None, stage: int, block: int, lang: str = "en"):
        """As many blocks in the menu as the model has in the chosen stage; the choice kept where it can be."""
        variant = session.variant if session is not None else DEFAULT_VARIANT
        try:
            choices = view.block_choices(variant, stage, messages(lang))
        except Exception:  # noqa: BLE001 - an unknown model is reported when a section runs
            return gr.skip()
        chosen = block if isinstance(block, int) and 1 <= block <= len(choices) else 1
        return gr.update(choices=choices, value=min(chosen, len(choices)))

    def retell(self, t: Messages, session, stage, block, mixer_off, mlp_off, anatomy, comparison, field):
        """Every section in language `t`, from what each keeps: nothing is computed again."""
        return (
            view.source_markdown(session, t),
            self.blocks_for(session, stage, block, t.code),
            self.anatomy_said(t, anatomy),
            view.knockout_html(comparison, t),
            self.knockout_note(session, mixer_off, mlp_off, t.code),
            field_present.field_html(field, t),
            view.paper_table_markdown(t),
        )

    # -----------------------------------------------------------------------------------------
    # Layout
    # -----------------------------------------------------------------------------------------

    def render(self, model_events: dict, session: gr.State, language: LanguageSection) -> InsideParts:
        """Lay the tab out inside the current Blocks and wire its events.

        `session` is the Explore tab's state: the image, model and class of its last analysis.
        """
        words, lang = language.words, language.menu
        words(gr.Markdown(elem_id="inside-intro"), value="inside.intro")
        source = gr.Markdown(view.source_markdown(None), elem_id="inside-source")

        with words(gr.Accordion(open=True, elem_id="anatomy-section"), label="inside.section.anatomy"):
            with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
                stage = words(
                    gr.Radio(value=1, elem_id="anatomy-stage", scale=3), label="inside.stage", choices=stage_choices
                )
                block = words(
                    gr.Dropdown(view.block_choices(DEFAULT_VARIANT, 1), value=1, elem_id="anatomy-block", scale=1),
                    label="inside.block",
                )
                show = words(gr.Button(variant="primary", elem_id="anatomy-button", scale=1), value="inside.show_block")
            anatomy_status = gr.Markdown("", elem_id="anatomy-status")
            anatomy_view = gr.HTML(diagram_html() + view.anatomy_html(), js_on_load=None, elem_id="anatomy-view")

        with words(gr.Accordion(open=True, elem_id="mixer-section"), label="inside.section.mixer"):
            mixer = self.mixer.render(model_events, session, "inside", language)

        knockouts = words(gr.Accordion(open=True, elem_id="knockout-section"), label="inside.section.knockout")
        with knockouts, gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=300):
                stages = {"choices": view.knockout_stage_choices}
                mixer_off = words(
                    gr.CheckboxGroup(value=[], elem_id="knockout-mixer"), label="inside.mixer_off", **stages
                )
                mlp_off = words(gr.CheckboxGroup(value=[], elem_id="knockout-mlp"), label="inside.mlp_off", **stages)
                with gr.Row(elem_id="knockout-presets"):
                    presets = [
                        (words(gr.Button(size="sm", elem_id=f"knockout-preset-{i}"), value=key), mixer_on, mlp_on)
                        for i, (key, mixer_on, mlp_on) in enumerate(view.KNOCKOUT_PRESETS)
                    ]
                note = gr.Markdown("", elem_id="knockout-note")
                run = words(gr.Button(variant="primary", elem_id="knockout-button"), value="inside.run_knockout")
                words(gr.Markdown(elem_id="knockout-why"), value="inside.knockout_why")
                paper = gr.Markdown(view.paper_table_markdown(), elem_id="paper-ablations")
            with gr.Column(scale=3, min_width=340):
                knockout_status = gr.Markdown("", elem_id="knockout-status")
                knockout_view = gr.HTML(view.knockout_html(), js_on_load=SCROLLABLE_JS, elem_id="knockout-view")

        fields = words(gr.Accordion(open=True, elem_id="field-section"), label="inside.section.field")
        with fields, gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=300):
                with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
                    field_stage = words(
                        gr.Radio(value=1, elem_id="field-stage"), label="inside.stage", choices=stage_choices
                    )
                    field_button = words(
                        gr.Button(variant="primary", elem_id="field-button"), value="inside.show_field"
                    )
                words(gr.Markdown(elem_id="field-text"), value="field.text")
            with gr.Column(scale=3, min_width=340):
                field_status = gr.Markdown("", elem_id="field-status")
                field_view = gr.HTML(
                    field_present.field_html(), js_on_load=field_present.FIELD_JS, elem_id="field-view"
                )
        # Where on the crop the last field was asked for, so a new stage looks at the same place.
        field_point = gr.State(None)
        kept_anatomy, kept_knockout, kept_field = gr.State(None), gr.State(None), gr.State(None)

        lab = self.lab.render(language)

        # The endpoints for programs: inputs of their own, the result as JSON.
        api_image, api_variant, api_target = image_input(), text_input(DEFAULT_VARIANT), text_input()
        api_stage, api_block, api_y, api_x = number_input(1), number_input(1), number_input(0), number_input(0)
        api_mixer, api_mlp = (gr.CheckboxGroup(view.knockout_stage_choices(), value=[], visible=False) for _ in "ab")
        for fn, inputs, name in (
            (self.inspect_block, [api_image, api_variant, api_stage, api_block], "anatomy"),
            (self.knock_out_parts, [api_image, api_variant, api_mixer, api_mlp, api_target], "knockout"),
            (self.find_receptive_field, [api_image, api_variant, api_stage, api_y, api_x], "receptive_field"),
        ):
            expose(fn, name, inputs, **model_events)

        private = {"api_visibility": "private", **model_events}
        format_only = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
        session.change(self.follow, inputs=[session, stage, block, lang], outputs=[source, block], **format_only)
        # The note follows the model and the ticks (a preset ticks them too).
        for changed in (session, mixer_off, mlp_off):
            changed.change(self.knockout_note, inputs=[session, mixer_off, mlp_off, lang], outputs=note, **format_only)
        for button, mixer_on, mlp_on in presets:
            button.click(partial(view.preset_stages, mixer_on, mlp_on), outputs=[mixer_off, mlp_off], **format_only)

        anatomy_event = {
            "fn": self.show_anatomy,
            "inputs": [session, stage, block, lang],
            "outputs": [anatomy_status, anatomy_view, kept_anatomy],
            "show_progress_on": [anatomy_view],
            **private,
        }
        show.click(**anatomy_event)
        block.input(**anatomy_event)
        stage.input(self.blocks_for, inputs=[session, stage, block, lang], outputs=block, **format_only).then(
            **anatomy_event
        )

        knockout_event = {
            "fn": self.show_knockout,
            "inputs": [session, mixer_off, mlp_off, lang],
            "outputs": [knockout_status, knockout_view, kept_knockout],
            "show_progress_on": [knockout_view],
            **private,
        }
        run.click(**knockout_event)

        field_outputs = [field_status, field_view, field_point, kept_field]
        field_event = {"outputs": field_outputs, "show_progress_on": [field_view], **private}
        field_inputs = [session, field_stage, field_point, lang]
        field_button.click(self.show_field, inputs=field_inputs, **field_event)
        field_stage.input(self.show_field, inputs=field_inputs, **field_event)
        # Clicks while a field is being computed: only the last one counts.
        field_view.select(
            self.show_field_at, inputs=[session, field_stage, lang], trigger_mode="always_last", **field_event
        )
        own = Retelling(
            self.retell,
            [session, stage, block, mixer_off, mlp_off, kept_anatomy, kept_knockout, kept_field],
            [source, block, anatomy_view, knockout_view, note, field_view, paper],
        )
        return InsideParts(
            stage=stage,
            block=block,
            mixer_off=mixer_off,
            mlp_off=mlp_off,
            anatomy_event=anatomy_event,
            knockout_event=knockout_event,
            field_event={"fn": self.show_field, "inputs": field_inputs, **field_event},
            retelling=Retelling.combined(own, mixer.retelling, lab),
        )
