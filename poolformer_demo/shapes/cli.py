"""``python -m poolformer_demo.shapes``: rebuild the bundled model and its examples, run the ablation lab."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..variants import PAIRS_DIR, SHAPES_DIR
from .data import EXAMPLES_DIR, write_examples

PROG = "python -m poolformer_demo.shapes"


def main(argv: Sequence[str] | None = None) -> int:
    from .arms import ARM_NAMES, ARMS, NORMS
    from .lab import LAB_CONFIGS, LIVE_SEEDS, REFERENCE_SEEDS
    from .lab_results import reference_command, reference_path
    from .tasks import TASK_NAMES
    from .train import TrainSettings

    parser = argparse.ArgumentParser(prog=PROG, description="The offline shapes task: the bundled model and the lab.")
    sub = parser.add_subparsers(dest="command", required=True)

    defaults = TrainSettings()
    p_train = sub.add_parser("train", help="train a bundled model from scratch and save it")
    p_train.add_argument("--task", choices=TASK_NAMES, default="shapes", help="default: %(default)s")
    p_train.add_argument(
        "--out", type=Path, default=None, help="output folder (default: the task's folder under assets/)"
    )
    p_train.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        help="seed of the initialisation, batch order and augmentation (default: %(default)s)",
    )
    p_train.add_argument("--epochs", type=int, default=defaults.epochs, help="default: %(default)s")
    p_train.add_argument("--train-size", type=int, default=defaults.train_size, help="default: %(default)s")
    p_train.add_argument("--val-size", type=int, default=defaults.val_size, help="default: %(default)s")
    p_train.add_argument("--batch-size", type=int, default=defaults.batch_size, help="default: %(default)s")
    p_train.add_argument("--lr", type=float, default=defaults.lr, help="peak learning rate (default: %(default)s)")
    p_train.add_argument(
        "--layer-scale-init",
        type=float,
        default=defaults.layer_scale_init_value,
        help="layer_scale_init_value (default: %(default)s)",
    )
    p_train.add_argument(
        "--seg-weight",
        type=float,
        default=defaults.seg_weight,
        help="weight of the auxiliary deepest-stage segmentation loss, 0 to disable (default: %(default)s)",
    )
    p_train.add_argument("--threads", type=int, default=defaults.threads, help="torch threads (default: %(default)s)")
    p_train.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    p_measure = sub.add_parser(
        "measure", help="a bundled model's held-out accuracy, pointing game, knockouts and mixer-free field, as JSON"
    )
    p_measure.add_argument("--task", choices=TASK_NAMES, default="shapes", help="default: %(default)s")
    p_measure.add_argument("--images", type=int, default=500, help="held-out images (default: %(default)s)")
    p_measure.add_argument("--threads", type=int, default=1, help="torch threads (default: %(default)s)")
    p_measure.add_argument(
        "--write", action="store_true", help="also write the figures to measurement.json beside the model"
    )

    p_ex = sub.add_parser("examples", help="write example images of both tasks")
    p_ex.add_argument("--out", type=Path, default=EXAMPLES_DIR, help="output folder (default: %(default)s)")

    p_lab = sub.add_parser("lab", help="train small MetaFormers that differ in one part, and compare them")
    p_lab.add_argument("--task", choices=TASK_NAMES, default="shapes", help="default: %(default)s")
    p_lab.add_argument(
        "--reference",
        action="store_true",
        help=f"every arm with seeds {','.join(map(str, REFERENCE_SEEDS))}, written to the task's reference file "
        f"({reference_path('shapes').name}, {reference_path('pairs').name})",
    )
    p_lab.add_argument(
        "--grid",
        action="store_true",
        help="the norm x mixer grid: every norm with every grid mixer, 10 seeds, written after every run and "
        "resumed from --out (default: the task's shipped grid file); --seeds splits it over processes",
    )
    p_lab.add_argument(
        "--grid-norms",
        default=None,
        help=f"with --grid: only these norms, comma-separated (default: {','.join(NORMS)})",
    )
    p_lab.add_argument(
        "--grid-mixers",
        default=None,
        help="with --grid: only these token mixers, comma-separated (default: identity,pooling,global,random); "
        "the file keeps the runs of the others",
    )
    p_lab.add_argument(
        "--merge-grids",
        nargs="+",
        type=Path,
        default=None,
        metavar="FILE",
        help="merge grid files written by processes that ran different seeds into --out",
    )
    p_lab.add_argument(
        "--norm",
        choices=NORMS,
        default="group",
        help="group: PoolFormer's GroupNorm over all positions; position: each position over its channels "
        "(both norms with every grid mixer and 10 seeds: --grid) (default: %(default)s)",
    )
    p_lab.add_argument("--arms", default=",".join(ARM_NAMES), help="comma-separated (default: %(default)s)")
    p_lab.add_argument(
        "--steps",
        type=int,
        default=None,
        help="training steps per run (default: the task's, as in the reference; fewer train the first steps of "
        "the reference's schedule, more stretch it)",
    )
    p_lab.add_argument("--seeds", default=None, help=f"comma-separated (default: {','.join(map(str, LIVE_SEEDS))})")
    p_lab.add_argument("--image-size", type=int, default=None, help="default: the task's, as in the reference")
    p_lab.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads; one is fastest for these tiny models on a busy machine (default: 1)",
    )
    p_lab.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    p_lab.add_argument("--plot", type=Path, default=None, help="write the training curves as PNG here")

    args = parser.parse_args(argv)
    if args.command == "train":
        from .checkpoint import train_checkpoint

        settings = TrainSettings(
            seed=args.seed,
            train_size=args.train_size,
            val_size=args.val_size,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            layer_scale_init_value=args.layer_scale_init,
            seg_weight=args.seg_weight,
            threads=args.threads,
        )
        out = args.out or (SHAPES_DIR if args.task == "shapes" else PAIRS_DIR)
        train_checkpoint(out, settings, progress=not args.no_progress, task=args.task)
    elif args.command == "measure":
        import json

        import torch
        from transformers import PoolFormerForImageClassification

        from .measure import MEASUREMENT_FILE, measure_model

        torch.set_num_threads(args.threads)
        folder = SHAPES_DIR if args.task == "shapes" else PAIRS_DIR
        model = PoolFormerForImageClassification.from_pretrained(folder)
        text = json.dumps(measure_model(model, args.task, args.images).as_dict(), indent=1)
        print(text)
        if args.write:
            (folder / MEASUREMENT_FILE).write_text(text + "\n")
    elif args.command == "examples":
        from .pairs import write_pair_examples

        for path in write_examples(args.out) + write_pair_examples(args.out):
            print(path)
    elif args.merge_grids:
        from .lab_grid import grid_command, grid_path, load_grid, merge_grids, save_grid

        grid = merge_grids([load_grid(path) for path in args.merge_grids])
        print(f"written: {save_grid(grid, args.out or grid_path(grid.task), grid_command(grid.task))}")
    elif args.grid:
        import torch

        from .lab_grid import GRID_MIXERS, GRID_SEEDS, grid_command, grid_path, run_grid

        torch.set_num_threads(args.threads)

        def report(norm, mixer, seed, run) -> None:
            print(
                f"[{time.strftime('%H:%M:%S')}] {norm} norm, {mixer}, seed {seed}: held-out {run.accuracy:.1%} "
                f"after {run.steps} steps, {run.seconds:.0f} s",
                flush=True,
            )

        seeds = _ints(args.seeds) if args.seeds else GRID_SEEDS
        norms = tuple(args.grid_norms.split(",")) if args.grid_norms else NORMS
        mixers = tuple(args.grid_mixers.split(",")) if args.grid_mixers else GRID_MIXERS
        command = grid_command(args.task)
        if args.steps is not None:
            command += f" --steps {args.steps}"
        if args.grid_norms:
            command += f" --grid-norms {args.grid_norms}"
        run_grid(
            args.task,
            mixers,
            seeds=seeds,
            norms=norms,
            steps=args.steps,
            out=args.out or grid_path(args.task),
            command=command,
            report=report,
        )
    else:
        if args.reference and (
            args.steps is not None
            or args.seeds is not None
            or args.arms != ",".join(ARM_NAMES)
            or args.image_size is not None
        ):
            parser.error("--reference fixes arms, steps, seeds and image size; leave them out")
        if args.reference and args.norm != "group":
            parser.error("the reference runs use PoolFormer's norm; the per-position norm is in the grid: use --grid")
        unknown = sorted(set(args.arms.split(",")) - set(ARMS))
        if unknown:
            parser.error(f"unknown arms {', '.join(unknown)}; choose from {', '.join(ARMS)}")
        config = replace(LAB_CONFIGS[args.task], norm=args.norm)
        steps = args.steps or config.steps
        image_size = args.image_size or config.image_size
        seeds = REFERENCE_SEEDS if args.reference else _ints(args.seeds) if args.seeds else LIVE_SEEDS
        arms = tuple(args.arms.split(","))
        out = reference_path(args.task) if args.reference and args.out is None else args.out
        given = sys.argv[1:] if argv is None else list(argv)
        command = reference_command(args.task) if args.reference else f"{PROG} {shlex.join(given)}"
        _run_lab(arms, steps, seeds, image_size, config, args.threads, out, args.plot, command)
    return 0


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(t) for t in text.split(",") if t.strip())


def _run_lab(arms, steps, seeds, image_size, config, threads, out, plot, command) -> None:
    import torch

    from ..plots import figure_to_rgb
    from .lab import run_lab
    from .lab_results import plot_curves, save_result, summarize

    torch.set_num_threads(threads)
    last = [-1]

    def report(p) -> None:
        if p.step == p.steps and p.run != last[0]:
            last[0] = p.run
            print(
                f"[{time.strftime('%H:%M:%S')}] run {p.run + 1}/{p.runs}: {p.arm}, seed {p.seed}: "
                f"{p.steps} steps, loss {p.curve[-1].loss:.3f}, {p.seconds:.0f} s since start",
                flush=True,
            )

    result = run_lab(arms, steps, seeds, image_size, config=config, progress=report)
    print(f"\n{len(result.runs)} runs, {steps} steps each, {image_size} px, wall time {result.seconds:.1f} s")
    print(f"pointing game of a map that always peaks at the image centre: {result.centre_baseline:.1%}")
    print(f"pointing game of a map that peaks at a random pixel: {result.chance_pointing:.1%}\n")
    print(f"{'arm':36s} {'seeds':>5s} {'accuracy':>16s} {'pointing game':>16s} {'paper S12 top-1':>16s}")
    for row in summarize(result):
        paper = f"{row.paper_top1:.1f}%"
        print(
            f"{row.title:36s} {row.seeds:5d} {row.accuracy_mean:9.1%} ± {row.accuracy_std:4.1%} "
            f"{row.pointing_mean:9.1%} ± {row.pointing_std:4.1%} {paper:>16s}"
        )
    if out is not None:
        print(f"\nwritten: {save_result(result, out, command)}")
    if plot is not None:
        from PIL import Image

        title = f"{steps} steps, seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"
        Image.fromarray(figure_to_rgb(plot_curves(result, title))).save(plot)
        print(f"written: {plot}")
