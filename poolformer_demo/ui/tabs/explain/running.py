"""How the Explain tab's long sections run: in a thread of their own, their progress as status
lines, shared by every request for the same explanation."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import closing

from ...kit.background import SharedRuns, run_in_background
from ...kit.view import progress_html, status_html

JOINED = "The same explanation is being computed for another visitor; you get its answer as soon as it is done…"


def follow(
    compute: Callable, started_text: str, refresh_s: float, shared: SharedRuns | None = None, key=None
) -> Iterator[tuple[str, object]]:
    """Run `compute(progress, should_stop)` in the background: ("status", HTML) for the status
    line (None: leave it), then ("done", result). Closing it stops the computation. With a
    `key`, the computation is shared with every request for the same key (`shared`)."""
    started = time.monotonic()
    yield "status", status_html(started_text)
    running = run_in_background(compute, refresh_s) if key is None else shared.follow(key, compute, refresh_s)
    with closing(running) as events:
        for kind, value in events:
            if kind == "joined":
                yield "status", status_html(JOINED)
            elif kind == "progress":
                yield "status", progress_html(*value, time.monotonic() - started)
            elif kind == "idle":
                yield "status", None
            else:
                yield "done", value
