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

from poolformer_demo import ModelCache, analyze, block_pictures, plots
from poolformer_demo.anatomy import block_anatomy
from poolformer_demo.blocks import shared_copy
from poolformer_demo.knockouts import Knockouts
from poolformer_demo.receptive_field import receptive_field
from poolformer_demo.testing import build_checkpoint, interleaved_medians, model_passes


def bench(name: str, image: Image.Image, repeats: int) -> dict[str, tuple[float, float]]:
    cache = ModelCache(capacity=1)
    loaded = cache.get(name)
    model = loaded.model
    pixel_values = loaded.processor(images=image, return_tensors="pt")["pixel_values"]
    depths = model.config.depths
    every_stage = tuple(range(1, len(depths) + 1))
    mixer_off, mlp_off = Knockouts(mixer=every_stage), Knockouts(mlp=every_stage)
    anatomy = block_anatomy(image, name, stage=1, block=1, cache=cache)

    return interleaved_medians(
        {
            **model_passes(model, pixel_values),
            "shared_copy": lambda: shared_copy(model),
            "analyze": lambda: analyze(image, name, cache=cache),
            "analyze, mixer off (all)": lambda: analyze(image, name, cache=cache, knockouts=mixer_off),
            "analyze, mlp off (all)": lambda: analyze(image, name, cache=cache, knockouts=mlp_off),
            "anatomy stage 1 block 1": lambda: block_anatomy(image, name, stage=1, block=1, cache=cache),
            "anatomy last block": lambda: block_anatomy(image, name, stage=len(depths), block=depths[-1], cache=cache),
            "anatomy pictures (7)": lambda: block_pictures.anatomy_views(anatomy),
            "branch-ratio plot": lambda: plots.branch_ratio_plot(anatomy.branches, (1, 1)),
            "receptive field stage 1": lambda: receptive_field(image, name, stage=1, y=28, x=28, cache=cache),
            "receptive field stage 4": lambda: receptive_field(image, name, stage=4, y=3, x=3, cache=cache),
        },
        repeats,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    image = Image.open(Path(__file__).resolve().parent.parent / "assets" / "examples" / "chelsea.jpg").convert("RGB")
    with tempfile.TemporaryDirectory() as weights:
        os.environ["POOLFORMER_WEIGHTS_DIR"] = weights
        build_checkpoint("s12", Path(weights) / "poolformer_s12")
        threads = torch.get_num_threads()
        print(f"torch {torch.__version__}, {threads} threads, median of {args.repeats} runs, s12 at 224 px")
        print(f"  {'':26} {'wall':>8}    {'cpu':>8}")
        for label, (wall, cpu) in bench("s12", image, args.repeats).items():
            print(f"  {label:26} {wall * 1000:8.1f} ms {cpu * 1000:8.1f} ms")
        print(f"load average (1 min) after the run: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
