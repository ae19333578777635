"""What a live run of the ablation lab costs, through the page's handler as the app runs it: wall time for
the chosen arms at the live budget, how many page updates and curve redraws it sent, and what it does
to an s12 analysis served at the same time (analysis time alone, then while the lab trains).

    python -m benchmarks.bench_lab                     # from the repository root; all arms, LIVE_STEPS
    python -m benchmarks.bench_lab --task pairs --arms pooling,identity   # the two-minute target
    python -m benchmarks.bench_lab --steps 200 --analyses 5

The machine's load average is printed before and after: these are timings of a shared machine.
s12 has seeded random weights: the cost does not depend on the values.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from poolformer_demo import ModelCache, analyze
from poolformer_demo.shapes.arms import ARM_NAMES
from poolformer_demo.shapes.lab import LIVE_STEPS
from poolformer_demo.testing import build_checkpoint
from poolformer_demo.ui.kit.runs import app_runner
from poolformer_demo.ui.tabs.inside import lab_page
from poolformer_demo.ui.tabs.inside.lab_page import LabSection

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "assets" / "examples" / "chelsea.jpg"


# What a class waits for a two-arm live run on two cores.
TARGET_SECONDS = 120


def live_run(section: LabSection, arms, task: str = "shapes") -> dict:
    results = []
    run_lab = lab_page.run_lab

    def recording(*args, **kwargs):
        results.append(run_lab(*args, **kwargs))
        return results[-1]

    lab_page.run_lab = recording
    started = time.perf_counter()
    updates = redraws = 0
    status = ""
    try:
        for update in section.run_on_page(list(arms), task):
            status, live = update
            updates += 1
            redraws += isinstance(live, str) and "training curves of this run" in live
    finally:
        lab_page.run_lab = run_lab
    return {
        "wall": time.perf_counter() - started,
        "updates": updates,
        "redraws": redraws,
        "result": results[-1],
        "status": status,
    }


def analysis_seconds(cache: ModelCache, repeats: int, stop: threading.Event | None = None) -> list[float]:
    times = []
    for _ in range(repeats):
        if stop is not None and stop.is_set():
            break
        started = time.perf_counter()
        analyze(str(PHOTO), "s12", cache=cache)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=LIVE_STEPS)
    parser.add_argument("--arms", default=",".join(ARM_NAMES))
    parser.add_argument("--task", default="shapes", choices=("shapes", "pairs"))
    parser.add_argument("--analyses", type=int, default=0, help="s12 analyses alone and during a second run")
    args = parser.parse_args()
    arms = args.arms.split(",")

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, {os.cpu_count()} CPUs")
    runner = app_runner(2)
    run = live_run(LabSection(runner, steps=args.steps), arms, args.task)
    result = run["result"]
    print(
        f"live run on {args.task}, {len(arms)} arms x {args.steps} steps: {run['wall']:.1f} s wall through the "
        f"handler (run_lab itself {result.seconds:.1f} s; training {sum(r.seconds for r in result.runs):.1f} s); "
        f"{run['updates']} page updates, {run['redraws']} curve redraws"
    )
    per_two_arms = run["wall"] * 2 / len(arms)
    print(f"  per two arms: {per_two_arms:.1f} s = {per_two_arms / TARGET_SECONDS:.2f} x the {TARGET_SECONDS} s target")
    print(f"  final line: {run['status']}")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    if args.analyses:
        with tempfile.TemporaryDirectory() as folder:
            build_checkpoint("s12", Path(folder) / "poolformer_s12", seed=0)
            os.environ["POOLFORMER_WEIGHTS_DIR"] = folder
            cache = ModelCache(capacity=1)
            analysis_seconds(cache, 1)  # load and warm up
            alone = analysis_seconds(cache, args.analyses)
            done = threading.Event()
            section = LabSection(runner, steps=args.steps)
            lab = threading.Thread(target=lambda: (live_run(section, arms), done.set()))
            lab.start()
            time.sleep(15)  # past the data generation: the lab is training
            during = analysis_seconds(cache, args.analyses, stop=done)
            lab.join()
        print(
            f"s12 analysis alone: median {statistics.median(alone):.2f} s over {len(alone)}; while the lab "
            f"trains: median {statistics.median(during):.2f} s over {len(during)} "
            f"(x{statistics.median(during) / statistics.median(alone):.2f})"
        )


if __name__ == "__main__":
    main()
