"""The Gradio app: one module per tab, `present` for Gradio-free formatting, `app` for the wiring."""

from .app import build_demo, launch_kwargs, limit_allocator_arenas, share_cores

__all__ = ["build_demo", "launch_kwargs", "limit_allocator_arenas", "share_cores"]
