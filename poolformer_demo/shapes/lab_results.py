"""Lab results as data: mean ± spread per arm, the shipped reference run, JSON files and curve plots."""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..plots import enlarge_text
from ..variants import ASSETS_DIR
from .arms import ARMS
from .lab import ArmRun, CurvePoint, LabConfig, LabResult
from .tasks import TASKS

if TYPE_CHECKING:  # matplotlib loads with the first plot, not with the app
    from matplotlib.figure import Figure

__all__ = [
    "REFERENCE_COMMAND",
    "REFERENCE_PATH",
    "reference_command",
    "reference_path",
    "ArmSummary",
    "HeldOutAt",
    "SeedScore",
    "held_out_at",
    "measured_step",
    "load_reference",
    "markdown_table",
    "merge_results",
    "load_result",
    "plot_curves",
    "save_result",
    "summarize",
]


def reference_path(task: str = "shapes") -> Path:
    """Where the shipped reference run of ``task`` lives."""
    return ASSETS_DIR / "lab" / ("reference.json" if task == "shapes" else f"reference_{task}.json")


def reference_command(task: str = "shapes") -> str:
    """The command that reproduces :func:`reference_path` of ``task``."""
    return f"python -m poolformer_demo.shapes lab --reference --task {task}"


REFERENCE_PATH = reference_path("shapes")
REFERENCE_COMMAND = reference_command("shapes")


# A run still learning at its end has held-out accuracy rising over the budget's last stretch: from
# its measurement at three quarters of the budget (or the latest one before) to its last.
LATE_STRETCH = 0.25


@dataclass(frozen=True)
class SeedScore:
    """One seed of one arm: its held-out accuracy, and how much that rose over the budget's last
    quarter (None where the run measured it too rarely to tell)."""

    seed: int
    accuracy: float
    late_gain: float | None = None


def late_gain(run: ArmRun) -> float | None:
    """Held-out accuracy at the run's last measurement minus at its latest measurement at or before
    ``1 - LATE_STRETCH`` of its steps."""
    measured = sorted(run.held_out)
    if len(measured) < 2:
        return None
    cut = (1 - LATE_STRETCH) * measured[-1][0]
    earlier = [accuracy for step, accuracy in measured[:-1] if step <= cut]
    return measured[-1][1] - earlier[-1] if earlier else None


@dataclass(frozen=True)
class ArmSummary:
    """One arm over its seeds: mean and spread (sample standard deviation; 0 for one seed)."""

    arm: str
    title: str
    seeds: int
    accuracy_mean: float
    accuracy_std: float
    pointing_mean: float
    pointing_std: float
    paper_top1: float | None
    """ImageNet-1k top-1 (%) of the same change trained at S12 size (MetaFormer, Table 5); None where
    the papers trained no such model."""
    per_seed: tuple[SeedScore, ...] = ()
    """Each seed's own score: arms share their seeds' data order, so they are compared seed by seed."""
    parameters: int = 0
    """Trainable parameters of the arm's network."""


def summarize(result: LabResult) -> tuple[ArmSummary, ...]:
    """Mean ± spread of held-out accuracy and pointing game per arm, in the lab's arm order."""
    rows = []
    for name in result.arms:
        runs = result.runs_of(name)
        if not runs:
            continue
        acc = np.array([r.accuracy for r in runs])
        pg = np.array([r.pointing_game for r in runs])
        rows.append(
            ArmSummary(
                arm=name,
                title=ARMS[name].title,
                seeds=len(runs),
                accuracy_mean=float(acc.mean()),
                accuracy_std=float(acc.std(ddof=1)) if len(runs) > 1 else 0.0,
                pointing_mean=float(pg.mean()),
                pointing_std=float(pg.std(ddof=1)) if len(runs) > 1 else 0.0,
                paper_top1=ARMS[name].paper.top1 if ARMS[name].paper else None,
                per_seed=tuple(SeedScore(r.seed, r.accuracy, late_gain(r)) for r in runs),
                parameters=runs[0].parameters,
            )
        )
    return tuple(rows)


@dataclass(frozen=True)
class HeldOutAt:
    """One arm's held-out accuracy after a given step, over the seeds that measured it."""

    step: int
    mean: float
    std: float
    seeds: int


