"""The Gradio app: `app` builds it (the cache, the runner's lanes, the tabs, launch settings); each tab
is a package under `tabs` (page.py lays it out and wires its handlers, view.py formats without
Gradio); `kit` holds what the tabs share; `share` makes and restores links."""

__all__ = ["build_demo", "launch_kwargs", "limit_allocator_arenas", "share_cores"]


def __getattr__(name: str):
    # The app (and Gradio, seconds to import) load on first use, so the Gradio-free views can be
    # used without them: the command line writes the lesson's handout from the lesson's views.
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
