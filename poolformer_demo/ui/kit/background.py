"""A long computation in a thread of its own, for a page handler that reports its progress and
can be stopped.

A Gradio generator handler cannot yield while the computation it called is running, so the
computation runs in a daemon thread and the handler polls it. When Gradio cancels the event (the
page's Stop button, a client gone) it closes the generator; closing sets the computation's stop
flag, which the package's entry points check between their batches (`should_stop`), so the thread
ends soon after and frees the cores. Each computation holds a lease on the cores while it runs
(`control.cores`): alone it uses all of them, with others it uses its share.

`SharedRuns` runs one computation for all the requests that ask the same question at the same
time, and keeps the answers for those that ask it later.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

from ...control import ProgressCallback, StopCheck, cores
from ...device import gpu_task
from .pictures import LruStore

# How often a running computation's progress reaches the page.
REFRESH_S = 0.5
# What a ZeroGPU Space lends a long computation: all three pixel methods with faithfulness on m48.
LONG_GPU_S = 120


class Job:
    """One computation `compute(progress, should_stop)` run in a daemon thread."""

    def __init__(self, compute: Callable[[ProgressCallback, StopCheck], Any], name: str = "poolformer-job"):
        self.stop = threading.Event()
        self.latest: tuple[float, str] | None = None
        """The last (fraction done, what is running) the computation reported."""
        self.result: Any = None
        self.error: BaseException | None = None
        self._compute = gpu_task(LONG_GPU_S)(compute)
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        try:
            with cores.lease():
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
        yield from _follow(job, refresh_s)
    finally:
        job.stop.set()


def _follow(job: Job, refresh_s: float) -> Iterator[tuple[str, Any]]:
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


class SharedRuns:
    """Computations shared by every request that asks the same question, and the answers kept.

    A class that opens the same photo and asks for the same explanation asks one question many
    times. The first request starts the computation in a thread; requests with the same key that
    arrive while it runs follow that one computation; later ones are answered from a bounded store.
    The computation stops only when every request following it has gone (each one's Stop, or its
    client leaving), so nobody is told "stopped" about a run they did not stop; a stopped or failed
    computation is never stored, and the next request for it starts afresh.
    """

    def __init__(self, capacity: int) -> None:
        self.answers = LruStore(capacity)
        self.started = 0
        """How many computations have been started (not answered from the store or shared)."""
        self._running: dict[Any, tuple[Job, list[int]]] = {}
        self._lock = threading.Lock()

    def follow(
        self, key, compute: Callable[[ProgressCallback, StopCheck], Any], refresh_s: float = REFRESH_S
    ) -> Iterator[tuple[str, Any]]:
        """As `run_in_background`, for the computation named by `key`: the stored answer at once if
        there is one; else ("joined", None) first when another request already started it. Closing
        the iterator leaves the computation, which stops once nobody follows it."""
        stored = self.answers.get(key)
        if stored is not None:
            yield "done", stored
            return
        with self._lock:
            running = self._running.get(key)
            joined = running is not None
            if running is None:
                running = (self._job(key, compute), [0])
                self._running[key] = running
                running[0].thread.start()
                self.started += 1
            job, followers = running
            followers[0] += 1
        try:
            if joined:
                yield "joined", None
            yield from _follow(job, refresh_s)
        finally:
            with self._lock:
                followers[0] -= 1
                if followers[0] == 0 and job.thread.is_alive():
                    job.stop.set()
                    self._forget(key, job)

    def answer(self, key, compute: Callable[[ProgressCallback, StopCheck], Any]) -> Any:
        """The answer for `key`, waiting for it (for a handler that cannot be stopped)."""
        for kind, value in self.follow(key, compute):
            if kind == "done":
                return value
        raise RuntimeError("a shared computation ended without an answer")

    def _job(self, key, compute: Callable[[ProgressCallback, StopCheck], Any]) -> Job:
        def run(progress: ProgressCallback, should_stop: StopCheck) -> Any:
            try:
                answer = compute(progress, should_stop)
                # Stored before the run is forgotten, so a request arriving meanwhile finds one or the other.
                self.answers.put(key, answer)
                return answer
            finally:
                with self._lock:
                    self._forget(key, job)

        job = Job(run)
        return job

    def _forget(self, key, job: Job) -> None:
        if key in self._running and self._running[key][0] is job:
            del self._running[key]
