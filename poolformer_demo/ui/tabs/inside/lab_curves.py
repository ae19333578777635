"""The ablation lab's training curves as inlined pictures: the reference runs', and a live run's so far
beside the reference's. Nothing here imports Gradio."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from .... import render
from ....plots import figure_to_rgb
from ....shapes.lab import ArmRun, LabProgress, LabResult
from ....shapes.lab_results import plot_curves

# The curves are flat colours on white: a 128-colour palette keeps them exact at a fifth of the bytes.
CURVE_COLOURS = 128


def curves_uri(
    runs: LabResult | Sequence[ArmRun],
    title: str = "",
    reference: LabResult | None = None,
    until: int | None = None,
    scale: float = 1.0,
) -> str:
    """The training curves (loss and accuracy per arm) as an inlined PNG; with a ``reference``, its
    curves of the same arms dashed beside them, up to step ``until`` (a live run's budget); ``scale``
    enlarges the text (``plots.PRESENTER_SCALE`` for a projector)."""
    curves = figure_to_rgb(plot_curves(runs, title, reference=reference, until=until, scale=scale))
    return render.data_uri(Image.fromarray(curves).quantize(CURVE_COLOURS))


def reference_title(result: LabResult) -> str:
    return f"{result.steps:,} steps, seeds {', '.join(map(str, result.seeds))}"


def partial_run(p: LabProgress) -> ArmRun:
    """The run in progress, for its curve to be drawn beside the finished ones (it has no scores yet)."""
    return ArmRun(p.arm, p.seed, p.step, float("nan"), float("nan"), p.curve, 0, p.seconds)
