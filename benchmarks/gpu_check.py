"""Every core entry point on CUDA against the CPU, and how long s12 and m48 take on each.

For a machine with a CUDA GPU (it refuses to run without one). Prints, per entry point, the
largest absolute difference between its CUDA and CPU results (maps, curves, probabilities), then
a table of median seconds on each device for s12 and m48: analyze, each captum method with its
default settings, deletion/insertion, the sanity check of Grad-CAM, and a short lab run. The
ZeroGPU durations in the app (`ui.kit.runs.GPU_SECONDS`, one per lane) are meant to
be set from the m48 column.

    python -m benchmarks.gpu_check               # from the repository root
    python -m benchmarks.gpu_check --repeats 5

Architectures are the real ones with seeded random weights (poolformer_demo.testing).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from poolformer_demo import ModelCache, analyze, block_anatomy, receptive_field
from poolformer_demo.attributions import DEFAULT_SETTINGS, PIXEL_METHODS
from poolformer_demo.blocks import model_inputs
from poolformer_demo.device import DEVICE_ENV, compute_device
from poolformer_demo.explanation import explain
from poolformer_demo.faithfulness import FaithfulnessSettings, evaluate_faithfulness, road_scores
from poolformer_demo.knockouts import Knockouts
from poolformer_demo.sanity import cascading_randomization
from poolformer_demo.shapes.lab import LabConfig, run_lab
from poolformer_demo.testing import build_checkpoint

PHOTO = Path(__file__).resolve().parent.parent / "assets" / "examples" / "chelsea.jpg"
DEVICES = ("cpu", "cuda")
# Small enough that the lab's two runs take seconds on either device.
LAB = {"arms": ("pooling",), "steps": 30, "seeds": (0,), "config": LabConfig(train_size=256, eval_size=64)}


def arrays(value) -> list[np.ndarray]:
    """Every number in a result, as arrays in a fixed order (dataclasses, dicts, tuples walked)."""
    if isinstance(value, np.ndarray):
        return [value.astype(np.float64)]
    if isinstance(value, torch.Tensor):
        return [value.detach().cpu().double().numpy()]
    if isinstance(value, (float, int, np.floating)) and not isinstance(value, bool):
        return [np.asarray(float(value))]
    if isinstance(value, dict):
        return [a for key in sorted(value, key=str) for a in arrays(value[key])]
    if isinstance(value, (tuple, list)):
        return [a for item in value for a in arrays(item)]
    if hasattr(value, "__dataclass_fields__"):
        # Timings differ by device; they are not results.
        fields = [f for f in value.__dataclass_fields__ if f not in ("seconds",)]
        return [a for f in fields for a in arrays(getattr(value, f))]
    return []


def largest_difference(a, b) -> tuple[float, float]:
    """(largest |a - b|, the largest of it relative to the size of that array of b): activations of
    random-weight models reach 1e4 and more, so an absolute difference alone says little."""
    left, right = arrays(a), arrays(b)
    if len(left) != len(right):
        return float("inf"), float("inf")
    pairs = [(float(np.max(np.abs(x - y))), float(np.max(np.abs(y)))) for x, y in zip(left, right) if x.size]
    absolute = max((d for d, _ in pairs), default=0.0)
    relative = max((d / size if size else d for d, size in pairs), default=0.0)
    return absolute, relative


def entry_points(cache: ModelCache, image: Image.Image) -> dict:
    """name -> a call returning that entry point's result on `cache`'s device (seeded where random)."""
    loaded = cache.get("s12")
    x = model_inputs(loaded, image)
    target = int(loaded.model(pixel_values=x).logits.argmax())
    maps = {"gradcam": analyze(image, "s12", target=target, cache=cache).stages[-1].cam}
    small = FaithfulnessSettings(steps=10, random_orders=2)
    return {
        # The class is fixed: a random-weight model's near-tied logits may rank differently on each device.
        "analyze (CAM family, views)": lambda: analyze(image, "s12", target=target, cache=cache).stages,
        **{
            f"attribution: {name}": (lambda m=method, s=DEFAULT_SETTINGS[name]: m(loaded, x, target, s).map)
            for name, method in PIXEL_METHODS.items()
        },
        "explain (gradcam, ig)": lambda: (
            explain(image, "s12", target=target, methods="gradcam,ig", cache=cache).attributions
        ),
        "deletion + insertion": lambda: evaluate_faithfulness(loaded.model, x, target, maps, small),
        "ROAD": lambda: road_scores(loaded.model, x, target, maps, (20, 80)),
        "sanity (Grad-CAM, stages)": lambda: cascading_randomization(
            image, "s12", target=target, granularity="stage", cache=cache
        ),
        "anatomy (stage 2, block 1)": lambda: block_anatomy(image, "s12", stage=2, block=1, cache=cache),
        "knockouts (mixer off in stage 4)": lambda: (
            analyze(image, "s12", target=target, cache=cache, knockouts=Knockouts(mixer=(4,))).stages
        ),
        "receptive field (stage 3)": lambda: receptive_field(image, "s12", stage=3, y=3, x=3, cache=cache).erf,
        "lab training (30 steps)": lambda: [run.curve for run in run_lab(**LAB).runs_of("pooling")],
    }


def timed(function, device: str, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        function()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def use_device(device: str) -> None:
    # The lab picks its device from the process setting; the caches are given theirs.
    os.environ[DEVICE_ENV] = device
    compute_device.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--differences-only", action="store_true", help="skip the timings")
    parser.add_argument(
        "--no-tf32", action="store_true", help="convolutions in full float32 on CUDA (cuDNN uses TF32 by default)"
    )
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit("No CUDA GPU here: this check compares CUDA with the CPU, so it needs one.")
    image = Image.open(PHOTO).convert("RGB")
    if args.no_tf32:
        torch.backends.cudnn.allow_tf32 = False
    print(
        f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name()}, {os.cpu_count()} CPUs, "
        f"cuDNN TF32 {'on' if torch.backends.cudnn.allow_tf32 else 'off'}"
    )
    with tempfile.TemporaryDirectory() as weights:
        os.environ["POOLFORMER_WEIGHTS_DIR"] = weights
        for name in ("s12", "m48"):
            build_checkpoint(name, Path(weights) / f"poolformer_{name}")
        caches = {device: ModelCache(capacity=2, device=device) for device in DEVICES}

        print("\nlargest |CUDA - CPU| per entry point (s12), and relative to the largest |CPU value| of its array")
        results = {}
        for device in DEVICES:
            use_device(device)
            results[device] = {name: call() for name, call in entry_points(caches[device], image).items()}
        for name in results["cpu"]:
            absolute, relative = largest_difference(results["cuda"][name], results["cpu"][name])
            print(f"  {name:36} {absolute:10.3g} {relative:10.3g}")
        if args.differences_only:
            return

        print(f"\nmedian seconds of {args.repeats} (after one warm-up), 224 px")
        print(f"  {'':36} {'variant':>7} {'CPU':>9} {'CUDA':>9} {'speed-up':>9}")
        for variant in ("s12", "m48"):
            rows = {}
            for device in DEVICES:
                use_device(device)
                cache = caches[device]
                loaded = cache.get(variant)
                x = model_inputs(loaded, image)
                jobs = {
                    "analyze": lambda c=cache, v=variant: analyze(image, v, cache=c),
                    **{
                        f"attribution: {name}": (
                            lambda m=method, s=DEFAULT_SETTINGS[name], ld=loaded, xx=x: m(ld, xx, 0, s)
                        )
                        for name, method in PIXEL_METHODS.items()
                    },
                    "deletion + insertion (1 map)": lambda ld=loaded, xx=x: evaluate_faithfulness(
                        ld.model, xx, 0, {"m": np.random.default_rng(0).random(xx.shape[-2:])}, FaithfulnessSettings()
                    ),
                    "sanity (Grad-CAM, blocks)": lambda c=cache, v=variant: cascading_randomization(
                        image, v, target=0, cache=c
                    ),
                }
                for name, job in jobs.items():
                    job()
                    rows.setdefault(name, {})[device] = timed(job, device, args.repeats)
            for name, by_device in rows.items():
                cpu, cuda = by_device["cpu"], by_device["cuda"]
                print(f"  {name:36} {variant:>7} {cpu:8.3f}s {cuda:8.3f}s {cpu / cuda:8.1f}x")
        lab = {}
        for device in DEVICES:
            use_device(device)
            lab[device] = timed(lambda: run_lab(**LAB), device, 1)
        print(f"  {'lab training (30 steps)':36} {'tiny':>7} {lab['cpu']:8.3f}s {lab['cuda']:8.3f}s")


if __name__ == "__main__":
    main()
