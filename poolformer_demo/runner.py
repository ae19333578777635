"""The one way a computation runs for the app: on a lane's worker thread, with its share of the
cores, inside the GPU call, shared with everyone asking the same question, kept in a store when
asked, and stopped when nobody waits for it any more.

pytorch-grad-cam and captum each have one place where a method runs; this is that place for the
app. A page handler or an endpoint hands `Runner.run` (wait for the answer) or `Runner.follow`
(progress events while it runs) a computation `compute(progress, should_stop)` — a core entry
point with its arguments bound — and formats what comes back:

* lanes: each lane is a `ThreadPoolExecutor` with as many workers as computations may run in it
  at once, so a short analysis never waits behind a long explanation. A worker is taken from the
  moment a computation starts until its thread has really ended: after Stop, the next computation
  of that lane starts only once the stopped one has noticed (`control.check_stop`) and returned;
* cores: the computation holds a lease on `control.cores` while it runs (alone it uses every
  core, with others its share), or a fixed thread count when it asks for one (the lab's tiny
  models train fastest on one thread);
* GPU: the computation runs inside `device.gpu_task(seconds)`, the `@spaces.GPU` call on a
  ZeroGPU Space (the only place CUDA exists there) and nothing elsewhere; what crosses it is CPU
  data, since every core result holds NumPy arrays;
* sharing: computations named by the same `key` while one runs are followed by every request that
  asks; with a `store`, the answer is kept and later requests get it at once. A stopped or failed
  computation is never stored. The store is read and the running table changed under one lock, so
  a request arriving as a run completes finds either the stored answer or the run, never neither;
* Stop: closing a `follow` iterator (Gradio does this on Stop, or when a client leaves) leaves the
  computation; it is asked to stop once nobody follows it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from typing import Any

from .control import ProgressCallback, StopCheck, cores
from .device import gpu_task
from .errors import ComputationCancelled
from .i18n import Said

__all__ = ["Compute", "Lane", "LruStore", "Runner", "REFRESH_S"]

Compute = Callable[[ProgressCallback, StopCheck], Any]
"""A computation: called as compute(progress, should_stop) on a lane's worker thread."""

# How often a followed computation's progress reaches the page.
REFRESH_S = 0.5


@dataclass(frozen=True)
class Lane:
    """Computations of one kind: how many run at once, and how long the GPU call they get may last
    (ZeroGPU bills the duration asked for, so it comes from measured times: benchmarks/gpu_check.py)."""

    name: str
    workers: int
    gpu_seconds: float
    threads: int | None = None
    """A fixed intra-op thread count for this lane's computations; None: their share of the cores."""


class LruStore:
    """A thread-safe least-recently-used map that keeps at most `capacity` entries."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        return None

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class _Run:
    """One computation submitted to a lane, and the requests following it."""

    def __init__(self, key) -> None:
        self.key = key
        self.stop = threading.Event()
        self.latest: tuple | None = None
        """The arguments of the computation's last progress call."""
        self.followers = 0
        self.future: Future | None = None

    def progress(self, *report) -> None:
        self.latest = report


