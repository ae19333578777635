"""Serving the app inside a test: on the loopback, on a free port, closed afterwards."""

from __future__ import annotations

import socket
from contextlib import contextmanager

from poolformer_demo.ui import build_demo, launch_kwargs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(demo=None, **launch_overrides):
    """Launch the app as app.py does, and yield (demo, base URL)."""
    demo = demo or build_demo()
    port = free_port()
    settings = launch_kwargs(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    demo.launch(**{**settings, **launch_overrides})
    try:
        yield demo, f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
