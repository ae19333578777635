"""How long each explanation takes with its default settings on PoolFormer-S12 at 224 px.

Prints, from one run on one machine, the median wall-clock and process CPU seconds (on a shared
machine the CPU time is the steadier) of: each captum method (Integrated Gradients, SmoothGrad,
Occlusion), deletion/insertion for four maps with the random baseline, ROAD for one map, the
cascading-randomisation check of Grad-CAM and a two-variant comparison. Target: each
attribution method within about 10 s on two CPU cores.

    python -m benchmarks.bench_explain               # run from the repository root
    python -m benchmarks.bench_explain --threads 1   # torch intra-op threads (default: torch's)
    python -m benchmarks.bench_explain --write assets/timings.json   # the times the Explain tab quotes
Architectures are the real ones with seeded random weights: the cost does not depend on the values.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import torch
from PIL import Image

from poolformer_demo import ModelCache, analyze
from poolformer_demo.analysis import model_inputs
from poolformer_demo.attributions import DEFAULT_SETTINGS, PIXEL_METHODS
from poolformer_demo.comparison import compare
from poolformer_demo.faithfulness import FaithfulnessSettings, evaluate_faithfulness, road_scores
from poolformer_demo.sanity import cascading_randomization
from poolformer_demo.testing import build_checkpoint, interleaved_medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--write", type=Path, default=None, help="write the wall-clock medians as timings JSON")
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
        results = {name: method(loaded, x, target, DEFAULT_SETTINGS[name]) for name, method in PIXEL_METHODS.items()}
        maps.update({name: result.map for name, result in results.items()})
        cache.get("m36")
        faithfulness = FaithfulnessSettings()
        sanity_steps = len(cascading_randomization(image, "s12", target=target, cache=cache).steps)
        jobs = {
            **{
                results[name].title: (lambda m=method, s=DEFAULT_SETTINGS[name]: m(loaded, x, target, s))
                for name, method in PIXEL_METHODS.items()
            },
            "deletion + insertion": lambda: evaluate_faithfulness(loaded.model, x, target, maps, faithfulness),
            "ROAD (one map)": lambda: road_scores(loaded.model, x, target, {"gradcam": maps["gradcam"]}),
            "sanity check, Grad-CAM": lambda: cascading_randomization(image, "s12", target=target, cache=cache),
            "compare s12, m36": lambda: compare(image, "s12,m36", cache=cache),
        }
        notes = {
            **{r.title: str({k: v for k, v in r.settings.items() if k != "library"}) for r in results.values()},
            "deletion + insertion": f"{len(maps)} maps + {faithfulness.random_orders} random orders, "
            f"{faithfulness.steps} steps, batch {faithfulness.batch_size}",
            "ROAD (one map)": f"percentiles {faithfulness.road_percentiles}",
            "sanity check, Grad-CAM": f"{sanity_steps} steps",
            "compare s12, m36": "both models already loaded",
        }
        print(f"{'':24} {'wall':>8} {'CPU':>8}")
        medians = interleaved_medians(jobs, args.repeats)
        for name, (wall, cpu) in medians.items():
            print(f"  {name:22} {wall:7.2f}s {cpu:7.2f}s  {notes[name]}")
    if args.write:
        seconds = {name: round(medians[results[name].title][0], 2) for name in PIXEL_METHODS}
        seconds["faithfulness"] = round(medians["deletion + insertion"][0], 2)
        seconds["sanity_cam"] = round(medians["sanity check, Grad-CAM"][0], 2)
        timings = {
            "variant": "s12",
            "crop_px": int(x.shape[-1]),
            "how": f"benchmarks/bench_explain.py: direct calls, {torch.get_num_threads()} threads, median of "
            f"{args.repeats}, load average {os.getloadavg()[0]:.1f} at the start",
            "seconds": seconds,
            "faithfulness": {
                "maps": len(maps),
                "steps": faithfulness.steps,
                "random_orders": faithfulness.random_orders,
            },
            "sanity_cam_steps": sanity_steps,
        }
        args.write.write_text(json.dumps(timings, indent=2) + "\n")
        print(f"-> {args.write}")


if __name__ == "__main__":
    main()
