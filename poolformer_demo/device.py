"""Where the computations run: a CUDA GPU when there is one, else the CPU, chosen once per process.

`POOLFORMER_DEVICE` = `auto` (default: CUDA when torch finds it), `cpu` or `cuda`. The model cache
moves each model there; inputs are moved where they are made; pictures and JSON are built from CPU
copies. On Hugging Face ZeroGPU Spaces a GPU is lent per call: `gpu_task` wraps a compute call in
the `spaces` package's `@spaces.GPU` there and is a no-op everywhere else.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import torch

from .errors import DeviceUnavailableError

DEVICE_ENV = "POOLFORMER_DEVICE"
DEVICE_CHOICES = ("auto", "cpu", "cuda")


def choose_device(setting: str | None = None) -> torch.device:
    """The device a setting names (None or "" mean auto); DeviceUnavailableError if it cannot run here."""
    setting = (setting or "auto").strip().lower()
    if setting not in DEVICE_CHOICES:
        raise DeviceUnavailableError(
            f"{DEVICE_ENV}={setting!r} is not a device: use one of {', '.join(DEVICE_CHOICES)}."
        )
    cuda = torch.cuda.is_available()
    if setting == "cuda" and not cuda:
        built = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "built without CUDA"
        raise DeviceUnavailableError(
            f"{DEVICE_ENV}=cuda, but torch {torch.__version__} ({built}) finds no CUDA GPU on this machine. "
            f"Set {DEVICE_ENV}=cpu (or auto) to run on the CPU."
        )
    if setting == "auto":
        return torch.device("cuda" if cuda else "cpu")
    return torch.device(setting)


@functools.lru_cache(maxsize=1)
def compute_device() -> torch.device:
    """The process's device, from $POOLFORMER_DEVICE, chosen on first use and kept."""
    return choose_device(os.environ.get(DEVICE_ENV))


def on_device(tensor: torch.Tensor, like: torch.nn.Module | torch.Tensor) -> torch.Tensor:
    """`tensor` on the device (and, for a model, in the dtype) of `like`."""
    if isinstance(like, torch.nn.Module):
        parameter = next(like.parameters())
        return tensor.to(parameter.device, parameter.dtype)
    return tensor.to(like.device)


def gpu_task(duration_s: float) -> Callable[[Callable], Callable]:
    """`@spaces.GPU(duration=duration_s)` on a ZeroGPU Space, nothing elsewhere.

    ZeroGPU attaches a GPU only inside such a call and bills the duration asked for, so it is set
    from measured times (`benchmarks/gpu_check.py`); what crosses the call must be CPU data.
    """
    try:
        import spaces  # the Hugging Face Spaces helper; installed only on Spaces
    except ImportError:
        return lambda function: function
    return spaces.GPU(duration=duration_s)
