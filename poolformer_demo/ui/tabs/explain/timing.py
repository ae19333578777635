"""How long the explanations should take on this kind of server, from measured times scaled by
the work each setting asks for. Nothing here imports Gradio."""

from __future__ import annotations

import math

from ....attributions import (
    DEFAULT_SETTINGS,
    IntegratedGradientsSettings,
    OcclusionSettings,
    SmoothGradSettings,
    occlusion_geometry,
)
from ....variants import HUB_VARIANTS

# Seconds with the default settings on PoolFormer-S12 at 224 px, through the /explain and /sanity
# endpoints of the app served as app.py serves it on two CPU cores (one core per request, so two
# requests run at once), nothing else running; median of 3. When other work shares the cores the
# same runs took several times longer.
S12_SECONDS = {"ig": 3.2, "smoothgrad": 2.4, "occlusion": 6.8}


S12_FAITHFULNESS_SECONDS = 12.0
"""Deletion and insertion for four maps and the random baseline (20 steps, 3 random orders)."""


S12_SANITY_CAM_SECONDS = 1.8
"""The sanity check of a CAM method: 17 steps, each one forward and backward pass."""


BUSY_NOTE = "on a server with two CPU cores and nothing else running; a busy server takes longer"


def seconds_text(value: float) -> str:
    return f"about {value:.0f} s" if value >= 2 else f"about {value:.1f} s"


def model_passes(method: str, settings, crop: int = 224) -> int:
    """How many images a pixel method sends through the model with `settings` (its cost)."""
    if isinstance(settings, IntegratedGradientsSettings):
        return settings.n_steps
    if isinstance(settings, SmoothGradSettings):
        return settings.nt_samples
    if isinstance(settings, OcclusionSettings):
        window, stride = occlusion_geometry(settings, (crop, crop))
        return 1 + (math.ceil((crop - window) / stride) + 1) ** 2
    raise ValueError(f"no pixel method {method!r}")


def expected_seconds(method: str, settings) -> float:
    """The time a pixel method with `settings` should take on S12 on two cores: the measured time of
    its defaults, scaled by the number of images it sends through the model."""
    default = DEFAULT_SETTINGS[method]
    return S12_SECONDS[method] * model_passes(method, settings) / model_passes(method, default)


def slowdown_text() -> str:
    """How much longer than S12 the other models take, from their MACs."""
    s12 = HUB_VARIANTS["s12"].macs_g
    factors = ", ".join(f"{v.name.upper()} ×{v.macs_g / s12:.1f}" for v in HUB_VARIANTS.values() if v.name != "s12")
    return (
        f"Other models take longer in proportion to their MACs: {factors}; the shapes model (128 px) a fraction "
        "of S12's time."
    )
