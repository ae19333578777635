"""How long the explanations should take on this kind of server, from measured times scaled by
the work each setting asks for. Nothing here imports Gradio."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ....attributions import (
    DEFAULT_SETTINGS,
    IntegratedGradientsSettings,
    OcclusionSettings,
    SmoothGradSettings,
    occlusion_geometry,
)
from ....i18n import Messages, english
from ....variants import ASSETS_DIR, HUB_VARIANTS, Variant

TIMINGS_PATH = ASSETS_DIR / "timings.json"


@dataclass(frozen=True)
class Timings:
    """Measured seconds of the explanations on one variant, as `assets/timings.json` records them
    (`how` says how they were measured; benchmarks/bench_explain.py measures the methods again)."""

    variant: str
    crop_px: int
    how: str
    seconds: dict[str, float]
    """Per pixel method with its default settings; "faithfulness" (deletion and insertion of
    `faithfulness["maps"]` maps and the random baseline); "sanity_cam" (the sanity check of a CAM)."""
    faithfulness: dict[str, int]
    """The work the faithfulness time was measured on: maps, steps, random_orders."""
    sanity_cam_steps: int
    """The steps of that sanity check, one forward and backward pass each."""
    relative: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per bundled model, each pixel method's time as a share of its time on `variant`, measured in
    one run (benchmarks/bench_relative_times.py)."""


@lru_cache(maxsize=1)
def timings(path: Path = TIMINGS_PATH) -> Timings:
    return Timings(**json.loads(Path(path).read_text()))


def busy_note(t: Messages | None = None) -> str:
    """Where the times were measured, said beside them."""
    return (t or english()).text("explain.busy_note")


def seconds_text(value: float, t: Messages | None = None) -> str:
    t = t or english()
    return (
        t.text("explain.about_seconds", seconds=value) if value >= 2 else t.text("explain.about_tenths", seconds=value)
    )


def model_passes(method: str, settings, crop: int | None = None) -> int:
    """How many images a pixel method sends through the model with `settings` (its cost) on a square
    crop of `crop` px (default: the crop the times were measured on)."""
    crop = crop or timings().crop_px
    if isinstance(settings, IntegratedGradientsSettings):
        return settings.n_steps
    if isinstance(settings, SmoothGradSettings):
        return settings.nt_samples
    if isinstance(settings, OcclusionSettings):
        window, stride = occlusion_geometry(settings, (crop, crop))
        return 1 + (math.ceil((crop - window) / stride) + 1) ** 2
    raise ValueError(f"no pixel method {method!r}")


def crop_px(variant: Variant | None = None) -> int:
    """The side of the crop a model sees: a bundled model's own size, else the measured model's."""
    if variant is not None and variant.bundled is not None:
        return variant.bundled.image_px
    return timings().crop_px


def time_share(method: str, variant: Variant | None = None) -> float | None:
    """`method`'s time on `variant` as a share of its measured time on S12: measured for the bundled
    models, from MACs for the ImageNet ones; None where neither is known."""
    measured = timings()
    if variant is None or variant.name == measured.variant:
        return 1.0
    if variant.name in measured.relative:
        return measured.relative[variant.name][method]
    reference = HUB_VARIANTS[measured.variant].macs_g
    return variant.macs_g / reference if variant.macs_g is not None else None


def expected_seconds(method: str, settings, variant: Variant | None = None) -> float | None:
    """The time a pixel method with `settings` should take on `variant` (default: the measured S12)
    on two cores: the measured time of its defaults on S12, times the model's share of it, scaled
    by the number of images the settings send through the model; None where the share is unknown."""
    share = time_share(method, variant)
    if share is None:
        return None
    crop = crop_px(variant)
    default = DEFAULT_SETTINGS[method]
    return (
        timings().seconds[method] * share * model_passes(method, settings, crop) / model_passes(method, default, crop)
    )
