"""How much analyze() costs over the model itself, and over doing Grad-CAM with captum.

Prints, from one run on one machine: a bare forward, a forward+backward to the four stage
hidden states, the full analyze() (preprocessing, one forward, one backward, Grad-CAM and all
rendering) and captum's LayerGradCam on each of the four stages; then the ratios.
Targets: analyze <= 1.3x forward+backward, and >= 4x faster than the four captum passes.

    python -m benchmarks.bench_analyze            # s12 (run from the repository root)
    python -m benchmarks.bench_analyze --m48      # also m48
    python -m benchmarks.bench_analyze --bundled  # the bundled pairs model against the shapes model
Architectures are the real ones with seeded random weights: the cost does not depend on the values.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import torch
from captum.attr import LayerGradCam
from PIL import Image

from poolformer_demo import ModelCache, analyze
from poolformer_demo.testing import build_checkpoint, interleaved_medians, model_passes


def bench_variant(name: str, image: Image.Image, repeats: int) -> dict[str, float]:
    cache = ModelCache(capacity=1)
    loaded = cache.get(name)
    model = loaded.model
    pixel_values = loaded.processor(images=image, return_tensors="pt")["pixel_values"]
    blocks = [stage[-1] for stage in model.poolformer.encoder.block]

    def full_analyze():
        analyze(image, name, target=0, cache=cache)

    def captum_four_stages():
        for block in blocks:
            LayerGradCam(lambda t: model(t).logits, block).attribute(pixel_values, target=0, relu_attributions=True)

    medians = interleaved_medians(
        {
            **model_passes(model, pixel_values),
            "analyze (full)": full_analyze,
            "captum LayerGradCam x4": captum_four_stages,
        },
        repeats,
    )
    return {name: wall for name, (wall, _) in medians.items()}


def bench_bundled(repeats: int) -> None:
    """analyze() on the bundled pairs model against the bundled shapes model, each on its own example."""
    examples = Path(__file__).resolve().parent.parent / "assets" / "examples"
    cache = ModelCache(capacity=2)
    shapes = Image.open(examples / "shapes_star.png").convert("RGB")
    pairs = Image.open(examples / "pairs_same_0.png").convert("RGB")
    medians = interleaved_medians(
        {
            "shapes model": lambda: analyze(shapes, "shapes", cache=cache),
            "pairs model": lambda: analyze(pairs, "pairs", cache=cache),
        },
        repeats,
    )
    for label, (wall, cpu) in medians.items():
        print(f"  analyze, {label:14} {wall * 1000:8.1f} ms wall  {cpu * 1000:8.1f} ms CPU")
    ratio = medians["pairs model"][0] / medians["shapes model"][0]
    print(f"  pairs / shapes               {ratio:5.2f}x  (target <= 1.00x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--m48", action="store_true", help="also benchmark m48")
    parser.add_argument("--bundled", action="store_true", help="only the bundled pairs model against the shapes model")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    if args.bundled:
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.repeats} runs")
        bench_bundled(args.repeats)
        return

    variants = ["s12", "m48"] if args.m48 else ["s12"]
    image = Image.open(Path(__file__).resolve().parent.parent / "assets" / "examples" / "chelsea.jpg").convert("RGB")
    with tempfile.TemporaryDirectory() as weights:
        os.environ["POOLFORMER_WEIGHTS_DIR"] = weights
        for name in variants:
            build_checkpoint(name, Path(weights) / f"poolformer_{name}")
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.repeats} runs")
        for name in variants:
            timings = bench_variant(name, image, args.repeats)
            print(f"\n{name}")
            for label, seconds in timings.items():
                print(f"  {label:24} {seconds * 1000:8.1f} ms")
            overhead = timings["analyze (full)"] / timings["forward+backward"]
            speedup = timings["captum LayerGradCam x4"] / timings["analyze (full)"]
            print(f"  analyze / forward+backward   {overhead:5.2f}x  (target <= 1.30x)")
            print(f"  captum x4 / analyze          {speedup:5.2f}x  (target >= 4.00x)")


if __name__ == "__main__":
    main()
