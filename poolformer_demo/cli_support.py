"""What the subcommands share: argument types (each turns a string into a checked value or an
argparse error that says what was expected), a progress bar and output folder names."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from .attributions import parse_methods
from .comparison import parse_variants
from .errors import PoolFormerDemoError
from .knockouts import parse_knockout_spec
from .variants import STAGE_COUNT, get_variant


def output_folders(images: list[Path], out: Path) -> list[Path]:
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


class ProgressBar:
    """A tqdm bar driven by a progress(fraction, title) callback."""

    def __init__(self, desc: str):
        self.desc = desc
        self.bar = tqdm(total=1000, desc=desc, bar_format="{desc}: {percentage:3.0f}%|{bar}|")

    def __call__(self, fraction: float, title: str) -> None:
        self.bar.n = round(1000 * min(max(fraction, 0.0), 1.0))
        self.bar.set_description_str(f"{self.desc} ({title})", refresh=True)

    def close(self) -> None:
        self.bar.close()


def positive_int(value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return int(value)


def natural_int(value: str) -> int:
    if not value.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 0, got {value!r}")
    return int(value)


def knockout_spec(value: str) -> str:
    try:
        parse_knockout_spec(value, STAGE_COUNT)
    except PoolFormerDemoError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def unit_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {value!r}")
    return number


def all_methods() -> list[str]:
    from .attributions import METHOD_TITLES

    return list(METHOD_TITLES)


def methods(value: str) -> str:
    try:
        return ",".join(parse_methods(value))
    except PoolFormerDemoError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def variant_list(value: str) -> str:
    try:
        return ",".join(parse_variants(value))
    except PoolFormerDemoError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def stage(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= STAGE_COUNT:
        raise argparse.ArgumentTypeError(f"expected a stage from 1 to {STAGE_COUNT}, got {value!r}")
    return int(value)


def variant_name(value: str) -> str:
    try:
        return get_variant(value).name
    except PoolFormerDemoError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
