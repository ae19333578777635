"""What one "inside the block" request costs: a block anatomy, a knockout analysis and a
receptive field, beside a plain forward, forward+backward and analyze() on the same machine.

    python -m benchmarks.bench_anatomy            # s12 (run from the repository root)
Architectures are the real ones with seeded random weights: the cost does not depend on the values.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import torch
from PIL import Image

from benchmarks.bench_analyze import interleaved_medians
from poolformer_demo import ModelCache, analyze, render
from poolformer_demo.anatomy import Knockouts, block_anatomy, receptive_field, shared_copy
from poolformer_demo.testing import build_checkpoint


def bench(name: str, image: Image.Image, repeats: int) -> dict[str, float]:
    cache = ModelCache(capacity=1)
    loaded = cache.get(name)
    model = loaded.model
    pixel_values = loaded.processor(images=image, return_tensors="pt")["pixel_values"]
    depths = model.config.depths
    every_stage = tuple(range(1, len(depths) + 1))
    mixer_off, mlp_off = Knockouts(mixer=every_stage), Knockouts(mlp=every_stage)
    anatomy = block_anatomy(image, name, stage=1, block=1, cache=cache)

    def forward():
        with torch.no_grad():
            model(pixel_values=pixel_values)

    def forward_backward():
        x = pixel_values.clone().requires_grad_(True)
        outputs = model(pixel_values=x, output_hidden_states=True)
        torch.autograd.grad(outputs.logits[0, 0], outputs.hidden_states)

    return interleaved_medians(
        {
            "forward": forward,
            "forward+backward": forward_backward,
            "shared_copy": lambda: shared_copy(model),
            "analyze": lambda: analyze(image, name, cache=cache),
            "analyze, mixer off (all)": lambda: analyze(image, name, cache=cache, knockouts=mixer_off),
            "analyze, mlp off (all)": lambda: analyze(image, name, cache=cache, knockouts=mlp_off),
            "anatomy stage 1 block 1": lambda: block_anatomy(image, name, stage=1, block=1, cache=cache),
            "anatomy last block": lambda: block_anatomy(image, name, stage=len(depths), block=depths[-1], cache=cache),
            "anatomy pictures (7)": lambda: render.anatomy_views(anatomy),
            "branch-ratio plot": lambda: render.branch_ratio_plot(anatomy.branches, (1, 1)),
            "receptive field stage 1": lambda: receptive_field(image, name, stage=1, y=28, x=28, cache=cache),
            "receptive field stage 4": lambda: receptive_field(image, name, stage=4, y=3, x=3, cache=cache),
        },
        repeats,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    image = Image.open(Path(__file__).resolve().parent.parent / "assets" / "examples" / "chelsea.jpg").convert("RGB")
    with tempfile.TemporaryDirectory() as weights:
        os.environ["POOLFORMER_WEIGHTS_DIR"] = weights
        build_checkpoint("s12", Path(weights) / "poolformer_s12")
        threads = torch.get_num_threads()
        print(f"torch {torch.__version__}, {threads} threads, median of {args.repeats} runs, s12 at 224 px")
        for label, seconds in bench("s12", image, args.repeats).items():
            print(f"  {label:26} {seconds * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
