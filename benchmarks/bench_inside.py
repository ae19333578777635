"""What one request of the "Inside the block" tab costs through the served app: the `/anatomy`,
`/knockout` and `/receptive_field` round trips through gradio_client (warm, loopback), on s12 and on
the bundled shapes model, beside the computation's own time that each answer reports.

    python -m benchmarks.bench_inside                 # from the repository root
    python -m benchmarks.bench_inside --repeats 9

Requests run one at a time, round-robin, so load from elsewhere on the machine falls on all alike.
s12 has seeded random weights: the cost does not depend on the values.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from gradio_client import Client, handle_file

from poolformer_demo import ModelCache
from poolformer_demo.testing import build_checkpoint
from poolformer_demo.ui import build_demo, launch_kwargs

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "assets" / "examples" / "chelsea.jpg"
STAR = ROOT / "assets" / "examples" / "shapes_star.png"


def requests(variant: str, image: Path) -> dict[str, tuple]:
    """One request of each endpoint: a middle block, every token mixer off, a middle position."""
    picture = handle_file(str(image))
    return {
        "/anatomy": (picture, variant, 3, 1),
        "/knockout": (picture, variant, [1, 2, 3, 4], []),
        "/receptive_field": (picture, variant, 3, 2, 2),
    }


def computation_seconds(result: dict) -> float:
    # A knockout runs two analyses; the others report one time.
    if "before" in result:
        return result["before"]["seconds"] + result["after"]["seconds"]
    return result["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        build_checkpoint("s12", Path(folder) / "poolformer_s12", seed=0)
        os.environ["POOLFORMER_WEIGHTS_DIR"] = folder
        demo = build_demo(cache=ModelCache(capacity=2))
        demo.launch(**launch_kwargs(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True))
        try:
            client = Client(demo.local_url, verbose=False)
            cases = {
                (variant, endpoint): arguments
                for variant, image in (("s12", PHOTO), ("shapes", STAR))
                for endpoint, arguments in requests(variant, image).items()
            }
            for (_, endpoint), arguments in cases.items():
                client.predict(*arguments, api_name=endpoint)  # warm-up: loading, first allocations
            times: dict[tuple, list[tuple[float, float]]] = {case: [] for case in cases}
            for _ in range(args.repeats):
                for (variant, endpoint), arguments in cases.items():
                    started = time.perf_counter()
                    result = client.predict(*arguments, api_name=endpoint)
                    times[(variant, endpoint)].append((time.perf_counter() - started, computation_seconds(result)))
        finally:
            demo.close()

    print(f"median of {args.repeats} requests each, one at a time (cpu threads: {os.cpu_count()})")
    print(f"{'variant':8} {'endpoint':18} {'round trip':>11} {'computation':>12}")
    for (variant, endpoint), values in times.items():
        wall = statistics.median(w for w, _ in values)
        inside = statistics.median(c for _, c in values)
        print(f"{variant:8} {endpoint:18} {wall:10.3f}s {inside:11.3f}s")


if __name__ == "__main__":
    main()
