"""The Gradio app: one module per tab, `present` for Gradio-free formatting, `app` for the wiring."""

from .app import build_demo, launch_kwargs

__all__ = ["build_demo", "launch_kwargs"]
