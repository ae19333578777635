"""The Gradio app: `app` builds it (the cache, the runner's lanes, the tabs, launch settings); each tab
is a package under `tabs` (page.py lays it out and wires its handlers, view.py formats without
Gradio); `kit` holds what the tabs share; `share` makes and restores links."""

from .app import build_demo, launch_kwargs, limit_allocator_arenas, share_cores

__all__ = ["build_demo", "launch_kwargs", "limit_allocator_arenas", "share_cores"]
