"""The norm × mixer grid: which path moves information between positions.

PoolFormer's ``GroupNorm`` with one group takes one mean and one variance over every position of an
image, so a network without any token mixer still passes information between positions through it.
The grid trains the lab's network on one task with each norm (``group``: PoolFormer's; ``position``:
each position over its channels, so that only the token mixer can carry anything between positions)
and each token mixer, many seeds per cell and the same budget for every cell, and keeps every run.

A grid is written after every run and resumes from its file, so a long grid can be stopped and
continued, or split over processes by seed and merged (:func:`merge_grids`).  The shipped one is
reproduced by::

    python -m poolformer_demo.shapes lab --grid --task pairs
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..variants import ASSETS_DIR
from .arms import ARMS, NORMS
from .lab import LAB_CONFIGS, ArmRun, LabConfig, LabResult, run_lab
from .lab_results import _write_json, merge_results, provenance, result_from_json
from .tasks import TASKS

__all__ = [
    "GRID_MIXERS",
    "GRID_SEEDS",
    "LEARNED_ACCURACY",
    "GridCell",
    "LabGrid",
    "paired_differences",
    "grid_command",
    "grid_markdown",
    "grid_steps_markdown",
    "grid_path",
    "load_grid",
    "merge_grids",
    "run_grid",
    "save_grid",
]

# The token mixers of the grid: none, PoolFormer's 3x3 pooling, the same mixer reaching the whole
# stage, and a frozen random matrix over the stage's tokens.
GRID_MIXERS: tuple[str, ...] = ("identity", "pooling", "global", "random")
GRID_SEEDS: tuple[int, ...] = tuple(range(10))


def grid_path(task: str = "pairs") -> Path:
    """Where the shipped grid of ``task`` lives."""
    return ASSETS_DIR / "lab" / f"grid_{task}.json"


def grid_command(task: str = "pairs") -> str:
    """The command that reproduces :func:`grid_path` of ``task``."""
    return f"python -m poolformer_demo.shapes lab --grid --task {task}"


@dataclass(frozen=True)
class LabGrid:
    """Every run of a norm × mixer grid: one :class:`~poolformer_demo.shapes.lab.LabResult` per norm."""

    task: str
    mixers: tuple[str, ...]
    seeds: tuple[int, ...]
    cells: tuple[tuple[str, LabResult], ...]
    """(norm, the runs of every mixer with that norm), in :data:`~poolformer_demo.shapes.arms.NORMS` order."""

    @property
    def norms(self) -> tuple[str, ...]:
        return tuple(norm for norm, _ in self.cells)

    def result(self, norm: str) -> LabResult | None:
        return dict(self.cells).get(norm)

    def runs(self, norm: str, mixer: str) -> tuple[ArmRun, ...]:
        """The runs of one cell, in seed order."""
        result = self.result(norm)
        return tuple(sorted(result.runs_of(mixer), key=lambda r: r.seed)) if result else ()

    @property
    def steps(self) -> int:
        return max((result.steps for _, result in self.cells), default=0)

    @property
    def complete(self) -> bool:
        """Whether every cell of its norms has a run for every seed."""
        return bool(self.norms) and all(
            len(self.runs(norm, mixer)) == len(self.seeds) for norm in self.norms for mixer in self.mixers
        )

    @property
    def chance(self) -> float:
        return TASKS[self.task].chance

    def cell(self, norm: str, mixer: str) -> GridCell | None:
        """One cell's numbers, or None where it has no run."""
        runs = self.runs(norm, mixer)
        if not runs:
            return None
        return GridCell(
            norm=norm,
            mixer=mixer,
            steps=runs[0].steps,
            seeds=tuple(r.seed for r in runs),
            accuracies=tuple(r.accuracy for r in runs),
            learned_at=tuple(_first_step_at(r, LEARNED_ACCURACY) for r in runs),
            rising=tuple(_still_rising(r, self.chance) for r in runs),
            partly=tuple(self.chance + LEFT_CHANCE <= r.accuracy < LEARNED_ACCURACY for r in runs),
        )

    def all_cells(self) -> tuple[GridCell, ...]:
        """Every cell that has runs, norm by norm in the grid's mixer order."""
        cells = (self.cell(norm, mixer) for norm in self.norms for mixer in self.mixers)
        return tuple(cell for cell in cells if cell is not None)

    def to_json(self) -> dict:
        """The grid as plain JSON data: every cell's per-seed numbers, and every run (ArmRun.to_json)."""
        return {
            "task": self.task,
            "mixers": list(self.mixers),
            "seeds": list(self.seeds),
            "steps": self.steps,
            "chance": self.chance,
            "learned_accuracy": LEARNED_ACCURACY,
            "cells": [
                cell.to_json() for norm in self.norms for mixer in self.mixers if (cell := self.cell(norm, mixer))
            ],
            "norms": {norm: result.to_json() for norm, result in self.cells},
        }


