"""What every long computation shares: how it reports progress, how it is asked to stop, and
how it draws random numbers reproducibly.

This module imports nothing from the package, so every computation (attributions, faithfulness,
the sanity check, the lab) and the page's background runner can use the same types.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable

import torch

from .errors import ComputationCancelled

ProgressCallback = Callable[[float, str], None]
"""Called as progress(fraction done in [0, 1], what is running); gradio's gr.Progress fits."""
StopCheck = Callable[[], bool]
"""Returns True once the computation should stop; it then raises ComputationCancelled."""


def stop_requested(should_stop: StopCheck | None) -> bool:
    """Whether the caller asked to stop; `should_stop` is a callable or a flag with `is_set` (such as
    `threading.Event`). Asked between batches, it is also where a computation takes its current
    share of the cores (`CoreShare`)."""
    cores.rebalance()
    if should_stop is None:
        return False
    return bool(should_stop.is_set() if hasattr(should_stop, "is_set") else should_stop())


def check_stop(should_stop: StopCheck | None, message: str) -> None:
    """Raise ComputationCancelled(message) if the caller asked to stop (see `stop_requested`)."""
    if stop_requested(should_stop):
        raise ComputationCancelled(message)


def part_progress(progress: ProgressCallback | None, index: int, parts: int) -> ProgressCallback | None:
    """The progress of part `index` of `parts` equal parts, as a fraction of the whole."""
    if progress is None:
        return None
    return lambda fraction, title: progress((index + fraction) / parts, title)


_SEEDED = threading.Lock()


@contextlib.contextmanager
def seeded(seed: int):
    """Run with torch's global generator seeded, restoring it afterwards, for code that draws from
    it and cannot be given a generator (a model's own weight initialisation). The lock keeps two
    requests from reseeding it under each other, so hold it only around the draw itself, never
    around a whole method: methods that need noise draw it from a `torch.Generator` of their own."""
    with _SEEDED, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@functools.lru_cache(maxsize=1)
def per_thread_counts() -> bool:
    """Whether torch's intra-op thread count is kept per thread (its OpenMP backend). Other backends
    share one pool across threads: setting the count there would change every computation's."""
    return "parallel backend: OpenMP" in torch.__config__.parallel_info()


def set_own_thread_count(count: int) -> None:
    """Give the calling thread `count` intra-op threads and leave the count that threads started
    later take as it was. With OpenMP, `set_num_threads` also sets that default, so it is put back
    at once from a helper thread (which changes only its own count besides the default)."""
    default = torch.get_num_threads()
    torch.set_num_threads(count)
    helper = threading.Thread(target=torch.set_num_threads, args=(default,), name="torch-threads-default")
    helper.start()
    helper.join()


class CoreShare:
    """The CPU cores shared between the computations running at once.

    With torch's OpenMP backend each thread keeps its own intra-op thread count, so a computation
    running alone can use every core while two at once get half each, without one's threads
    waiting on the other's. A computation takes its share on entering `lease()` and takes the
    current share again each time it calls `rebalance()` (between its batches, through
    `check_stop`), so the first one gives up cores soon after a second starts and takes them back
    when it ends. A lease may ask for a fixed count instead (`threads=`): it is counted as running,
    but keeps its count. With another backend the counts are left alone.
    """

    def __init__(self, cores: int | None = None, per_thread: bool | None = None) -> None:
        self.cores = max(1, cores or os.cpu_count() or 1)
        self.per_thread = per_thread_counts() if per_thread is None else per_thread
        self._active = 0
        self._lock = threading.Lock()
        self._leased = threading.local()

    @property
    def active(self) -> int:
        with self._lock:
            return self._active

    def share(self) -> int:
        """The intra-op threads one running computation gets now."""
        with self._lock:
            return max(1, self.cores // max(1, self._active))

    def rebalance(self) -> None:
        """Give the calling thread its current share, if it holds a lease and the share changed;
        threads without one (a CLI run with its own thread count) are left alone."""
        if not getattr(self._leased, "depth", 0) or not self.per_thread:
            return
        fixed = getattr(self._leased, "fixed", None)
        if fixed is not None:
            if torch.get_num_threads() != fixed:
                set_own_thread_count(fixed)
            return
        share = self.share()
        if torch.get_num_threads() != share:
            torch.set_num_threads(share)

    @contextlib.contextmanager
    def lease(self, threads: int | None = None):
        """Count the calling thread's computation as running while the block runs; with `threads`,
        it runs on that many intra-op threads whatever the share."""
        depth = getattr(self._leased, "depth", 0)
        if depth:
            # A computation inside another (explain() inside a sanity step) is the same one.
            yield self
            return
        previous = torch.get_num_threads()
        with self._lock:
            self._active += 1
        self._leased.depth, self._leased.fixed = 1, threads
        try:
            self.rebalance()
            yield self
        finally:
            self._leased.depth, self._leased.fixed = 0, None
            with self._lock:
                self._active -= 1
            if self.per_thread:
                torch.set_num_threads(previous)


cores = CoreShare()
"""The process's cores, shared by every computation the server runs."""
