"""What every long computation shares: how it reports progress, how it is asked to stop, and
how it draws random numbers reproducibly.

This module imports nothing from the package, so every computation (attributions, faithfulness,
the sanity check, the lab) and the page's background runner can use the same types.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable

import torch

from .errors import ComputationCancelled

ProgressCallback = Callable[[float, str], None]
"""Called as progress(fraction done in [0, 1], what is running); gradio's gr.Progress fits."""
StopCheck = Callable[[], bool]
"""Returns True once the computation should stop; it then raises ComputationCancelled."""


def check_stop(should_stop: StopCheck | None, message: str) -> None:
    """Raise ComputationCancelled(message) if the caller asked to stop. Called between batches,
    it is also where a computation takes its current share of the cores (`CoreShare`)."""
    cores.rebalance()
    if should_stop is not None and should_stop():
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


class CoreShare:
    """The CPU cores shared between the computations running at once.

    With torch's OpenMP backend each thread keeps its own intra-op thread count, so a computation
    running alone can use every core while two at once get half each, without one's threads
    waiting on the other's. A computation takes its share on entering `lease()` and takes the
    current share again each time it calls `rebalance()` (between its batches), so the first one
    gives up cores soon after a second starts and takes them back when it ends.
    """

    def __init__(self, cores: int | None = None) -> None:
        self.cores = max(1, cores or os.cpu_count() or 1)
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
        if not getattr(self._leased, "depth", 0):
            return
        share = self.share()
        if torch.get_num_threads() != share:
            torch.set_num_threads(share)

    @contextlib.contextmanager
    def lease(self):
        """Count the calling thread's computation as running while the block runs."""
        depth = getattr(self._leased, "depth", 0)
        if depth:
            # A computation inside another (explain() inside a sanity step) is the same one.
            yield self
            return
        previous = torch.get_num_threads()
        with self._lock:
            self._active += 1
        self._leased.depth = 1
        try:
            self.rebalance()
            yield self
        finally:
            self._leased.depth = 0
            with self._lock:
                self._active -= 1
            torch.set_num_threads(previous)


cores = CoreShare()
"""The process's cores, shared by every computation the server runs."""