def held_out_at(result: LabResult, arm: str, step: int) -> HeldOutAt | None:
    """``arm``'s held-out accuracy after ``step`` steps in ``result`` (mean and spread over its
    seeds), or None when no run of it was measured there."""
    values = [a for a in (r.held_out_at(step) for r in result.runs_of(arm)) if a is not None]
    if not values:
        return None
    spread = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return HeldOutAt(step, float(np.mean(values)), spread, len(values))


def measured_step(result: LabResult, step: int) -> int | None:
    """The latest step at or before ``step`` at which ``result``'s runs measured held-out accuracy."""
    steps = [s for run in result.runs for s, _ in run.held_out if s <= step]
    return max(steps, default=None)


def save_result(result: LabResult, path: str | Path, command: str) -> Path:
    """Write ``result`` as JSON with the ``command`` that reproduces it (written to a temporary name, then renamed)."""
    return _write_json({**provenance(command), **result.to_json()}, path)


def provenance(command: str) -> dict:
    """How a shipped result was made: the command that reproduces it and the versions it ran on."""
    import torch
    import transformers

    return {
        "command": command,
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
    }


def _write_json(data: dict, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1) + "\n")
    partial.replace(path)
    return path


def load_result(path: str | Path) -> LabResult:
    """A :class:`LabResult` from a file written by :func:`save_result`."""
    return result_from_json(json.loads(Path(path).read_text()))


def result_from_json(data: dict) -> LabResult:
    """The inverse of :meth:`LabResult.to_json`."""
    config = data["config"]
    return LabResult(
        arms=tuple(data["arms"]),
        seeds=tuple(data["seeds"]),
        steps=data["steps"],
        image_size=data["image_size"],
        config=LabConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}),
        runs=tuple(
            ArmRun(
                arm=r["arm"],
                seed=r["seed"],
                steps=r["steps"],
                accuracy=r["accuracy"],
                pointing_game=r["pointing_game"],
                parameters=r["parameters"],
                seconds=r["seconds"],
                curve=tuple(
                    CurvePoint(*p) for p in zip(r["curve"]["step"], r["curve"]["loss"], r["curve"]["accuracy"])
                ),
                held_out=tuple(zip(r.get("held_out", {}).get("step", ()), r.get("held_out", {}).get("accuracy", ()))),
            )
            for r in data["runs"]
        ),
        stopped=data["stopped"],
        seconds=data["wall_seconds"],
        centre_baseline=data["centre_baseline"],
        chance_pointing=data.get("chance_pointing", 0.0),
    )


def merge_results(results: Sequence[LabResult]) -> LabResult:
    """One result from runs of the same lab split over processes (by seed, by arm).

    Each run depends only on its arm, its seed and the shared configuration, so the merged result
    holds the same runs as one process running them all; ``seconds`` is the sum of the parts.
    """
    first = results[0]
    for other in results[1:]:
        if (other.config, other.steps, other.image_size) != (first.config, first.steps, first.image_size):
            raise ValueError("only runs of the same configuration, steps and image size can be merged")
    present = {a for r in results for a in r.arms}
    arms = tuple(a for a in ARMS if a in present)
    seeds = tuple(sorted({s for r in results for s in r.seeds}))
    order = {arm: i for i, arm in enumerate(arms)}
    runs = sorted((run for r in results for run in r.runs), key=lambda run: (run.seed, order[run.arm]))
    return replace(
        first,
        arms=arms,
        seeds=seeds,
        runs=tuple(runs),
        stopped=any(r.stopped for r in results),
        seconds=sum(r.seconds for r in results),
    )


def load_reference(path: str | Path = REFERENCE_PATH) -> tuple[LabResult, tuple[ArmSummary, ...]]:
    """The shipped reference run and its mean ± spread per arm."""
    result = load_result(path)
    return result, summarize(result)


def markdown_table(result: LabResult) -> str:
    """The README table of ``result``: per arm, accuracy and pointing game (mean ± spread) beside the paper."""
    lines = [
        "| arm | accuracy | pointing game | paper, ImageNet top-1 (S12) |",
        "|---|---|---|---|",
    ]
    for row in summarize(result):
        lines.append(
            f"| {row.title} | {row.accuracy_mean:.1%} ± {100 * row.accuracy_std:.1f} "
            f"| {row.pointing_mean:.1%} ± {100 * row.pointing_std:.1f} | {row.paper_top1:.1f} % |"
        )
    return "\n".join(lines).replace("%", " %").replace("  %", " %")


