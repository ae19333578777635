"""Gradio components set up the way every tab of this app needs them."""

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