# A seed counts as having learned the task when its held-out accuracy reaches this (chance is 50 %
# on pairs): runs that learn end at 99-100 %, the others at 50 %, so any cut between says the same.
LEARNED_ACCURACY = 0.9
# A run that ends this far above chance without reaching LEARNED_ACCURACY learned part of the task
# (15 of 300 held-out images: more than one measurement differs from the next at chance).
LEFT_CHANCE = 0.05
# A run whose last held-out measurement is this far above its previous one, without having
# learned, was still learning when its budget ended.
RISING_POINTS = 0.02


@dataclass(frozen=True)
class GridCell:
    """One (norm, mixer) cell of a grid, seed by seed."""

    norm: str
    mixer: str
    steps: int
    seeds: tuple[int, ...]
    accuracies: tuple[float, ...]
    """Held-out accuracy at the end of each seed's run."""
    learned_at: tuple[int | None, ...]
    """The first step at which each seed's held-out accuracy reached LEARNED_ACCURACY (None: never)."""
    rising: tuple[bool, ...]
    """Whether each seed had not learned but was still rising at its last measurement."""
    partly: tuple[bool, ...] = ()
    """Whether each seed ended above chance (by LEFT_CHANCE) without having learned."""

    @property
    def learned(self) -> int:
        """How many seeds learned the task within the budget."""
        return sum(step is not None for step in self.learned_at)

    @property
    def still_rising(self) -> int:
        return sum(self.rising)

    @property
    def partly_learned(self) -> int:
        return sum(self.partly)

    def on_seeds(self, seeds) -> GridCell:
        """The cell restricted to ``seeds`` (for comparisons seed by seed with another cell)."""
        keep = [i for i, seed in enumerate(self.seeds) if seed in set(seeds)]

        def pick(values: tuple) -> tuple:
            return tuple(values[i] for i in keep) if values else ()

        return replace(
            self,
            seeds=pick(self.seeds),
            accuracies=pick(self.accuracies),
            learned_at=pick(self.learned_at),
            rising=pick(self.rising),
            partly=pick(self.partly),
        )

    def to_json(self) -> dict:
        return {
            "norm": self.norm,
            "mixer": self.mixer,
            "steps": self.steps,
            "seeds": list(self.seeds),
            "accuracies": list(self.accuracies),
            "learned": self.learned,
            "learned_at": list(self.learned_at),
            "still_rising": self.still_rising,
            "partly_learned": self.partly_learned,
        }


def _first_step_at(run: ArmRun, accuracy: float) -> int | None:
    return next((step for step, value in run.held_out if value >= accuracy), None)


def _still_rising(run: ArmRun, chance: float) -> bool:
    values = [value for _, value in run.held_out]
    if len(values) < 2 or values[-1] >= LEARNED_ACCURACY:
        return False
    return values[-1] - values[-2] >= RISING_POINTS and values[-1] > chance + RISING_POINTS


def paired_differences(grid: LabGrid, norm: str, mixer: str, other: str) -> tuple[float, ...]:
    """``mixer``'s held-out accuracy minus ``other``'s, seed by seed (seeds share their data order,
    so each seed is a pair), over the seeds both have."""
    mine = {r.seed: r.accuracy for r in grid.runs(norm, mixer)}
    theirs = {r.seed: r.accuracy for r in grid.runs(norm, other)}
    return tuple(mine[seed] - theirs[seed] for seed in sorted(mine) if seed in theirs)


