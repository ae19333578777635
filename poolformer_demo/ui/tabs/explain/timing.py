"""How long the explanations should take on this kind of server, from measured times scaled by
the work each setting asks for. Nothing here imports Gradio."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ....attributions import (
    DEFAULT_SETTINGS,
    IntegratedGradientsSettings,
    OcclusionSettings,
    SmoothGradSettings,
    occlusion_geometry,
)
from ....variants import ASSETS_DIR, HUB_VARIANTS

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


@lru_cache(maxsize=1)
def timings(path: Path = TIMINGS_PATH) -> Timings:
    return Timings(**json.loads(Path(path).read_text()))


BUSY_NOTE = "on a server with two CPU cores and nothing else running; a busy server takes longer"


def seconds_text(value: float) -> str:
    return f"about {value:.0f} s" if value >= 2 else f"about {value:.1f} s"


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


def expected_seconds(method: str, settings) -> float:
    """The time a pixel method with `settings` should take on the measured variant (S12) on two cores:
    the measured time of its defaults, scaled by the number of images it sends through the model."""
    default = DEFAULT_SETTINGS[method]
    return timings().seconds[method] * model_passes(method, settings) / model_passes(method, default)


def slowdown_text() -> str:
    """How much longer than S12 the other models take, from their MACs."""
    s12 = HUB_VARIANTS["s12"].macs_g
    factors = ", ".join(f"{v.name.upper()} ×{v.macs_g / s12:.1f}" for v in HUB_VARIANTS.values() if v.name != "s12")
    return (
        f"Other models take longer in proportion to their MACs: {factors}; the shapes model (128 px) a fraction "
        "of S12's time."
    )
