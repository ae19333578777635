"""The faithfulness table on the bundled shapes model: deletion and insertion AUCs (mean and
standard deviation over held-out generated images) of each method with the app's default
settings, and of the random baseline.

    python -m benchmarks.bench_faithfulness              # 50 images (run from the repository root)
    python -m benchmarks.bench_faithfulness --images 200
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from poolformer_demo import ModelCache
from poolformer_demo.attributions import METHOD_TITLES
from poolformer_demo.explanation import explain
from poolformer_demo.shapes import TEST_SEED_START, make_sample

METHODS = "gradcam,ig,smoothgrad,occlusion"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--methods", default=METHODS)
    args = parser.parse_args()

    cache = ModelCache(capacity=1)
    rows: dict[str, list[tuple[float, float]]] = {}
    started = time.perf_counter()
    for i in range(args.images):
        sample = make_sample(TEST_SEED_START + i)
        result = explain(
            sample.image, "shapes", target=sample.label, methods=args.methods, faithfulness=True, cache=cache
        )
        for name, scores in result.faithfulness.to_json().items():
            if isinstance(scores, dict) and "deletion_auc" in scores:
                rows.setdefault(name, []).append((scores["deletion_auc"], scores["insertion_auc"]))
    summary = result.faithfulness.to_json()
    print(
        f"{args.images} held-out shapes (seeds from {TEST_SEED_START}), target = true class, "
        f"{summary['steps']} steps, {summary['random']['orders']} random orders, {time.perf_counter() - started:.0f} s"
    )
    print(f"substrate: deletion {summary['substrate']['deletion']}; insertion {summary['substrate']['insertion']}")
    print("| method | deletion AUC (lower is better) | insertion AUC (higher is better) |\n|---|---|---|")
    for name, values in rows.items():
        a = np.array(values)
        title = "Grad-CAM (stage 4)" if name == "gradcam" else METHOD_TITLES.get(name, name)
        print(f"| {title} | {a[:, 0].mean():.3f} ± {a[:, 0].std():.3f} | {a[:, 1].mean():.3f} ± {a[:, 1].std():.3f} |")


if __name__ == "__main__":
    main()
