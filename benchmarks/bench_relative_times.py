"""How long each pixel explanation takes on the bundled models, as a share of its time on
PoolFormer-S12 at 224 px, measured in one run (interleaved, one thread each, as one request of the
app runs on a busy server).

assets/timings.json holds S12's measured seconds; the Explain tab quotes another model's expected
time as S12's seconds times the share measured here, so it never quotes S12's time for a model
that is not S12. With `--write`, the shares are written to timings.json's "relative".

    python -m benchmarks.bench_relative_times            # run from the repository root
    python -m benchmarks.bench_relative_times --write

S12's weights are the real architecture with seeded random weights (the cost does not depend on
the values); the bundled models are the shipped ones.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from PIL import Image

from poolformer_demo import ModelCache
from poolformer_demo.analysis import model_inputs
from poolformer_demo.attributions import DEFAULT_SETTINGS, PIXEL_METHODS
from poolformer_demo.testing import build_checkpoint, interleaved_medians, torch_threads
from poolformer_demo.variants import ASSETS_DIR, PAIRS_VARIANT_NAME, SHAPES_VARIANT_NAME

TIMINGS = ASSETS_DIR / "timings.json"
EXAMPLES = ASSETS_DIR / "examples"
PICTURES = {"s12": "chelsea.jpg", SHAPES_VARIANT_NAME: "shapes_star.png", PAIRS_VARIANT_NAME: "pairs_same_0.png"}
BUNDLED = (SHAPES_VARIANT_NAME, PAIRS_VARIANT_NAME)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="runs of each method on each model (median)")
    parser.add_argument("--write", action="store_true", help="write the shares to assets/timings.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as weights, torch_threads(1):
        os.environ["POOLFORMER_WEIGHTS_DIR"] = weights
        build_checkpoint("s12", Path(weights) / "poolformer_s12")
        cache = ModelCache(capacity=3)
        jobs = {}
        for variant, picture in PICTURES.items():
            loaded = cache.get(variant)
            x = model_inputs(loaded, Image.open(EXAMPLES / picture).convert("RGB"))
            for name, method in PIXEL_METHODS.items():
                jobs[(variant, name)] = lambda m=method, model=loaded, x=x, s=DEFAULT_SETTINGS[name]: m(model, x, 0, s)
        medians = interleaved_medians(jobs, args.repeats)
    print(f"load average {os.getloadavg()[0]:.1f}; one thread; CPU seconds, median of {args.repeats}, interleaved")
    relative = {}
    for variant in BUNDLED:
        relative[variant] = {}
        for name in PIXEL_METHODS:
            share = medians[(variant, name)][1] / medians[("s12", name)][1]
            relative[variant][name] = round(share, 3)
            print(
                f"  {variant:7} {name:11} {medians[(variant, name)][1]:6.2f} s  "
                f"s12 {medians[('s12', name)][1]:6.2f} s  share {share:.3f}"
            )
    if args.write:
        timings = json.loads(TIMINGS.read_text())
        timings["relative"] = relative
        TIMINGS.write_text(json.dumps(timings, indent=2) + "\n")
        print(f"written to {TIMINGS}")


if __name__ == "__main__":
    main()
