"""Real PoolFormer checkpoints with seeded random weights, saved as users have them.

Used by the tests and the benchmarks, which run without the hub: the architectures are the
released ones, only the weights are random.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from transformers import PoolFormerConfig, PoolFormerForImageClassification, PoolFormerImageProcessor

from .variants import get_variant

FAKE_COMMIT = "0123456789abcdef0123456789abcdef01234567"
# A handful of readable names, so tests can target classes by label and by synonym.
NAMED_LABELS = {0: "tench, Tinca tinca", 1: "goldfish, Carassius auratus", 281: "tabby, tabby cat", 282: "tiger cat"}


def id2label(num_labels: int = 1000) -> dict[int, str]:
    return {i: NAMED_LABELS.get(i, f"class {i}") for i in range(num_labels)}


def build_checkpoint(variant_name: str, folder: Path, seed: int = 0) -> Path:
    """Save a real-architecture, random-weight checkpoint with the processor its release uses."""
    variant = get_variant(variant_name)
    torch.manual_seed(seed)
    config = PoolFormerConfig(
        depths=list(variant.depths),
        hidden_sizes=list(variant.hidden_sizes),
        num_labels=1000,
        id2label=id2label(),
        label2id={v: k for k, v in id2label().items()},
        # The released checkpoints' layer scales are far from the 1e-5 init; 1e-5 would make
        # every block an identity and hide mistakes in how stages are read.
        layer_scale_init_value=0.1,
    )
    model = PoolFormerForImageClassification(config)
    model.save_pretrained(folder)
    PoolFormerImageProcessor(crop_pct=variant.crop_pct).save_pretrained(folder)
    return folder


def install_in_hf_cache(checkpoint: Path, hub_id: str, hub_cache: Path) -> Path:
    """Lay out a checkpoint as huggingface_hub's cache does after a download."""
    repo = hub_cache / f"models--{hub_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / FAKE_COMMIT
    snapshot.mkdir(parents=True, exist_ok=True)
    for file in checkpoint.iterdir():
        (snapshot / file.name).write_bytes(file.read_bytes())
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(FAKE_COMMIT)
    return snapshot


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` intra-op threads, then restore the previous number.

    Tiny models train fastest on one thread: on a busy machine a second one made each step ~10x slower.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def interleaved_medians(functions: dict, repeats: int) -> dict[str, tuple[float, float]]:
    """Median wall-clock and process CPU seconds of each function, run round-robin so that load
    from elsewhere on the machine falls on all of them alike. On a shared machine the CPU time is
    the steadier of the two (with several threads it also counts their waiting)."""
    for fn in functions.values():
        fn()  # warm-up: first calls allocate and pick kernels
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in functions}
    for _ in range(repeats):
        for name, fn in functions.items():
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {
        name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
        for name, values in times.items()
    }


def model_passes(model, pixel_values: torch.Tensor) -> dict:
    """The bare model's costs that an analysis is compared with: a forward, and a forward plus
    the backward from one logit to the four stages' hidden states."""

    def forward():
        with torch.no_grad():
            model(pixel_values=pixel_values)

    def forward_backward():
        x = pixel_values.clone().requires_grad_(True)
        outputs = model(pixel_values=x, output_hidden_states=True)
        torch.autograd.grad(outputs.logits[0, 0], outputs.hidden_states)

    return {"forward": forward, "forward+backward": forward_backward}


def decode_data_uri(uri: str):
    """The picture inlined in a PNG, JPEG or WebP `data:` URI, as a PIL image."""
    import base64
    import io

    from PIL import Image

    header, payload = uri.split(",", 1)
    if header not in ("data:image/png;base64", "data:image/jpeg;base64", "data:image/webp;base64"):
        raise ValueError(f"not an inlined PNG, JPEG or WebP: {header!r}")
    return Image.open(io.BytesIO(base64.b64decode(payload)))


def wait_until(condition, timeout_s: float, poll_s: float = 0.01) -> bool:
    """Poll `condition` until it holds or `timeout_s` passes; whether it held (tests wait on a
    condition rather than for a fixed time)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return bool(condition())


def forward_hook_count(model: torch.nn.Module) -> int:
    """How many forward and forward-pre hooks the model's modules hold, for tests that check a
    recording leaves none behind. torch has no public way to list hooks; its per-module dictionaries
    are read here, in one place."""
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
