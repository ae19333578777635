"""Serving the app inside a test: on the loopback, on a free port, closed afterwards."""

from __future__ import annotations

import socket
from contextlib import contextmanager

import pytest

from poolformer_demo import ModelCache, ui


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(demo=None, **launch_overrides):
    """Launch the app as app.py does, and yield (demo, base URL)."""
    demo = demo or ui.build_demo()
    port = free_port()
    demo.launch(**ui.launch_kwargs(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_overrides))
    try:
        yield demo, f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@contextmanager
def app_weights(weights_dir, capacity: int = 2):
    """Point the app at a weights folder with a fresh model cache of its own; undone on exit."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POOLFORMER_WEIGHTS_DIR", str(weights_dir))
        cache = ModelCache(capacity=capacity)
        patch.setattr(ui, "model_cache", cache)
        yield patch, cache
