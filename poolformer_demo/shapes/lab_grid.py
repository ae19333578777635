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
import platform
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from ..variants import ASSETS_DIR
from .arms import ARMS, NORMS
from .lab import LAB_CONFIGS, ArmRun, LabConfig, LabResult, run_lab
from .lab_results import _write_json, merge_results, result_from_json

__all__ = [
    "GRID_MIXERS",
    "GRID_SEEDS",
    "LabGrid",
    "grid_command",
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


def save_grid(grid: LabGrid, path: str | Path, command: str) -> Path:
    """Write ``grid`` as JSON with the ``command`` that reproduces it (temporary name, then renamed)."""
    import torch
    import transformers

    data = {
        "command": command,
        "environment": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
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
    mixers = tuple(m for m in ARMS if any(m in g.mixers for g in grids))
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