class Runner:
    """Runs the app's computations on named lanes (see the module's docstring)."""

    def __init__(self, lanes: Mapping[str, Lane] | list[Lane], refresh_s: float = REFRESH_S) -> None:
        lanes = list(lanes.values()) if isinstance(lanes, Mapping) else list(lanes)
        self.lanes = {lane.name: lane for lane in lanes}
        self.refresh_s = refresh_s
        self._pools = {
            lane.name: ThreadPoolExecutor(
                max_workers=max(1, lane.workers), thread_name_prefix=f"poolformer-{lane.name}"
            )
            for lane in lanes
        }
        self._running: dict[Any, _Run] = {}
        self._unfinished: set[Future] = set()
        # Reentrant: a future that is already done runs its done-callback at once, inside `_submit`.
        self._lock = threading.RLock()
        self.started = 0
        """How many computations were started (not answered from a store or shared with another request)."""

    # -----------------------------------------------------------------------------------------
    # What handlers call
    # -----------------------------------------------------------------------------------------

    def run(self, compute: Compute, lane: str, *, key=None, store: LruStore | None = None) -> Any:
        """The answer of `compute`, waiting for it (for a handler that shows no progress)."""
        for kind, value in self.follow(compute, lane, key=key, store=store):
            if kind == "done":
                return value
        raise RuntimeError("a computation ended without an answer")

    def follow(
        self, compute: Compute, lane: str, *, key=None, store: LruStore | None = None, refresh_s: float | None = None
    ) -> Iterator[tuple[str, Any]]:
        """Run `compute` on `lane` and follow it, yielding every `refresh_s`: ("queued", None) while it
        waits for a worker, ("joined", None) once when another request had already started the same
        `key`, ("progress", report) when it has reported something new (report: the arguments of its
        progress call, usually (fraction, title)), ("idle", None) when not, and last ("done", answer);
        a failure is raised here. A stored answer comes at once as ("done", answer).

        Closing the iterator leaves the computation, which is asked to stop once nobody follows it.
        The idle ticks matter: Gradio closes a cancelled generator only between two values.
        """
        if lane not in self._pools:
            raise ValueError(f"unknown lane {lane!r}; the runner has {', '.join(self._pools)}")
        refresh_s = self.refresh_s if refresh_s is None else refresh_s
        with self._lock:
            stored = store.get(key) if store is not None and key is not None else None
            run = None if stored is not None else (self._running.get(key) if key is not None else None)
            joined = run is not None
            if stored is None and run is None:
                run = self._submit(compute, self.lanes[lane], key, store)
            if run is not None:
                run.followers += 1
        if stored is not None:
            yield "done", stored
            return
        try:
            if joined:
                yield "joined", None
            yield from self._watch(run, refresh_s)
        finally:
            self._leave(run)

    def close(self) -> None:
        """Stop every running computation and end the lanes' threads (tests, and a server shutting down)."""
        with self._lock:
            for run in self._running.values():
                run.stop.set()
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=True)

    @property
    def active(self) -> int:
        """Computations submitted and not yet ended (running, waiting for a worker, or stopped and
        still finishing their current batch)."""
        with self._lock:
            return len(self._unfinished)

    # -----------------------------------------------------------------------------------------
    # Inside
    # -----------------------------------------------------------------------------------------

    def _submit(self, compute: Compute, lane: Lane, key, store: LruStore | None) -> _Run:
        """Start `compute` on `lane` (the runner's lock is held)."""
        run = _Run(key if key is not None else object())
        run.future = self._pools[lane.name].submit(self._execute, run, compute, lane, store)
        self._unfinished.add(run.future)
        run.future.add_done_callback(self._finished)
        self._running[run.key] = run
        self.started += 1
        return run

    def _execute(self, run: _Run, compute: Compute, lane: Lane, store: LruStore | None) -> Any:
        try:
            if run.stop.is_set():
                # Everyone left while it waited for a worker.
                raise ComputationCancelled(Said("stopped.before_start"))
            with cores.lease(threads=lane.threads):
                answer = gpu_task(lane.gpu_seconds)(compute)(run.progress, run.stop.is_set)
            if store is not None and key_is_named(run.key):
                # Stored before the run is forgotten, so a request arriving meanwhile finds one or the other.
                store.put(run.key, answer)
            return answer
        finally:
            with self._lock:
                if self._running.get(run.key) is run:
                    del self._running[run.key]

    def _finished(self, future: Future) -> None:
        with self._lock:
            self._unfinished.discard(future)

    def _watch(self, run: _Run, refresh_s: float) -> Iterator[tuple[str, Any]]:
        future, shown = run.future, None
        while not future.done():
            wait_for([future], timeout=refresh_s)
            if future.done():
                break
            latest = run.latest
            if not future.running():
                yield "queued", None
            elif latest is not None and latest is not shown:
                shown = latest
                yield "progress", latest
            else:
                yield "idle", None
        try:
            answer = future.result()
        except CancelledError:
            raise ComputationCancelled(Said("stopped.before_start")) from None
        yield "done", answer

    def _leave(self, run: _Run) -> None:
        with self._lock:
            run.followers -= 1
            if run.followers == 0 and not run.future.done():
                run.stop.set()
                # A computation nobody waits for is no longer joined by new requests.
                if self._running.get(run.key) is run:
                    del self._running[run.key]


def key_is_named(key) -> bool:
    """Whether a run's key was given by the caller (an anonymous run's key is a bare object)."""
    return type(key) is not object
