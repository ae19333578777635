"""A long computation in a thread of its own, for a page handler that reports its progress and
can be stopped.

A Gradio generator handler cannot yield while the computation it called is running, so the
computation runs in a daemon thread and the handler polls it. When Gradio cancels the event (the
page's Stop button, a client gone) it closes the generator; closing sets the computation's stop
flag, which the package's entry points check between their batches (`should_stop`), so the thread
ends soon after and frees the cores.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from ...control import ProgressCallback, StopCheck

# How often a running computation's progress reaches the page.
REFRESH_S = 0.5


class Job:
    """One computation `compute(progress, should_stop)` run in a daemon thread."""

    def __init__(self, compute: Callable[[ProgressCallback, StopCheck], Any], name: str = "poolformer-job"):
        self.stop = threading.Event()
        self.latest: tuple[float, str] | None = None
        """The last (fraction done, what is running) the computation reported."""
        self.result: Any = None
        self.error: BaseException | None = None
        self._compute = compute
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            self.result = self._compute(self._progress, self.stop.is_set)
        except BaseException as exc:  # noqa: BLE001 - handed to whoever polls the job
            self.error = exc

    def _progress(self, fraction: float, title: str) -> None:
        self.latest = (float(fraction), str(title))


def run_in_background(
    compute: Callable[[ProgressCallback, StopCheck], Any], refresh_s: float = REFRESH_S
) -> Iterator[tuple[str, Any]]:
    """Run `compute(progress, should_stop)` in a thread and follow it, yielding every `refresh_s`:
    ("progress", (fraction, title)) when it has reported something new, ("idle", None) when not,
    and last ("done", result); a failure is raised here. Closing the iterator stops the computation.

    The idle ticks matter: Gradio closes a cancelled generator only between two values, so a
    handler must hand one back often even when there is nothing new to show.
    """
    job = Job(compute)
    try:
        job.thread.start()
        shown = None
        while job.thread.is_alive():
            job.thread.join(refresh_s)
            latest = job.latest
            if not job.thread.is_alive():
                break
            if latest is not None and latest is not shown:
                shown = latest
                yield "progress", latest
            else:
                yield "idle", None
        if job.error is not None:
            raise job.error
        yield "done", job.result
    finally:
        job.stop.set()
