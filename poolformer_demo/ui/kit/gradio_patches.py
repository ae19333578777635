"""Every place this app reaches into Gradio's internals, each with the reason it must.

Endpoints that take an image stay hidden-button events (`gr.Button(visible=False).click(...,
api_name=...)`) rather than `gr.api`: `gr.api` runs with preprocessing off and an untyped `Api`
component, so an uploaded file reaches the handler as a FileData dict instead of a path, and the
API page and the MCP server no longer describe that input as a file to upload (an MCP client
could not send an image by URL).
"""

from __future__ import annotations

import gradio as gr


def hand_over_undecoded(component: gr.Image) -> gr.Image:
    """Make an image input pass the uploaded file to the core undecoded.

    gr.Image opens every upload with PIL before any handler runs, so a text file, a truncated
    PNG or a decompression bomb would fail there with a bare "Error". Passing the path on lets
    the core's decoder, with its pixel limit and specific messages, be the only one that reads
    it; Gradio has already checked that the path lies in its upload folder. (The component is
    patched rather than subclassed because Gradio writes a .pyi stub beside any module that
    subclasses a component.)
    """
    decode = component.preprocess

    def preprocess(payload):
        if payload is None or payload.path is None or (payload.url or "").startswith("data:"):
            return decode(payload)
        return str(payload.path)

    component.preprocess = preprocess
    return component


def accept_any_text(component: gr.Dropdown, description: str) -> gr.Dropdown:
    """Describe a dropdown to API clients as free text.

    A dropdown whose choices are filled per request would be described to programs as an enum of
    the choices it had when the app was built (none); `allow_custom_value` accepts any text, but
    Gradio has no public switch for what its API page says, so the component's `api_info` is replaced.
    """
    component.api_info = lambda: {"type": "string", "description": description}
    return component
