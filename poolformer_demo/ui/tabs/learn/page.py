"""The Learn tab: MetaFormer and PoolFormer in words, and the shapes the last image took."""

from __future__ import annotations

import gradio as gr

from ...kit.language import Wording
from . import view as present


def journey_panel(words: Wording) -> gr.Markdown:
    """The "your image through the network" panel. Created unrendered: the Explore tab's events
    write to it, and `render` places it on this tab."""
    panel = gr.Markdown(present.journey_markdown(), elem_id="journey", render=False)
    return words(panel, label="journey.label")


def render(journey: gr.Markdown, words: Wording) -> None:
    words(gr.Markdown(elem_id="learn-text"), value=present.learn_markdown)
    journey.render()
