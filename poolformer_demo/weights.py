"""Where weights come from, and the cache that keeps loaded models.

Sources, in order, for a hub variant: a local folder `$POOLFORMER_WEIGHTS_DIR/poolformer_<v>/`
written by `save_pretrained`, then the hub id through `from_pretrained` (which uses the normal
Hugging Face cache and honours `HF_HUB_OFFLINE`). The bundled shapes model loads from `assets/`.
The image processor always comes from the same place as the model, because crop_pct differs
between checkpoints (0.9 for the s-variants, 0.95 for the m-variants).
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import torch
from transformers import AutoImageProcessor, PoolFormerForImageClassification
from transformers.image_processing_base import ImageProcessingMixin

from .device import compute_device
from .errors import WeightsUnavailableError, without_paths
from .i18n import Said
from .variants import VARIANTS, Variant, get_variant

WEIGHTS_DIR_ENV = "POOLFORMER_WEIGHTS_DIR"
REBUILD_BUNDLED = "python -m poolformer_demo.shapes train"
# A reachable hub answers well within this; a firewalled one must not stall a request.
HUB_PROBE_TIMEOUT_S = 3.0
# After this long the hub is probed again, so a network that comes or goes is noticed.
HUB_PROBE_TTL_S = 300.0


@dataclass(frozen=True)
class LoadedModel:
    variant: Variant
    model: PoolFormerForImageClassification
    processor: ImageProcessingMixin
    source: str
    """Where the weights came from, in words fit to show a user."""


class _HubProbe:
    """Finds out once (per TTL) whether the hub answers, instead of letting every
    `from_pretrained` call spend its own retries on an unreachable network.

    One caller probes at a time, without holding the lock through the network check: while a
    later probe runs, others get the last answer at once; before the first answer, they wait for
    it (at most the probe's timeout)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._checked_at: float | None = None
        self._reachable = False
        self._answered = threading.Event()
        self._probing = False
        self.probe_count = 0

    def reachable(self) -> bool:
        from huggingface_hub import constants

        if constants.HF_HUB_OFFLINE:
            return False
        with self._lock:
            now = time.monotonic()
            expired = self._checked_at is None or now - self._checked_at > HUB_PROBE_TTL_S
            probe = expired and not self._probing
            self._probing = self._probing or probe
            known = self._checked_at is not None
        if probe:
            reachable = False
            try:
                reachable = self._probe(constants.ENDPOINT)
            finally:
                with self._lock:
                    self._reachable, self._checked_at, self._probing = reachable, time.monotonic(), False
                    self.probe_count += 1
                self._answered.set()
            return reachable
        if not known:
            self._answered.wait(HUB_PROBE_TIMEOUT_S + 1)
        with self._lock:
            return self._reachable

    @staticmethod
    def _probe(endpoint: str) -> bool:
        import httpx

        try:
            httpx.head(endpoint, timeout=HUB_PROBE_TIMEOUT_S)
        except httpx.HTTPError:
            return False
        return True


hub_probe = _HubProbe()


def local_weights_dir(variant: Variant) -> Path | None:
    """The folder a user may fill with `save_pretrained` output, if the variable is set."""
    root = os.environ.get(WEIGHTS_DIR_ENV)
    if not root or variant.hub_id is None:
        return None
    return Path(root).expanduser() / variant.hub_id.split("/")[-1]


def _from_pretrained(source: str | Path, local_files_only: bool) -> tuple:
    # weights_only keeps a pickled .bin from running code on load; remote code is never trusted.
    model = PoolFormerForImageClassification.from_pretrained(
        source, local_files_only=local_files_only, weights_only=True, trust_remote_code=False
    )
    processor = AutoImageProcessor.from_pretrained(source, local_files_only=local_files_only, trust_remote_code=False)
    model.eval().requires_grad_(False)
    return model, processor


def load_model(variant: Variant | str) -> LoadedModel:
    """Load a variant's model and processor from the first source that has them.

    Raises WeightsUnavailableError naming what was tried and how to fix it.
    """
    variant = get_variant(variant) if isinstance(variant, str) else variant
    tried: list[str] = []

    if variant.bundled_dir is not None:
        if not (variant.bundled_dir / "config.json").is_file():
            raise WeightsUnavailableError(
                Said("error.weights.bundled_missing", model=variant.name),
                f"The bundled {variant.name!r} model is missing from assets/{variant.bundled_dir.name}/. "
                f"Rebuild it with `{REBUILD_BUNDLED}`.",
            )
        try:
            return LoadedModel(variant, *_from_pretrained(variant.bundled_dir, True), Said("weights.source.bundled"))
        except Exception as exc:  # whatever broke, the user gets one clear error
            raise WeightsUnavailableError(
                Said("error.weights.bundled_damaged", model=variant.name),
                f"The bundled {variant.name!r} model in {variant.bundled_dir.name}/ could not be "
                f"loaded ({_short(exc)}). Rebuild it with `{REBUILD_BUNDLED}`.",
            ) from exc

    local_dir = local_weights_dir(variant)
    # Messages reach the browser, so they name the variable, never the server's own paths.
    shown_dir = f"${WEIGHTS_DIR_ENV}/{local_dir.name}" if local_dir is not None else ""
    if local_dir is not None:
        if local_dir.is_dir():
            try:
                source = Said("weights.source.folder", folder=f"{shown_dir}/")
                return LoadedModel(variant, *_from_pretrained(local_dir, True), source)
            except Exception as exc:  # noqa: BLE001 - a broken folder is reported, and the hub tried next
                tried.append(f"the folder {shown_dir} ({_short(exc)})")
        else:
            tried.append(f"the folder {shown_dir} (it does not exist)")

    online = hub_probe.reachable()
    try:
        model, processor = _from_pretrained(variant.hub_id, local_files_only=not online)
        source = Said("weights.source.hub" if online else "weights.source.cache", hub=variant.hub_id)
        return LoadedModel(variant, model, processor, source)
    except Exception as exc:  # noqa: BLE001 - whatever broke is reported with the other sources tried
        where = "the hub" if online else "the Hugging Face cache (the hub is unreachable)"
        tried.append(f"{variant.hub_id} from {where} ({_short(exc)})")

    why = "error.weights.unavailable.online" if online else "error.weights.unavailable.offline"
    raise WeightsUnavailableError(
        Said(why, model=variant.name.upper(), help=Said("weights.help"), runs=what_runs_here(obtainable_variants())),
        f"No weights for PoolFormer-{variant.name.upper()}. Tried: {'; '.join(tried)}. "
        f"To fix: go online once so {variant.hub_id} is downloaded into the Hugging Face cache, "
        f"or save it with save_pretrained into ${WEIGHTS_DIR_ENV}/{variant.hub_id.split('/')[-1]}/.",
    )


def _short(exc: BaseException) -> str:
    """The first line of an exception's message, without server paths, for an error report."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return without_paths(text)[:160]


def weights_obtainable(variant: Variant) -> bool:
    """Whether `load_model` can be expected to find weights, without loading them."""
    if variant.bundled_dir is not None:
        return (variant.bundled_dir / "config.json").is_file()
    local_dir = local_weights_dir(variant)
    if local_dir is not None and (local_dir / "config.json").is_file():
        return True
    from huggingface_hub import try_to_load_from_cache

    try:
        if isinstance(try_to_load_from_cache(variant.hub_id, "config.json"), str):
            return True
    except Exception:  # noqa: BLE001 - an unreadable cache just means "not cached"
        pass
    return hub_probe.reachable()


def obtainable_variants() -> tuple[str, ...]:
    """The variants whose weights `load_model` can be expected to find, in the registry's order."""
    return tuple(name for name, variant in VARIANTS.items() if weights_obtainable(variant))


def what_runs_here(runnable: tuple[str, ...]) -> str:
    """One sentence for a visitor on the models that do run on this server."""
    if not runnable:
        return Said("weights.runs_here.none")
    names = tuple(
        f"PoolFormer-{name.upper()}"
        if VARIANTS[name].top1 is not None
        else Said("weights.runs_here.bundled", model=name)
        for name in runnable
    )
    return Said.plural("weights.runs_here", len(runnable), models=names)


class ModelCache:
    """A least-recently-used cache of loaded models.

    Requests for a variant being loaded wait for that one load, so it happens once; a request for
    a loaded variant, or for another one, never waits behind it (a download of M48 does not hold
    up the shapes model). At most one model per load in progress is in memory beyond
    `capacity`. The least recently used model is evicted only once a load has succeeded: a
    request for missing weights costs nobody a working model. Each model is moved to `device`
    (default: `device.compute_device()`, from $POOLFORMER_DEVICE) once, when it is loaded.
    """

    def __init__(self, capacity: int = 2, loader=load_model, device: torch.device | str | None = None) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.device = torch.device(device) if device is not None else compute_device()
        self._loader = loader
        self._models: OrderedDict[str, LoadedModel] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}
        self.load_counts: dict[str, int] = {}

    def get(self, variant: Variant | str) -> LoadedModel:
        variant = get_variant(variant) if isinstance(variant, str) else variant
        hit = self._lookup(variant.name)
        if hit is not None:
            return hit
        with self._lock:
            load_lock = self._loading.setdefault(variant.name, threading.Lock())
        with load_lock:
            hit = self._lookup(variant.name)
            if hit is not None:
                return hit
            loaded = self._loader(variant)
            # Loaders given by tests may hand back stand-ins without a model.
            if isinstance(getattr(loaded, "model", None), torch.nn.Module):
                loaded.model.to(self.device)
            with self._lock:
                while len(self._models) >= self.capacity:
                    self._models.popitem(last=False)
                self._models[variant.name] = loaded
                self.load_counts[variant.name] = self.load_counts.get(variant.name, 0) + 1
            return loaded

    def _lookup(self, name: str) -> LoadedModel | None:
        with self._lock:
            if name in self._models:
                self._models.move_to_end(name)
                return self._models[name]
        return None

    def cached_variants(self) -> list[str]:
        with self._lock:
            return list(self._models)

    def runnable_variants(self) -> tuple[str, ...]:
        """The variants that can run on this server now (loaded, or weights that can be had), in
        the registry's order: what the menus offer as runnable and the pages fall back on."""
        cached = set(self.cached_variants())
        return tuple(name for name, variant in VARIANTS.items() if name in cached or weights_obtainable(variant))


CACHE_SIZE_ENV = "POOLFORMER_CACHE_SIZE"


def cache_from_environment() -> ModelCache:
    """A new cache sized by $POOLFORMER_CACHE_SIZE (default 2), read when it is called."""
    return ModelCache(capacity=int(os.environ.get(CACHE_SIZE_ENV, "2")))


@functools.lru_cache(maxsize=1)
def shared_cache() -> ModelCache:
    """The process-wide cache that `analyze` uses when it is given none (the CLI, the library)."""
    return cache_from_environment()