def _markdown_table(grid: LabGrid, says: Callable[[GridCell], str]) -> str:
    """A README table of ``grid``: a row per norm, a column per mixer, each cell what ``says`` of it."""
    lines = [
        "| norm | " + " | ".join(grid.mixers) + " |",
        "|---|" + "---|" * len(grid.mixers),
    ]
    for norm in grid.norms:
        cells = ["–" if (cell := grid.cell(norm, mixer)) is None else says(cell) for mixer in grid.mixers]
        lines.append(f"| {norm} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def grid_markdown(grid: LabGrid) -> str:
    """The README table of ``grid``: each cell the seeds that learned the task and every seed's
    held-out accuracy (%, in seed order)."""

    def says(cell: GridCell) -> str:
        seeds = " · ".join(f"{100 * a:.0f}" for a in cell.accuracies)
        return f"{cell.learned} of {len(cell.seeds)} ({seeds})"

    return _markdown_table(grid, says)


def grid_steps_markdown(grid: LabGrid) -> str:
    """The README table of when each seed learned: per cell, the step at which each seed's held-out
    accuracy first reached LEARNED_ACCURACY ("–": not within the budget), in seed order."""
    return _markdown_table(grid, lambda cell: " · ".join("–" if s is None else f"{s:,}" for s in cell.learned_at))


def save_grid(grid: LabGrid, path: str | Path, command: str) -> Path:
    """Write ``grid`` as JSON with the ``command`` that reproduces it (temporary name, then renamed)."""
    data = {
        **provenance(command),
        "task": grid.task,
        "mixers": list(grid.mixers),
        "seeds": list(grid.seeds),
        "norms": {norm: result.to_json() for norm, result in grid.cells},
    }
    return _write_json(data, path)


def load_grid(path: str | Path | None = None, task: str = "pairs") -> LabGrid:
    """The grid in ``path`` (by default the shipped grid of ``task``)."""
    data = json.loads(Path(path or grid_path(task)).read_text())
    cells = {norm: result_from_json(result) for norm, result in data["norms"].items()}
    return LabGrid(
        task=data["task"],
        mixers=tuple(data["mixers"]),
        seeds=tuple(data["seeds"]),
        cells=tuple((norm, cells[norm]) for norm in NORMS if norm in cells),
    )


def merge_grids(grids: Sequence[LabGrid]) -> LabGrid:
    """One grid from grids of the same task and budget split over processes (by seed)."""
    first = grids[0]
    if any(g.task != first.task for g in grids):
        raise ValueError("only grids of one task can be merged")
    cells = []
    for norm in NORMS:
        parts = [r for g in grids if (r := g.result(norm)) is not None]
        if parts:
            cells.append((norm, merge_results(parts)))
    # The grid's own order (no mixer, then wider and wider reach), then any other arm.
    order = (*GRID_MIXERS, *(m for m in ARMS if m not in GRID_MIXERS))
    mixers = tuple(m for m in order if any(m in g.mixers for g in grids))
    seeds = tuple(sorted({s for g in grids for s in g.seeds}))
    return LabGrid(first.task, mixers, seeds, tuple(cells))


def run_grid(
    task: str = "pairs",
    mixers: Sequence[str] = GRID_MIXERS,
    seeds: Sequence[int] = GRID_SEEDS,
    norms: Sequence[str] = NORMS,
    steps: int | None = None,
    *,
    config: LabConfig | None = None,
    out: str | Path | None = None,
    command: str = "",
    report: Callable[[str, str, int, ArmRun], None] | None = None,
) -> LabGrid:
    """Train every (norm, mixer, seed) of the grid once, seed by seed, and return the grid.

    With ``out``, the grid is written after every run, and runs already in that file (same task,
    budget and configuration) are kept rather than trained again.  ``report(norm, mixer, seed,
    run)`` is called after each new run.  ``config`` replaces the task's
    :data:`~poolformer_demo.shapes.lab.LAB_CONFIGS` entry (its norm is set per cell).
    """
    unknown = [m for m in mixers if m not in ARMS] + [n for n in norms if n not in NORMS]
    if unknown:
        raise ValueError(f"unknown mixers or norms: {', '.join(unknown)}")
    base = config or LAB_CONFIGS[task]
    steps = base.steps if steps is None else int(steps)
    configs: dict[str, LabConfig] = {norm: replace(base, norm=norm, steps=max(steps, base.steps)) for norm in norms}
    done: dict[str, LabResult] = {}
    if out is not None and Path(out).is_file():
        earlier = load_grid(out)
        for norm, result in earlier.cells:
            if norm in configs and result.config == configs[norm] and result.steps == steps:
                done[norm] = result
    grid = _grid(task, mixers, seeds, done)
    for seed in seeds:
        for norm in norms:
            for mixer in mixers:
                if any(r.seed == seed for r in grid.runs(norm, mixer)):
                    continue
                result = run_lab([mixer], steps, [seed], config=configs[norm])
                done[norm] = merge_results([done[norm], result]) if norm in done else result
                grid = _grid(task, mixers, seeds, done)
                if out is not None:
                    save_grid(grid, out, command)
                if report is not None:
                    report(norm, mixer, seed, result.runs[0])
    return grid


def _grid(task: str, mixers: Sequence[str], seeds: Sequence[int], cells: dict[str, LabResult]) -> LabGrid:
    return LabGrid(task, tuple(mixers), tuple(seeds), tuple((n, cells[n]) for n in NORMS if n in cells))