def plot_curves(
    runs: LabResult | Sequence[ArmRun],
    title: str = "",
    chance: float | None = None,
    reference: LabResult | None = None,
    until: int | None = None,
    scale: float = 1.0,
) -> Figure:
    """Training loss and accuracy over steps, one line per arm (mean over seeds, band from min to max).

    Accepts a finished result or the runs finished so far; returns a matplotlib ``Figure``
    (drawn without pyplot, so it is safe in a server thread).  ``chance`` (a dotted line) defaults to
    one over the task's classes for a result, and to the shapes task's otherwise.  With a
    ``reference``, the reference's curves of the same arms are drawn dashed and lighter beside
    them, up to step ``until`` (the run's budget; by default the reference's whole range), so that
    a run in progress is compared step for step with the runs it repeats. ``scale`` enlarges the
    text (``plots.PRESENTER_SCALE`` for a projector).
    """
    if chance is None:
        task = runs.task if isinstance(runs, LabResult) else (reference.task if reference else "shapes")
        chance = TASKS[task].chance
    runs = runs.runs if isinstance(runs, LabResult) else tuple(runs)
    from matplotlib.figure import Figure

    arms = len(dict.fromkeys(r.arm for r in runs)) * (2 if reference is not None else 1)
    # The legend sits below both plots, never over a curve; the figure grows by its rows, and with
    # larger text (fewer entries a row) the plots grow too.
    columns = 3 if scale < 1.3 else 2
    legend_rows = -(-arms // columns)
    figure = Figure(
        figsize=(9, 3.0 * max(1.0, 0.8 * scale) + 0.22 * scale * legend_rows), dpi=100, layout="constrained"
    )
    loss_ax, acc_ax = figure.subplots(1, 2)
    colours = dict(zip(ARMS, ("#4C72B0", "#DD8452", "#55A868", "#8172B3", "#C44E52", "#937860")))
    names = tuple(dict.fromkeys(r.arm for r in runs))
    if reference is not None:
        for name in names:
            _plot_arm(loss_ax, acc_ax, reference.runs, name, colours.get(name), reference=True, until=until)
        # A run longer than the reference (it is then not comparable) is still drawn whole.
        drawn = (*runs, *(() if until else reference.runs))
        last = max([until or 0, *(r.curve[-1].step for r in drawn if r.curve)])
        if last:
            for ax in (loss_ax, acc_ax):
                ax.set_xlim(0, last)
    for name in names:
        _plot_arm(loss_ax, acc_ax, runs, name, colours.get(name))
    loss_ax.set(xlabel="step", ylabel="training loss")
    acc_ax.set(xlabel="step", ylabel="training accuracy", ylim=(0, 1))
    acc_ax.axhline(chance, color="grey", linestyle=":", linewidth=1)
    if runs:
        figure.legend(
            *acc_ax.get_legend_handles_labels(), fontsize=8, loc="outside lower center", ncol=columns, frameon=False
        )
    if title:
        figure.suptitle(title, fontsize=10)
    enlarge_text(figure, scale)
    return figure


def _plot_arm(
    loss_ax,
    acc_ax,
    runs: Sequence[ArmRun],
    name: str,
    colour: str | None,
    reference: bool = False,
    until: int | None = None,
):
    curves = [tuple(p for p in r.curve if until is None or p.step <= until) for r in runs if r.arm == name]
    curves = [c for c in curves if c]
    length = min((len(c) for c in curves), default=0)
    if not length:
        return
    steps = [p.step for p in curves[0][:length]]
    label = ARMS[name].title if name in ARMS else name
    style = {"linestyle": "--", "alpha": 0.55, "label": f"{label}, reference"} if reference else {"label": label}
    for ax, field in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        values = np.array([[getattr(p, field) for p in c[:length]] for c in curves])
        ax.plot(steps, values.mean(axis=0), color=colour, **style)
        if len(curves) > 1 and not reference:
            ax.fill_between(steps, values.min(axis=0), values.max(axis=0), color=colour, alpha=0.2, linewidth=0)
