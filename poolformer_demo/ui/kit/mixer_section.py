"""The token mixer you can touch, as a section of a tab: a stage, the picture of its tokens, and
for the token a student clicks (or reaches with the keyboard) its pooling window, the window's
average, the token and the mixer's output, beside what self-attention would weigh.

The Inside tab and the Lesson's mixer step both show it, each on its own image (`subject`). One
forward pass per (image, model, stage) through the runner, kept in a store: every click after the
first reads the stored maps in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable

import gradio as gr

from ...runner import LruStore, Runner
from ...token_mixer import MixerMaps, mixer_maps, token_at
from ...variants import get_variant
from ...weights import ModelCache
from .errors import failure_message
from .mixer_view import MIXER_JS, mixer_html
from .pictures import content_key
from .runs import MODEL
from .view import Session, stage_choices

# One stage's maps of one image are a few hundred kB; a class clicking on a few images fits.
MAPS_KEPT = 24
# The block whose mixer is shown: the first of its stage, where the lesson's block steps look too.
BLOCK = 1
MIXER_NOTE = (
    "Click a token on the picture (or tab to the picture, move with the arrow keys and press Enter) to see its "
    "pooling window, the window's average, the token itself and the mixer's output, AvgPool(n) − n, for the "
    "channels where it is largest."
)


class MixerSection:
    """The section's handlers. `subject(session)` names the image and model it works on, or raises a
    gr.Error that says what to do."""

    def __init__(self, cache: ModelCache, runner: Runner, subject: Callable[[Session | None], tuple[str, str]]):
        self.cache = cache
        self.runner = runner
        self.subject = subject
        self.maps = LruStore(MAPS_KEPT)

    def _maps(self, image: str, variant: str, stage: int) -> MixerMaps:
        name = get_variant(variant).name

        def compute(progress, should_stop):
            return mixer_maps(image, name, int(stage), BLOCK, cache=self.cache)

        return self.runner.run(compute, MODEL, key=("mixer", content_key(image), name, int(stage)), store=self.maps)

    def show_mixer(self, session: Session | None, stage: int, point: tuple[int, int] | None = None) -> tuple[str, str]:
        """(status, view) for the token at `point` (row, column on the stage's grid; default its centre)."""
        try:
            image, variant = self.subject(session)
            maps = self._maps(image, variant, stage)
            rows, cols = maps.grid_size
            y, x = point if point is not None else (rows // 2, cols // 2)
            return "", mixer_html(token_at(maps, y, x))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            return f"⚠️ {failure_message(exc)}", gr.skip()

    def show_mixer_token(self, session: Session | None, stage: int, evt: gr.SelectData) -> tuple[str, str]:
        """A token chosen on the picture: the view's select event carries [row, column]."""
        y, x = evt.index
        return self.show_mixer(session, stage, (int(y), int(x)))

    def render(self, model_events: dict, session: gr.State, prefix: str) -> dict:
        """The stage menu, the note and the view, wired; `prefix` names their elements. Returns the
        event that shows the centre token of the chosen stage (a tab runs it when it opens)."""
        with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
            stage = gr.Radio(stage_choices(), value=1, label="Stage", elem_id=f"{prefix}-mixer-stage", scale=3)
            show = gr.Button("Show the centre token", variant="primary", elem_id=f"{prefix}-mixer-button", scale=1)
        gr.Markdown(MIXER_NOTE, elem_id=f"{prefix}-mixer-note")
        status = gr.Markdown("", elem_id=f"{prefix}-mixer-status")
        view = gr.HTML(mixer_html(), js_on_load=MIXER_JS, elem_id=f"{prefix}-mixer-view")
        private = {"api_visibility": "private", "show_progress_on": [view], **model_events}
        event = {"fn": self.show_mixer, "inputs": [session, stage], "outputs": [status, view], **private}
        show.click(**event)
        stage.input(**event)
        # Clicks while a token is being shown: only the last one counts.
        view.select(
            self.show_mixer_token,
            inputs=[session, stage],
            outputs=[status, view],
            trigger_mode="always_last",
            **private,
        )
        return event
