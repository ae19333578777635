"""What the lesson's handout costs beside one walk through the Lesson tab: the ten steps through the
tab's own handlers (a fresh tab, so every measurement is taken), then the tab's "Download this
lesson" after that walk (its stored measurements reused), then the command line's path in one
process (every measurement, the handout, the figures), and the `lesson` command as a user runs it.

    python -m benchmarks.bench_handout                          # from the repository root
    python -m benchmarks.bench_handout --image assets/examples/pairs_same_0.png --variant pairs
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from poolformer_demo import ModelCache
from poolformer_demo.figures import write_lesson_figures
from poolformer_demo.lesson import STEP_COUNT, measure_lesson
from poolformer_demo.ui.kit.runs import app_runner
from poolformer_demo.ui.kit.view import Session
from poolformer_demo.ui.tabs.explore.page import EXAMPLES_DIR
from poolformer_demo.ui.tabs.lesson.handout import write_handout
from poolformer_demo.ui.tabs.lesson.page import LessonTab

ROOT = Path(__file__).resolve().parent.parent


def timed(what: str, work):
    started = time.perf_counter()
    value = work()
    print(f"{what:58} {time.perf_counter() - started:6.2f} s")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--image", default=str(ROOT / "assets" / "examples" / "shapes_star.png"))
    parser.add_argument("--variant", default="shapes")
    args = parser.parse_args()
    cache = ModelCache(capacity=1)
    cache.get(args.variant)
    runner = app_runner(2)
    tab = LessonTab(cache, runner, EXAMPLES_DIR)
    from poolformer_demo import analyze

    analysis = analyze(args.image, args.variant, cache=cache)
    session = Session(args.image, "", args.variant, analysis.labels, analysis.target.index)

    def walk():
        for number in range(1, STEP_COUNT + 1):
            tab.show_step(session, number)

    timed("one Lesson walk (ten steps, the tab's handlers)", walk)
    # The button's handler answers with the file component's update; its value is the file's path.
    update = timed("the tab's Download this lesson, after the walk", lambda: tab.download(session))
    path = Path(update["value"])
    runner.close()
    print(f"{'handout size':58} {path.stat().st_size / 1e3:6.0f} kB")
    with tempfile.TemporaryDirectory() as out:
        result = timed("every measurement (measure_lesson), in one process", lambda: measure_lesson(args.image,
                       args.variant, cache=cache))  # fmt: skip
        timed("the handout from it (write_handout)", lambda: write_handout(result, out))
        timed("the slide figures from it (write_lesson_figures)", lambda: write_lesson_figures(result, Path(out)))
        command = [sys.executable, "-m", "poolformer_demo", "lesson", args.image, "--variant", args.variant]
        timed("python -m poolformer_demo lesson (a new process)", lambda: subprocess.run(
            [*command, "--out", str(Path(out) / "cli")], check=True, capture_output=True, cwd=ROOT))  # fmt: skip


if __name__ == "__main__":
    main()
