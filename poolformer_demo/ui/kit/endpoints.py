"""Named endpoints for programs (`gradio_client`, the API page, MCP), exposed one way by every tab.

An endpoint that takes an image is the click of a hidden button with hidden inputs of its own:
`gr.api` cannot take an image (kit/gradio_patches.py says why). Every other endpoint is `gr.api`,
typed from its handler's hints. Either way the handler's docstring is what programs read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import gradio as gr

from .gradio_patches import hand_over_undecoded


def image_input() -> gr.Image:
    """A hidden image input for an endpoint: the upload reaches the handler as a path, undecoded."""
    return hand_over_undecoded(gr.Image(type="filepath", image_mode=None, visible=False))


def text_input(value: str = "") -> gr.Textbox:
    return gr.Textbox(value, visible=False)


def number_input(value: int) -> gr.Number:
    return gr.Number(value, precision=0, visible=False)


def expose(
    fn: Callable,
    name: str,
    inputs: Sequence[gr.components.Component] | None = None,
    outputs: Sequence[gr.components.Component] | None = None,
    **events,
):
    """Expose `fn` as the endpoint `/name`, queued with `events` (a concurrency lane, queue=False…).

    With `inputs` (hidden components, an image among them) it is a hidden button's click whose
    answer goes to `outputs` (by default one hidden JSON); without, `gr.api`.
    """
    if inputs is None:
        return gr.api(fn, api_name=name, **events)
    outputs = list(outputs) if outputs is not None else [gr.JSON(visible=False)]
    return gr.Button(visible=False).click(fn, inputs=list(inputs), outputs=outputs, api_name=name, **events)
