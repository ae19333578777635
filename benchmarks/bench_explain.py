"""How long each explanation takes with its default settings on PoolFormer-S12 at 224 px.

Prints, from one run on one machine: each captum method (Integrated Gradients, SmoothGrad,
Occlusion), deletion/insertion for four maps with the random baseline, ROAD for one map, the
cascading-randomisation check of Grad-CAM and a two-variant comparison. Target: each
attribution method within about 10 s on two CPU cores.

    python -m benchmarks.bench_explain               # run from the repository root
    python -m benchmarks.bench_explain --threads 1   # torch intra-op threads (default: torch's)
Architectures are the real ones with seeded random weights: the cost does not depend on the values.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

from poolformer_demo import ModelCache, analyze
from poolformer_demo.analysis import model_inputs
from poolformer_demo.attributions import DEFAULT_SETTINGS, PIXEL_METHODS
from poolformer_demo.comparison import compare
from poolformer_demo.faithfulness import FaithfulnessSettings, evaluate_faithfulness, road_scores
from poolformer_demo.sanity import cascading_randomization
from poolformer_demo.testing import build_checkpoint


def median_seconds(fn, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    image = Image.open(Path(__file__).resolve().parent.parent / "assets" / "examples" / "chelsea.jpg").convert("RGB")
    with tempfile.TemporaryDirectory() as weights:
        os.environ["POOLFORMER_WEIGHTS_DIR"] = weights
        for name in ("s12", "m36"):
            build_checkpoint(name, Path(weights) / f"poolformer_{name}")
        cache = ModelCache(capacity=2)
        loaded = cache.get("s12")
        x = model_inputs(loaded, image)
        target = 0
        analyze(image, "s12", target=target, cache=cache)  # warm-up
        print(
            f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.1f}, "
            f"median of {args.repeats} runs, s12 at 224 px"
        )
        maps = {"gradcam": analyze(image, "s12", target=target, cache=cache).stages[-1].cam}
        for name, method in PIXEL_METHODS.items():
            settings = DEFAULT_SETTINGS[name]
            result = method(loaded, x, target, settings)
            maps[name] = result.map
            seconds, times = median_seconds(lambda m=method, s=settings: m(loaded, x, target, s), args.repeats)
            shown = {k: v for k, v in result.settings.items() if k != "library"}
            print(f"  {result.title:22} {seconds:6.2f} s (fastest {min(times):.2f} s)  {shown}")
        faithfulness = FaithfulnessSettings()
        seconds, _ = median_seconds(
            lambda: evaluate_faithfulness(loaded.model, x, target, maps, faithfulness), args.repeats
        )
        print(
            f"  {'deletion + insertion':22} {seconds:6.2f} s  for {len(maps)} maps + "
            f"{faithfulness.random_orders} random orders, {faithfulness.steps} steps, batch {faithfulness.batch_size}"
        )
        seconds, _ = median_seconds(lambda: road_scores(loaded.model, x, target, {"gradcam": maps["gradcam"]}), 1)
        print(f"  {'ROAD (one map)':22} {seconds:6.2f} s  percentiles {faithfulness.road_percentiles}")
        seconds, _ = median_seconds(
            lambda: cascading_randomization(image, "s12", target=target, cache=cache), args.repeats
        )
        print(f"  {'sanity check, Grad-CAM':22} {seconds:6.2f} s  17 steps (head, 12 blocks, 4 embeddings)")
        cache.get("m36")
        seconds, _ = median_seconds(lambda: compare(image, "s12,m36", cache=cache), args.repeats)
        print(f"  {'compare s12, m36':22} {seconds:6.2f} s  both models already loaded")


if __name__ == "__main__":
    main()
