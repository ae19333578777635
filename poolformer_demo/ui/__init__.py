"""The Gradio app: one module per tab, `present` for Gradio-free formatting, `app` for the wiring."""

__all__ = ["build_demo", "launch_kwargs", "limit_allocator_arenas", "share_cores"]


def __getattr__(name: str):
    # The app (and Gradio, seconds to import) load on first use, so the Gradio-free views can be
    # used without them: the command line writes the lesson's handout from the lesson's views.
    if name in __all__:
        from . import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
