"""The Learn tab: MetaFormer and PoolFormer in words, and the shapes the last image took."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import gradio as gr

from . import view as present

LEARN_TEXT = Path(__file__).parents[2] / "static" / "learn.md"


@lru_cache(maxsize=1)
def learn_markdown() -> str:
    """The tab's text, with the variants table filled in from the registry."""
    return LEARN_TEXT.read_text(encoding="utf-8").replace("{variants_table}", present.variants_table())


def journey_panel() -> gr.Markdown:
    """The "your image through the network" panel. Created unrendered: the Explore tab's events
    write to it, and `render` places it on this tab."""
    return gr.Markdown(present.journey_markdown(), label="Shapes through the stages", elem_id="journey", render=False)


def render(journey: gr.Markdown) -> None:
    gr.Markdown(learn_markdown())
    journey.render()
