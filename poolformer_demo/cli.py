"""The command line.

python -m poolformer_demo analyze IMAGE [IMAGE ...] --variant s12 --out DIR
python -m poolformer_demo explain IMAGE --variant s12 --methods gradcam,ig,smoothgrad,occlusion [--faithfulness]
    --out DIR
python -m poolformer_demo compare IMAGE --variants s12,m36 --out DIR
python -m poolformer_demo sanity IMAGE --variant s12 --method gradcam --out DIR
python -m poolformer_demo anatomy / receptive-field: one block's steps, one position's receptive field
python -m poolformer_demo lesson IMAGE --variant shapes [--lang en] --out DIR: the lesson as one HTML file,
    and its figures for slides
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from .analysis import analyze
from .anatomy import block_anatomy
from .attributions import (
    BASELINES,
    DEFAULT_METHODS,
    IG_METHODS,
    IntegratedGradientsSettings,
    OcclusionSettings,
    SmoothGradSettings,
)
from .cli_support import (
    ProgressBar,
    all_methods,
    knockout_spec,
    methods,
    natural_int,
    output_folders,
    positive_int,
    stage,
    unit_float,
    variant_list,
    variant_name,
)
from .comparison import compare, compare_knockout
from .errors import PoolFormerDemoError
from .explanation import explain
from .exports import (
    write_analysis,
    write_anatomy,
    write_comparison,
    write_explanation,
    write_knockout,
    write_receptive_field,
    write_sanity,
)
from .faithfulness import FaithfulnessSettings
from .figures import write_lesson_figures
from .i18n import DEFAULT_LANGUAGE, languages
from .i18n import command as i18n_command
from .knockouts import Knockouts
from .lesson import measure_lesson
from .receptive_field import receptive_field
from .sanity import GRANULARITIES, cascading_randomization
from .ui.tabs.lesson.handout import write_handout
from .variants import DEFAULT_VARIANT, STAGE_COUNT, VARIANTS

# Every registered model, so a new bundled model appears in the help without an edit here.
VARIANT_HELP = ", ".join(VARIANTS)


def run_analyze(args: argparse.Namespace) -> int:
    images = [Path(p) for p in args.images]
    knockouts = Knockouts.parse(args.knockout, STAGE_COUNT)
    failures = 0
    for image, folder in zip(tqdm(images, desc="Analysing", unit="image"), output_folders(images, Path(args.out))):
        try:
            analysis = analyze(str(image), args.variant, target=args.target, top_k=args.top_k, knockouts=knockouts)
            write_analysis(analysis, folder, args.opacity)
        except (PoolFormerDemoError, OSError) as exc:
            # One bad image (or an unwritable output) must not stop the rest of the batch.
            failures += 1
            # On the command line the person is the one who runs the machine: give the details.
            tqdm.write(f"error: {image}: {getattr(exc, 'details', exc)}", file=sys.stderr)
            continue
        top = analysis.predictions[0]
        tqdm.write(f"{image}: {top.label} ({top.probability:.1%}) -> {folder}")
    if failures:
        print(f"{failures} of {len(images)} images failed.", file=sys.stderr)
    return 1 if failures else 0


def _explain_settings(args: argparse.Namespace) -> dict:
    return {
        "ig": IntegratedGradientsSettings(n_steps=args.ig_steps, method=args.ig_method, baseline=args.ig_baseline),
        "smoothgrad": SmoothGradSettings(nt_samples=args.smoothgrad_samples, noise_level=args.noise_level),
        "occlusion": OcclusionSettings(window=args.occlusion_window, stride=args.occlusion_stride),
    }


def run_explain(args: argparse.Namespace) -> int:
    out = Path(args.out)
    bar = ProgressBar("Explaining")
    try:
        result = explain(
            args.image,
            args.variant,
            target=args.target,
            methods=args.methods,
            stage=args.stage,
            settings=_explain_settings(args),
            faithfulness=args.faithfulness,
            faithfulness_settings=FaithfulnessSettings(
                steps=args.steps, random_orders=args.random_orders, road=args.road
            ),
            progress=bar,
        )
        write_explanation(result, out, args.opacity)
    except (PoolFormerDemoError, OSError) as exc:
        bar.close()
        print(f"error: {args.image}: {exc}", file=sys.stderr)
        return 1
    bar.close()
    target = result.analysis.target
    print(f"{args.image}: {target.label} ({target.probability:.1%}), {', '.join(result.attributions)} -> {out}")
    return 0


def run_compare(args: argparse.Namespace) -> int:
    out = Path(args.out)
    bar = ProgressBar("Comparing")
    try:
        result = compare(args.image, args.variants, target=args.target, top_k=args.top_k, progress=bar)
        write_comparison(result, out, args.opacity)
    except (PoolFormerDemoError, OSError) as exc:
        bar.close()
        print(f"error: {args.image}: {exc}", file=sys.stderr)
        return 1
    bar.close()
    for run in result.runs:
        top = run.predictions[0]
        print(f"{run.variant.name:6} {top.name} ({top.probability:.1%}) in {run.seconds:.2f} s")
    for failure in result.failures:
        print(f"error: {failure.variant.name}: {failure.error}", file=sys.stderr)
    return 1 if result.failures else 0


def run_sanity(args: argparse.Namespace) -> int:
    out = Path(args.out)
    bar = ProgressBar("Randomising")
    try:
        check = cascading_randomization(
            args.image,
            args.variant,
            method=args.method,
            stage=args.stage,
            target=args.target,
            granularity=args.granularity,
            seed=args.seed,
            progress=bar,
        )
        write_sanity(check, out)
    except (PoolFormerDemoError, OSError) as exc:
        bar.close()
        print(f"error: {args.image}: {exc}", file=sys.stderr)
        return 1
    bar.close()
    for step in check.steps:
        print(f"{step.label:22} Spearman {step.spearman:+.2f}")
    return 0


def run_anatomy(args: argparse.Namespace) -> int:
    try:
        anatomy = block_anatomy(args.image, args.variant, stage=args.stage, block=args.block)
        write_anatomy(anatomy, Path(args.out), args.channel)
    except (PoolFormerDemoError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.image}: stage {anatomy.stage} block {anatomy.block} of {anatomy.variant.name} -> {args.out}")
    return 0


def run_receptive_field(args: argparse.Namespace) -> int:
    try:
        field = receptive_field(args.image, args.variant, stage=args.stage, y=args.y, x=args.x)
        write_receptive_field(field, Path(args.out), args.scale)
    except (PoolFormerDemoError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{args.image}: stage {field.stage} (y={field.y}, x={field.x}), theoretical field {field.theoretical_size} px, "
        f"{field.mass_inside:.1%} of the effective field inside it -> {args.out}"
    )
    return 0


def run_knockout(args: argparse.Namespace) -> int:
    try:
        knockouts = Knockouts.parse(args.knockout, STAGE_COUNT)
        comparison = compare_knockout(args.image, args.variant, knockouts, target=args.target)
        write_knockout(comparison, Path(args.out), args.opacity)
    except (PoolFormerDemoError, OSError) as exc:
        print(f"error: {args.image}: {exc}", file=sys.stderr)
        return 1
    target = comparison.before.target
    print(
        f"{args.image}: {target.name} {target.probability:.1%} as trained, "
        f"{comparison.after.target.probability:.1%} with {knockouts.describe()} -> {args.out}"
    )
    return 0


def run_lesson(args: argparse.Namespace) -> int:
    out = Path(args.out)
    bar = ProgressBar("Measuring the lesson")
    try:
        result = measure_lesson(args.image, args.variant, target=args.target, progress=bar)
    except (PoolFormerDemoError, OSError) as exc:
        bar.close()
        # Measured before anything is written: a bad input leaves no folder behind. The message is analyze's.
        print(f"error: {args.image}: {getattr(exc, 'details', exc)}", file=sys.stderr)
        return 1
    bar.close()
    try:
        handout = write_handout(result, out, args.lang)
        figures = write_lesson_figures(result, out / "figures")
    except OSError as exc:
        print(f"error: {out}: {exc}", file=sys.stderr)
        return 1
    print(
        f"{args.image}: {handout} ({handout.stat().st_size / 1e3:.0f} kB), {len(figures)} figures in {out / 'figures'}"
    )
    return 0


def run_variants(_: argparse.Namespace) -> int:
    for variant in VARIANTS.values():
        print(f"{variant.name:5} depths {list(variant.depths)} widths {list(variant.hidden_sizes)}  {variant.title}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m poolformer_demo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    knockout_help = (
        "switch off a part of the block: mixer (token mixing) or mlp (channel MLP), in every stage "
        "or in STAGES such as 1,2; may be repeated"
    )
    analyze_parser = commands.add_parser("analyze", help="Write predictions, feature maps and Grad-CAM for images.")
    analyze_parser.add_argument("images", nargs="+", help="image files")
    analyze_parser.add_argument("--variant", default=DEFAULT_VARIANT, type=variant_name, help=VARIANT_HELP)
    analyze_parser.add_argument(
        "--target", default=None, help="class to explain, by index or name (default: the top-1 class)"
    )
    analyze_parser.add_argument("--top-k", type=positive_int, default=5)
    analyze_parser.add_argument("--opacity", type=unit_float, default=0.5, help="Grad-CAM overlay opacity, 0..1")
    analyze_parser.add_argument(
        "--knockout",
        action="append",
        default=[],
        type=knockout_spec,
        metavar="PART[:STAGES]",
        help=knockout_help,
    )
    analyze_parser.add_argument("--out", required=True, help="output folder, one sub-folder per image")
    analyze_parser.set_defaults(run=run_analyze)

    explain_parser = commands.add_parser(
        "explain", help="Attribution maps (CAMs, captum) and their faithfulness for one image."
    )
    add = explain_parser.add_argument
    add("image", help="image file")
    add("--variant", default=DEFAULT_VARIANT, type=variant_name)
    add("--target", default=None, help="class to explain, by index or name (default: the top-1 class)")
    methods_help = "comma-separated: " + ", ".join(all_methods())
    add("--methods", default=",".join(DEFAULT_METHODS), type=methods, help=methods_help)
    add("--stage", type=stage, default=STAGE_COUNT, help="stage the CAM methods are taken at, 1-4")
    add("--faithfulness", action="store_true", help="score every method by deletion and insertion")
    add("--road", action="store_true", help="with --faithfulness, also ROAD (slower)")
    add("--steps", type=positive_int, default=FaithfulnessSettings.steps, help="deletion/insertion steps")
    add("--random-orders", type=positive_int, default=FaithfulnessSettings.random_orders)
    add("--ig-steps", type=positive_int, default=IntegratedGradientsSettings.n_steps)
    add("--ig-method", default=IntegratedGradientsSettings.method, choices=IG_METHODS)
    add("--ig-baseline", default=IntegratedGradientsSettings.baseline, choices=BASELINES)
    add("--smoothgrad-samples", type=positive_int, default=SmoothGradSettings.nt_samples)
    add("--noise-level", type=unit_float, default=SmoothGradSettings.noise_level)
    add("--occlusion-window", type=positive_int, default=None, help="px (default: a seventh of the crop)")
    add("--occlusion-stride", type=positive_int, default=None, help="px (default: half the window)")
    add("--opacity", type=unit_float, default=0.5)
    add("--out", required=True, help="output folder")
    explain_parser.set_defaults(run=run_explain)

    compare_parser = commands.add_parser(
        "compare", help="Top-5 and deepest Grad-CAM of one image under several variants."
    )
    add = compare_parser.add_argument
    add("image", help="image file")
    add("--variants", required=True, type=variant_list, help="comma-separated, e.g. s12,m36")
    add("--target", default=None, help="class every variant explains (default: each one's top-1)")
    add("--top-k", type=positive_int, default=5)
    add("--opacity", type=unit_float, default=0.5)
    add("--out", required=True, help="output folder")
    compare_parser.set_defaults(run=run_compare)

    sanity_parser = commands.add_parser("sanity", help="Cascading model randomisation: does the explanation change?")
    sanity_parser.add_argument("image", help="image file")
    sanity_parser.add_argument("--variant", default=DEFAULT_VARIANT, type=variant_name)
    sanity_parser.add_argument("--method", default="gradcam", choices=all_methods())
    sanity_parser.add_argument("--stage", type=stage, default=STAGE_COUNT)
    sanity_parser.add_argument("--target", default=None)
    sanity_parser.add_argument(
        "--granularity",
        default=None,
        choices=GRANULARITIES,
        help="block or stage (default: block for CAM methods, stage for pixel methods, as in the app)",
    )
    sanity_parser.add_argument("--seed", type=int, default=0)
    sanity_parser.add_argument("--out", required=True, help="output folder")
    sanity_parser.set_defaults(run=run_sanity)

    anatomy_parser = commands.add_parser(
        "anatomy", help="Write every step of one block and the branch ratios of all blocks."
    )
    anatomy_parser.add_argument("image", help="image file")
    anatomy_parser.add_argument("--variant", default=DEFAULT_VARIANT, type=variant_name, help=VARIANT_HELP)
    anatomy_parser.add_argument("--stage", type=positive_int, default=1, help="stage, numbered from 1")
    anatomy_parser.add_argument("--block", type=positive_int, default=1, help="block of the stage, numbered from 1")
    anatomy_parser.add_argument(
        "--channel", type=natural_int, default=None, help="channel to draw (default: where the mixer acts most)"
    )
    anatomy_parser.add_argument("--out", required=True, help="output folder")
    anatomy_parser.set_defaults(run=run_anatomy)

    field_parser = commands.add_parser(
        "receptive-field", help="Write the effective and theoretical receptive field of one position."
    )
    field_parser.add_argument("image", help="image file")
    field_parser.add_argument("--variant", default=DEFAULT_VARIANT, type=variant_name, help=VARIANT_HELP)
    field_parser.add_argument("--stage", type=positive_int, default=1, help="stage, numbered from 1")
    field_parser.add_argument("--y", type=natural_int, required=True, help="row on the stage's grid, from 0")
    field_parser.add_argument("--x", type=natural_int, required=True, help="column on the stage's grid, from 0")
    field_parser.add_argument(
        "--scale", choices=("linear", "sqrt", "log"), default="sqrt", help="how the picture shows the field"
    )
    field_parser.add_argument("--out", required=True, help="output folder")
    field_parser.set_defaults(run=run_receptive_field)

    knockout_parser = commands.add_parser(
        "knockout", help="One image as trained and with parts of the block switched off, for the same class."
    )
    add = knockout_parser.add_argument
    add("image", help="image file")
    add("--variant", default=DEFAULT_VARIANT, type=variant_name, help=VARIANT_HELP)
    add("--knockout", action="append", required=True, type=knockout_spec, metavar="PART[:STAGES]", help=knockout_help)
    add("--target", default=None, help="class explained in both (default: the top-1 class as trained)")
    add("--opacity", type=unit_float, default=0.5)
    add("--out", required=True, help="output folder: as_trained/, knocked_out/ and knockout.json")
    knockout_parser.set_defaults(run=run_knockout)

    lesson_parser = commands.add_parser(
        "lesson", help="The ten-step lesson on one image as one self-contained HTML file, and its figures."
    )
    add = lesson_parser.add_argument
    add("image", help="image file")
    add("--variant", default=DEFAULT_VARIANT, type=variant_name, help=VARIANT_HELP)
    add("--target", default=None, help="class to explain, by index or name (default: the top-1 class)")
    add("--lang", default=DEFAULT_LANGUAGE, choices=[lang.code for lang in languages()], help="the handout's language")
    add("--out", required=True, help="output folder: lesson.html and figures/")
    lesson_parser.set_defaults(run=run_lesson)

    i18n_command.add_parser(commands)
    variants_parser = commands.add_parser("variants", help="List the variants.")
    variants_parser.set_defaults(run=run_variants)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
