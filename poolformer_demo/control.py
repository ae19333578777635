"""What every long computation shares: how it reports progress, how it is asked to stop, and
how it draws random numbers reproducibly.

This module imports nothing from the package, so every computation (attributions, faithfulness,
the sanity check, the lab) and the page's background runner can use the same types.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable

import torch

from .errors import ComputationCancelled

ProgressCallback = Callable[[float, str], None]
"""Called as progress(fraction done in [0, 1], what is running); gradio's gr.Progress fits."""
StopCheck = Callable[[], bool]
"""Returns True once the computation should stop; it then raises ComputationCancelled."""


def check_stop(should_stop: StopCheck | None, message: str) -> None:
    """Raise ComputationCancelled(message) if the caller asked to stop."""
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
    """Run with torch's global generator seeded, restoring it afterwards. captum's NoiseTunnel
    and pytorch-grad-cam's ROAD imputer draw from the global generator; the lock keeps two
    requests from reseeding it under each other."""
    with _SEEDED, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
