"""The command line: `python -m poolformer_demo analyze IMAGE [IMAGE ...] --variant s12 --out DIR`."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .analysis import Analysis, analyze
from .errors import PoolFormerDemoError
from .render import overlay, upscale, with_caption
from .variants import DEFAULT_VARIANT, VARIANTS, get_variant

FEATURE_VIEWS = ("mean", "pca", "channels")


def write_analysis(analysis: Analysis, folder: Path, opacity: float = 0.5) -> None:
    """Write one analysis as PNG pictures, predictions.json and cams.npz."""
    folder.mkdir(parents=True, exist_ok=True)
    analysis.input_image.save(folder / "input.png")
    for stage in analysis.stages:
        caption = f"{stage.caption} · Grad-CAM: {analysis.target.label}"
        with_caption(overlay(analysis.input_image, stage.cam, opacity), caption).save(folder / f"gradcam_stage{stage.index}.png")
        for view in FEATURE_VIEWS:
            picture = upscale(getattr(stage.views, view))
            with_caption(picture, f"{stage.caption} · {view}").save(folder / f"features_stage{stage.index}_{view}.png")
    summary = {
        "variant": analysis.variant.name,
        "weights_source": analysis.weights_source,
        "target": _prediction(analysis.target),
        "top_k": [_prediction(p) for p in analysis.predictions],
        "stages": [{"index": s.index, "shape": list(s.shape), "stride": s.stride} for s in analysis.stages],
        "crop_size": list(analysis.input_image.size[::-1]),
        "notes": list(analysis.notes),
        "seconds": round(analysis.seconds, 3),
    }
    (folder / "predictions.json").write_text(json.dumps(summary, indent=2))
    np.savez_compressed(folder / "cams.npz", **{f"stage{s.index}": s.cam_raw for s in analysis.stages})


def _prediction(prediction) -> dict:
    return {"index": prediction.index, "label": prediction.label, "probability": prediction.probability}


def _output_folders(images: list[Path], out: Path) -> list[Path]:
    # Two inputs with the same file name (a/cat.jpg, b/cat.jpg) must not overwrite each other.
    used: set[str] = set()
    folders = []
    for image in images:
        stem = image.stem or "image"
        name, suffix = stem, 1
        while name in used:
            suffix += 1
            name = f"{stem}-{suffix}"
        used.add(name)
        folders.append(out / name)
    return folders


def run_analyze(args: argparse.Namespace) -> int:
    images = [Path(p) for p in args.images]
    failures = 0
    for image, folder in zip(tqdm(images, desc="Analysing", unit="image"), _output_folders(images, Path(args.out))):
        try:
            analysis = analyze(str(image), args.variant, target=args.target, top_k=args.top_k)
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


def run_variants(_: argparse.Namespace) -> int:
    for variant in VARIANTS.values():
        print(f"{variant.name:5} depths {list(variant.depths)} widths {list(variant.hidden_sizes)}  {variant.title}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m poolformer_demo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    analyze_parser = commands.add_parser("analyze", help="Write predictions, feature maps and Grad-CAM for images.")
    analyze_parser.add_argument("images", nargs="+", help="image files")
    analyze_parser.add_argument("--variant", default=DEFAULT_VARIANT, type=_variant_name, help="s12, s24, s36, m36, m48 or demo")
    analyze_parser.add_argument("--target", default=None, help="class to explain, by index or name (default: the top-1 class)")
    analyze_parser.add_argument("--top-k", type=_positive_int, default=5)
    analyze_parser.add_argument("--opacity", type=_unit_float, default=0.5, help="Grad-CAM overlay opacity, 0..1")
    analyze_parser.add_argument("--out", required=True, help="output folder, one sub-folder per image")
    analyze_parser.set_defaults(run=run_analyze)

    variants_parser = commands.add_parser("variants", help="List the variants.")
    variants_parser.set_defaults(run=run_variants)
    return parser


def _positive_int(value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return int(value)


def _unit_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {value!r}")
    return number


def _variant_name(value: str) -> str:
    try:
        return get_variant(value).name
    except PoolFormerDemoError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)
