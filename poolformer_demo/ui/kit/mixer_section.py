"""The token mixer you can touch, as a section of a tab: a stage, the picture of its tokens, and
for the token a student clicks (or reaches with the keyboard) its pooling window, the window's
average, the token and the mixer's output, beside what self-attention would weigh.

The Inside tab and the Lesson's mixer step both show it, each on its own image (`subject`). One
forward pass per (image, model, stage) through the runner, kept in a store: every click after the
first reads the stored maps in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr

from ...i18n import Messages, messages
from ...runner import LruStore, Runner
from ...token_mixer import MixerMaps, mixer_maps, token_at
from ...variants import get_variant
from ...weights import ModelCache
from .errors import failure_message
from .language import LanguageSection, Retelling
from .mixer_view import MIXER_JS, mixer_html
from .pictures import content_key
from .runs import MODEL
from .view import Session, stage_choices

# One stage's maps of one image are a few hundred kB; a class clicking on a few images fits.
MAPS_KEPT = 24
# The block whose mixer is shown: the first of its stage, where the lesson's block steps look too.
BLOCK = 1


@dataclass(frozen=True)
class MixerParts:
    """The event that shows the centre token of the chosen stage (a tab runs it when it opens), and
    how the section says again what it shows in a new language."""

    event: dict
    retelling: Retelling


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

    def show_mixer(self, session: Session | None, stage: int, lang: str = "en", point: tuple[int, int] | None = None):
        """(status, view, the token shown) for the token at `point` (row, column on the stage's grid;
        default its centre), in language `lang`."""
        t = messages(lang)
        try:
            image, variant = self.subject(session)
            maps = self._maps(image, variant, stage)
            rows, cols = maps.grid_size
            y, x = point if point is not None else (rows // 2, cols // 2)
            token = token_at(maps, y, x)
            return "", mixer_html(token, t=t), token
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            return f"⚠️ {failure_message(exc, t)}", gr.skip(), gr.skip()

    def show_mixer_token(self, session: Session | None, stage: int, lang: str, evt: gr.SelectData):
        """A token chosen on the picture: the view's select event carries [row, column]."""
        y, x = evt.index
        return self.show_mixer(session, stage, lang, (int(y), int(x)))

    @staticmethod
    def retell(t: Messages, token) -> tuple:
        """The token shown, in language `t`: nothing is computed again."""
        return (mixer_html(token, t=t),)

    def render(self, model_events: dict, session: gr.State, prefix: str, language: LanguageSection) -> MixerParts:
        """The stage menu, the note and the view, wired; `prefix` names their elements."""
        words, lang = language.words, language.menu
        with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
            stage = words(
                gr.Radio(value=1, elem_id=f"{prefix}-mixer-stage", scale=3), label="mixer.stage", choices=stage_choices
            )
            show = words(
                gr.Button(variant="primary", elem_id=f"{prefix}-mixer-button", scale=1), value="mixer.show_centre"
            )
        words(gr.Markdown(elem_id=f"{prefix}-mixer-note"), value="mixer.section_note")
        status = gr.Markdown("", elem_id=f"{prefix}-mixer-status")
        view = gr.HTML(mixer_html(), js_on_load=MIXER_JS, elem_id=f"{prefix}-mixer-view")
        shown = gr.State(None)
        private = {"api_visibility": "private", "show_progress_on": [view], **model_events}
        event = {"fn": self.show_mixer, "inputs": [session, stage, lang], "outputs": [status, view, shown], **private}
        show.click(**event)
        stage.input(**event)
        # Clicks while a token is being shown: only the last one counts.
        view.select(
            self.show_mixer_token,
            inputs=[session, stage, lang],
            outputs=[status, view, shown],
            trigger_mode="always_last",
            **private,
        )
        return MixerParts(event, Retelling(self.retell, [shown], [view]))
