"""Serving the app inside a test: on the loopback, on a free port, closed afterwards."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx
from paths import ROOT

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


HANG_GUARD_S = 90


@contextmanager
def app_process(env_overrides: dict[str, str]):
    """`python app.py` in its own process, as a user starts it; yields (process, base URL, seconds
    until the page was served). Settings from the test session's environment do not leak in."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "POOLFORMER_", "GRADIO_"))}
    env.update(GRADIO_SERVER_PORT=str(port), **env_overrides)
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        while time.monotonic() - started < HANG_GUARD_S:
            if process.poll() is not None:
                raise RuntimeError(f"app.py exited with {process.returncode}:\n{process.stdout.read()}")
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"app.py did not serve a page within {HANG_GUARD_S} s")
        yield process, url, time.monotonic() - started
    finally:
        process.terminate()
        process.wait(timeout=30)
