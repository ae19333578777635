"""The app's lanes on the one runner (`poolformer_demo.runner`), and a followed run as status lines.

Four lanes, so a short answer never waits behind a long one: Explore's analyses (most questions
are answered from its store in milliseconds), the other model events (the Lesson, Inside, the CAM
family, Compare), the long explanations (attributions, faithfulness, the sanity check) and the lab
(one live run at a time for the whole server, on one thread: its tiny models train fastest so).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import closing

from ...i18n import Messages, english
from ...runner import REFRESH_S, Compute, Lane, LruStore, Runner
from .view import progress_html, status_html

EXPLORE, MODEL, LONG, LAB = "explore", "model", "long", "lab"
# What a ZeroGPU Space lends one computation of each lane, from benchmarks/gpu_check.py's timings:
# an Explore analysis (a second on CPU for m48; the first call loads the model), a lesson step or
# a comparison of every variant, all three pixel methods with faithfulness on m48, and a live lab
# run of six arms.
GPU_SECONDS = {EXPLORE: 20, MODEL: 60, LONG: 120, LAB: 240}


def app_lanes(concurrency: int) -> list[Lane]:
    """The lanes of an app that runs `concurrency` computations of a kind at once."""
    return [
        Lane(EXPLORE, concurrency, GPU_SECONDS[EXPLORE]),
        Lane(MODEL, concurrency, GPU_SECONDS[MODEL]),
        Lane(LONG, concurrency, GPU_SECONDS[LONG]),
        Lane(LAB, 1, GPU_SECONDS[LAB], threads=1),
    ]


def app_runner(concurrency: int, refresh_s: float = REFRESH_S) -> Runner:
    return Runner(app_lanes(concurrency), refresh_s)


def follow_with_status(
    runner: Runner,
    compute: Compute,
    lane: str,
    started_text: str,
    key=None,
    store: LruStore | None = None,
    t: Messages | None = None,
) -> Iterator[tuple[str, object]]:
    """Follow `compute` on `lane`: ("status", HTML) for the status line in language `t` (None: leave
    it as it is), then ("done", answer). Closing it leaves the computation (see `Runner.follow`)."""
    t = t or english()
    started = time.monotonic()
    yield "status", status_html(started_text)
    with closing(runner.follow(compute, lane, key=key, store=store)) as events:
        for kind, value in events:
            if kind == "joined":
                yield "status", status_html(t.text("run.joined"))
            elif kind == "queued":
                yield "status", status_html(t.text("run.queued"))
            elif kind == "progress":
                fraction, title = value[:2]
                yield "status", progress_html(fraction, t.said(title), time.monotonic() - started, t)
            elif kind == "idle":
                yield "status", None
            else:
                yield "done", value
