"""The "Inside the block" tab: on the image and model last analysed on the Explore tab, one block's
steps, knockouts of the token mixer or the channel MLP, and receptive fields.

Each section's page event and its named endpoint for programs (`/anatomy`, `/knockout`,
`/receptive_field`) share one computation; the page gets its pictures inlined in HTML, programs
get JSON with the pictures as data URIs, so no file is written that several requests could share.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import gradio as gr

from ....anatomy import BlockAnatomy, block_anatomy
from ....comparison import KnockoutComparison, compare_knockout
from ....knockouts import Knockouts
from ....receptive_field import ReceptiveField, receptive_field
from ....runner import LruStore, Runner
from ....variants import DEFAULT_VARIANT, get_variant
from ....weights import ModelCache
from ...kit.diagram_view import diagram_html
from ...kit.endpoints import expose, image_input, number_input, text_input
from ...kit.errors import failure_message, user_error
from ...kit.mixer_section import MixerSection
from ...kit.pictures import content_key
from ...kit.runs import MODEL
from ...kit.view import SCROLLABLE_JS, Session, stage_choices
from . import field_view as field_present
from . import view
from .lab_page import LabSection

IMAGE_GONE = "The last image is no longer on the server. Upload it again on the Explore tab and analyse it."
# A point in the middle of the picture: where the receptive field starts before any click.
CENTRE = (0.5, 0.5)
# Answers kept for a class that asks the same: block anatomies (with their pictures), knockouts, fields.
ANSWERS_KEPT = 32


@dataclass(frozen=True)
class InsideParts:
    """What the rest of the page reads or sets: the block and the knockouts a link sets, and the
    events that show the block, the knockout and the receptive field (a link runs them)."""

    stage: gr.Radio
    block: gr.Dropdown
    mixer_off: gr.CheckboxGroup
    mlp_off: gr.CheckboxGroup
    anatomy_event: dict
    knockout_event: dict
    field_event: dict


class InsideTab:
    """The tab's handlers, bound to the model cache the app was built with."""

    def __init__(self, cache: ModelCache, runner: Runner):
        self.cache = cache
        self.runner = runner
        self.answers = LruStore(ANSWERS_KEPT)
        self.mixer = MixerSection(cache, runner, self._session_image)

    # -----------------------------------------------------------------------------------------
    # The computations behind the page and the API, through the runner
    # -----------------------------------------------------------------------------------------

    def _run(self, compute, key: tuple):
        return self.runner.run(lambda progress, should_stop: compute(), MODEL, key=key, store=self.answers)

    def _anatomy(self, image, variant: str, stage, block) -> tuple[BlockAnatomy, dict]:
        name = get_variant(variant).name

        def compute():
            anatomy = block_anatomy(image, name, stage=stage, block=block, cache=self.cache)
            return anatomy, view.anatomy_pictures(anatomy)

        return self._run(compute, ("anatomy", content_key(image), name, stage, block))

    def _knockout(self, image, variant: str, mixer_stages, mlp_stages, target=None) -> KnockoutComparison:
        knockouts = Knockouts.from_stages(mixer_stages, mlp_stages)
        name = get_variant(variant).name

        def compute():
            return compare_knockout(image, name, knockouts, target=target, cache=self.cache)

        return self._run(compute, ("knockout", content_key(image), name, knockouts, target))

    def _field(self, image, variant: str, stage, y=0, x=0, at=None) -> ReceptiveField:
        name = get_variant(variant).name

        def compute():
            return receptive_field(image, name, stage=stage, y=y, x=x, cache=self.cache, at=at)

        return self._run(compute, ("field", content_key(image), name, stage, y, x, at))

    # -----------------------------------------------------------------------------------------
    # Named endpoints for programs: JSON, pictures as data URIs
    # -----------------------------------------------------------------------------------------

    def inspect_block(self, image: str | None, variant: str = DEFAULT_VARIANT, stage: int = 1, block: int = 1):
        """Every step of one PoolFormer block for an image, and how much each branch changes the stream in every block.

        Args:
            image: the picture to look at.
            variant: s12, s24, s36, m36, m48, shapes or pairs.
            stage: the stage, numbered from 1.
            block: the block of that stage, numbered from 1.

        Returns JSON: the seven steps (input, normed, pooled, mixer, mixed, mlp, output) of the channel where
        the token mixer acts most, each with a title, a caption and a picture at the map's size (data URI);
        the crop; ||branch|| / ||stream|| of the token mixer and the channel MLP for every block, and their plot.
        """
        try:
            return view.anatomy_api(*self._anatomy(image, variant, stage, block))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            raise user_error(exc) from None

    def knock_out_parts(
        self,
        image: str | None,
        variant: str = DEFAULT_VARIANT,
        mixer_stages: list[str] | None = None,
        mlp_stages: list[str] | None = None,
        target: str | None = None,
    ):
        """Top-5 and the deepest Grad-CAM as trained and with the token mixer or channel MLP of some stages off.

        Args:
            image: the picture to classify.
            variant: s12, s24, s36, m36, m48, shapes or pairs.
            mixer_stages: stages (1-4) whose token mixer outputs zeros.
            mlp_stages: stages (1-4) whose channel MLP adds nothing.
            target: the class Grad-CAM explains in both (a name or an index); empty means the top class as trained.

        Returns JSON: the knockouts, the target, and for "before" and "after" the top-5, the target's probability
        and the deepest stage's Grad-CAM (array and picture). The served model itself is never changed.
        """
        try:
            return view.knockout_api(self._knockout(image, variant, mixer_stages, mlp_stages, target or None))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            raise user_error(exc) from None

    def find_receptive_field(
        self, image: str | None, variant: str = DEFAULT_VARIANT, stage: int = 1, y: int = 0, x: int = 0
    ):
        """The effective receptive field of one position of a stage's feature map, beside the theoretical one.

        Args:
            image: the picture to look at.
            variant: s12, s24, s36, m36, m48, shapes or pairs.
            stage: the stage, numbered from 1.
            y: the row on the stage's grid, from 0.
            x: the column on the stage's grid, from 0.

        Returns JSON: the picture (|gradient| of the position's activation over the crop, the theoretical field as
        a box), the box in crop pixels, the theoretical size and stride in pixels, the share of the effective
        field inside the box, and the theoretical size of every stage.
        """
        try:
            return field_present.field_api(self._field(image, variant, stage, y, x))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            raise user_error(exc) from None

    # -----------------------------------------------------------------------------------------
    # Page handlers: a failure is said above its section and leaves the last pictures in place
    # -----------------------------------------------------------------------------------------

    @staticmethod
    def _session_image(session: Session | None) -> tuple[str, str]:
        if session is None:
            raise gr.Error(view.NO_SESSION, print_exception=False)
        if not Path(session.image).is_file():
            raise gr.Error(IMAGE_GONE, print_exception=False)
        return session.image, session.variant

    @staticmethod
    def _failed(exc: BaseException, outputs: int) -> tuple:
        return (view.section_failure(failure_message(exc)), *[gr.skip()] * (outputs - 1))

    def show_anatomy(self, session: Session | None, stage: int, block: int):
        """The block's steps and the branch plot: (status, anatomy HTML)."""
        try:
            image, variant = self._session_image(session)
            anatomy, pictures = self._anatomy(image, variant, stage, block)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            return self._failed(exc, 2)
        where = f"stage {anatomy.stage}, block {anatomy.block}, channel {pictures['channel']}"
        return "", diagram_html(pictures, where) + view.anatomy_html(anatomy, pictures)

    def show_knockout(self, session: Session | None, mixer_stages: list[str], mlp_stages: list[str]):
        """Before and after the knockout, for the class explained on the Explore tab: (status, knockout HTML)."""
        try:
            image, variant = self._session_image(session)
            comparison = self._knockout(image, variant, mixer_stages, mlp_stages, session.target)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            return self._failed(exc, 2)
        return "", view.knockout_html(comparison)

    def show_field(self, session: Session | None, stage: int, point: tuple[float, float] | None):
        """The receptive field at `point` (fractions down and across the crop; default its centre):
        (status, field HTML, the point)."""
        point = tuple(point) if point else CENTRE
        try:
            image, variant = self._session_image(session)
            field = self._field(image, variant, stage, at=point)
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            return self._failed(exc, 3)
        return "", field_present.field_html(field), list(point)

    def show_field_at(self, session: Session | None, stage: int, evt: gr.SelectData):
        """A click on the picture: the field of the cell under it, at the same stage."""
        return self.show_field(session, stage, evt.index)

    @staticmethod
    def knockout_note(session: Session | None, mixer_stages: list[str], mlp_stages: list[str]) -> str:
        """The bundled model's measured note on the token mixer, unless only the channel MLP is ticked."""
        return "" if mlp_stages and not mixer_stages else view.knockout_note(session)

    @staticmethod
    def follow(session: Session | None, stage: int, block: int):
        """A new analysis on the Explore tab: say what the tab works on; the block menu follows the model."""
        return view.source_markdown(session), InsideTab.blocks_for(session, stage, block)

    @staticmethod
    def blocks_for(session: Session | None, stage: int, block: int):
        """As many blocks in the menu as the model has in the chosen stage; the choice kept where it can be."""
        variant = session.variant if session is not None else DEFAULT_VARIANT
        try:
            choices = view.block_choices(variant, stage)
        except Exception:  # noqa: BLE001 - an unknown model is reported when a section runs
            return gr.skip()
        chosen = block if isinstance(block, int) and 1 <= block <= len(choices) else 1
        return gr.update(choices=choices, value=min(chosen, len(choices)))

    # -----------------------------------------------------------------------------------------
    # Layout
    # -----------------------------------------------------------------------------------------

    def render(self, model_events: dict, session: gr.State) -> InsideParts:
        """Lay the tab out inside the current Blocks and wire its events.

        `session` is the Explore tab's state: the image, model and class of its last analysis.
        """
        gr.Markdown(view.INTRO, elem_id="inside-intro")
        source = gr.Markdown(view.source_markdown(None), elem_id="inside-source")

        with gr.Accordion("1 · The block, step by step", open=True, elem_id="anatomy-section"):
            with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
                stage = gr.Radio(stage_choices(), value=1, label="Stage", elem_id="anatomy-stage", scale=3)
                block = gr.Dropdown(
                    view.block_choices(DEFAULT_VARIANT, 1), value=1, label="Block", elem_id="anatomy-block", scale=1
                )
                show = gr.Button("Show the block", variant="primary", elem_id="anatomy-button", scale=1)
            anatomy_status = gr.Markdown("", elem_id="anatomy-status")
            anatomy_view = gr.HTML(diagram_html() + view.anatomy_html(), js_on_load=None, elem_id="anatomy-view")

        with gr.Accordion("2 · The token mixer, one token at a time", open=True, elem_id="mixer-section"):
            self.mixer.render(model_events, session, "inside")

        knockouts = gr.Accordion("3 · Knockouts: switch a part off", open=True, elem_id="knockout-section")
        with knockouts, gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=300):
                mixer_off = gr.CheckboxGroup(
                    view.knockout_stage_choices(), value=[], label="Token mixing off in", elem_id="knockout-mixer"
                )
                mlp_off = gr.CheckboxGroup(
                    view.knockout_stage_choices(), value=[], label="Channel MLP off in", elem_id="knockout-mlp"
                )
                with gr.Row(elem_id="knockout-presets"):
                    presets = [
                        (gr.Button(label, size="sm", elem_id=f"knockout-preset-{i}"), mixer, mlp)
                        for i, (label, mixer, mlp) in enumerate(view.KNOCKOUT_PRESETS)
                    ]
                note = gr.Markdown("", elem_id="knockout-note")
                run = gr.Button("Re-run with the knockout", variant="primary", elem_id="knockout-button")
                gr.Markdown(view.KNOCKOUT_WHY, elem_id="knockout-why")
                gr.Markdown(view.paper_table_markdown(), elem_id="paper-ablations")
            with gr.Column(scale=3, min_width=340):
                knockout_status = gr.Markdown("", elem_id="knockout-status")
                knockout_view = gr.HTML(view.knockout_html(), js_on_load=SCROLLABLE_JS, elem_id="knockout-view")

        fields = gr.Accordion("4 · Receptive fields", open=True, elem_id="field-section")
        with fields, gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=300):
                with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
                    field_stage = gr.Radio(stage_choices(), value=1, label="Stage", elem_id="field-stage")
                    field_button = gr.Button("Show the field", variant="primary", elem_id="field-button")
                gr.Markdown(field_present.FIELD_TEXT, elem_id="field-text")
            with gr.Column(scale=3, min_width=340):
                field_status = gr.Markdown("", elem_id="field-status")
                field_view = gr.HTML(
                    field_present.field_html(), js_on_load=field_present.FIELD_JS, elem_id="field-view"
                )
        # Where on the crop the last field was asked for, so a new stage looks at the same place.
        field_point = gr.State(None)

        LabSection(self.runner).render()

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
        session.change(self.follow, inputs=[session, stage, block], outputs=[source, block], **format_only)
        # The note follows the model and the ticks (a preset ticks them too).
        for changed in (session, mixer_off, mlp_off):
            changed.change(self.knockout_note, inputs=[session, mixer_off, mlp_off], outputs=note, **format_only)
        for button, mixer, mlp in presets:
            button.click(partial(view.preset_stages, mixer, mlp), outputs=[mixer_off, mlp_off], **format_only)

        anatomy_event = {
            "fn": self.show_anatomy,
            "inputs": [session, stage, block],
            "outputs": [anatomy_status, anatomy_view],
            "show_progress_on": [anatomy_view],
            **private,
        }
        show.click(**anatomy_event)
        block.input(**anatomy_event)
        stage.input(self.blocks_for, inputs=[session, stage, block], outputs=block, **format_only).then(**anatomy_event)

        knockout_event = {
            "fn": self.show_knockout,
            "inputs": [session, mixer_off, mlp_off],
            "outputs": [knockout_status, knockout_view],
            "show_progress_on": [knockout_view],
            **private,
        }
        run.click(**knockout_event)

        field_outputs = [field_status, field_view, field_point]
        field_event = {"outputs": field_outputs, "show_progress_on": [field_view], **private}
        field_inputs = [session, field_stage, field_point]
        field_button.click(self.show_field, inputs=field_inputs, **field_event)
        field_stage.input(self.show_field, inputs=field_inputs, **field_event)
        # Clicks while a field is being computed: only the last one counts.
        field_view.select(self.show_field_at, inputs=[session, field_stage], trigger_mode="always_last", **field_event)
        return InsideParts(
            stage=stage,
            block=block,
            mixer_off=mixer_off,
            mlp_off=mlp_off,
            anatomy_event=anatomy_event,
            knockout_event=knockout_event,
            field_event={"fn": self.show_field, "inputs": field_inputs, **field_event},
        )
