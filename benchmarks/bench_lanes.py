"""A classroom's mix of requests served at once: do short answers wait behind long ones?

12 clients for 60 s (by default), each sending one request after another, drawn at random:
60 % Explore (`/analyze`, one of four example photos on s12, answers the store already holds),
20 % knockouts (`/knockout`, a shapes example), 15 % CAM explanations (`/explain` gradcam, a
random class of a photo) and 5 % Integrated Gradients (`/explain` ig, a random class: never
stored, seconds of compute each). Prints per kind the count, failures, p50 and p95, the Explore
p95 over one Explore request alone (measured first, in the same run), and the server's resident
memory before and after.

    python -m benchmarks.bench_lanes                   # from the repository root
    python -m benchmarks.bench_lanes --clients 30 --seconds 150

Architectures are the real ones with seeded random weights; the shapes model is the bundled one.
On a machine shared with other work, compare the ratios, which are taken within one run.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

from gradio_client import Client, handle_file

from poolformer_demo import ModelCache
from poolformer_demo.testing import build_checkpoint
from poolformer_demo.ui import build_demo, launch_kwargs, limit_allocator_arenas, share_cores

EXAMPLES = Path(__file__).resolve().parent.parent / "assets" / "examples"
PHOTOS = [EXAMPLES / name for name in ("chelsea.jpg", "coffee.jpg", "astronaut.jpg", "rocket.jpg")]
SHAPE = EXAMPLES / "shapes_star.png"
MIX = {"explore": 0.60, "knockout": 0.20, "cam": 0.15, "ig": 0.05}


def resident_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def request(client: Client, kind: str, rng: random.Random) -> None:
    if kind == "explore":
        client.predict(handle_file(str(rng.choice(PHOTOS))), "s12", "", api_name="/analyze")
    elif kind == "knockout":
        client.predict(handle_file(str(SHAPE)), "shapes", [rng.choice("1234")], [], "", api_name="/knockout")
    else:
        method = "gradcam" if kind == "cam" else "ig"
        photo, target = rng.choice(PHOTOS), str(rng.randrange(1000))
        client.predict(handle_file(str(photo)), "s12", target, [method], 4, False, False, api_name="/explain")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    share_cores()  # as app.py serves
    limit_allocator_arenas()
    with tempfile.TemporaryDirectory() as weights:
        os.environ["POOLFORMER_WEIGHTS_DIR"] = weights
        build_checkpoint("s12", Path(weights) / "poolformer_s12")
        demo = build_demo(cache=ModelCache(capacity=2), shapes_available=True)
        _, url, _ = demo.launch(**launch_kwargs(prevent_thread_lock=True, server_port=None))
        try:
            warm = Client(url, verbose=False)
            for photo in PHOTOS:
                warm.predict(handle_file(str(photo)), "s12", "", api_name="/analyze")
            warm.predict(handle_file(str(SHAPE)), "shapes", ["2"], [], "", api_name="/knockout")
            alone = []
            for _ in range(5):
                started = time.perf_counter()
                warm.predict(handle_file(str(PHOTOS[0])), "s12", "", api_name="/analyze")
                alone.append(time.perf_counter() - started)
            explore_alone = statistics.median(alone)
            rss_before = resident_mb()

            times: dict[str, list[float]] = {kind: [] for kind in MIX}
            failures: dict[str, int] = dict.fromkeys(MIX, 0)
            lock = threading.Lock()
            deadline = time.monotonic() + args.seconds

            def client_loop(seed: int) -> None:
                rng = random.Random(seed)
                client = Client(url, verbose=False)
                while time.monotonic() < deadline:
                    kind = rng.choices(list(MIX), weights=list(MIX.values()))[0]
                    started = time.perf_counter()
                    try:
                        request(client, kind, rng)
                        with lock:
                            times[kind].append(time.perf_counter() - started)
                    except Exception:  # noqa: BLE001 - counted and reported
                        with lock:
                            failures[kind] += 1

            threads = [threading.Thread(target=client_loop, args=(seed,)) for seed in range(args.clients)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            rss_after = resident_mb()
        finally:
            demo.close()

    print(
        f"{args.clients} clients for {args.seconds:.0f} s, load average {os.getloadavg()[0]:.1f} "
        "(a shared machine: compare the ratios)"
    )
    print(f"  {'kind':10} {'answers':>8} {'failed':>7} {'p50':>8} {'p95':>8}")
    for kind in MIX:
        values = times[kind]
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(f"  {kind:10} {len(values):8} {failures[kind]:7} {p50:7.2f}s {p95:7.2f}s")
    p95 = percentile(times["explore"], 0.95)
    print(f"  Explore alone {explore_alone:.2f}s; Explore p95 / alone {p95 / explore_alone:.1f}x (target p95 <= 3 s)")
    print(
        f"  process (server and clients) resident memory {rss_before:.0f} MB before the mix, {rss_after:.0f} MB after"
    )


if __name__ == "__main__":
    main()
