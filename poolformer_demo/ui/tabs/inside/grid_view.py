"""The norm × mixer grid as the lab's pairs page shows it: one row per norm, one column per token
mixer, each cell the seeds that learned the task and every seed's held-out accuracy, the paper's
normalisation rows beside them, and what the grid shows in words (from the core's readings).
Nothing here imports Gradio."""

from __future__ import annotations

import html

from ....readings.grid import grid_reading
from ....readings.seeds import arm_words
from ....readings.sentences import pct
from ....shapes.lab_grid import LEARNED_ACCURACY, GridCell, LabGrid
from ....variants import GROUP_NORM_SETTING, POSITION_NORM_SETTING, paper_result
from ...kit.view import more_html

NORM_TITLES = {
    "group": "one group over the whole image (PoolFormer's GroupNorm)",
    "position": "each position over its channels (per-position LayerNorm)",
}
# The paper's own row for each norm (Table 5, S12 with pooling, ImageNet top-1).
NORM_PAPER_SETTINGS = {"group": GROUP_NORM_SETTING, "position": POSITION_NORM_SETTING}


def _cell(cell: GridCell | None) -> str:
    if cell is None:
        return '<td class="pf-num">–</td>'
    seeds = " · ".join(f"{100 * a:.0f}" for a in cell.accuracies)
    label = f"held-out accuracy per seed (%): {seeds}"
    return (
        f'<td class="pf-num pf-grid-cell" data-learned="{cell.learned}" data-seeds="{len(cell.seeds)}">'
        f"<b>{cell.learned} of {len(cell.seeds)}</b> learned"
        f'<span class="pf-seeds" title="{html.escape(label)}">{html.escape(seeds)}</span></td>'
    )


def grid_table(grid: LabGrid) -> str:
    head = "".join(f"<th>{html.escape(arm_words(mixer))}</th>" for mixer in grid.mixers)
    rows = "".join(
        f'<tr data-norm="{norm}"><th scope="row">{html.escape(NORM_TITLES.get(norm, norm))}</th>'
        + "".join(_cell(grid.cell(norm, mixer)) for mixer in grid.mixers)
        + f'<td class="pf-num pf-paper">{paper_result(NORM_PAPER_SETTINGS[norm]).top1:g} %</td></tr>'
        for norm in grid.norms
    )
    seeds = len(grid.seeds)
    return (
        '<div class="pf-table-scroll"><table class="pf-lab-table pf-grid-table">'
        f"<caption>Pairs task, {grid.steps:,} steps: how many of {seeds} seeds learned it (held-out accuracy at least "
        f"{pct(LEARNED_ACCURACY)}; chance {pct(grid.chance)}), and each seed's held-out accuracy in %</caption>"
        f"<thead><tr><th>norm</th>{head}<th>paper: S12 with this norm, ImageNet top-1</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def grid_html(grid: LabGrid, command: str) -> str:
    """The grid's section: the table, how it was made, and what it shows."""
    sentences = [s for reading in grid_reading(grid) for s in reading.sentences() if s]
    return (
        '<section class="pf-lab-grid" aria-labelledby="pf-grid-title">'
        '<h4 id="pf-grid-title">What moves information between positions: norm × token mixer</h4>'
        f"{grid_table(grid)}"
        f'<p class="pf-note">The lab\'s network with every norm swapped (two per block and the one before the '
        f"classifier) and every token mixer swapped, the rest as in the reference; seeds "
        f"{', '.join(map(str, grid.seeds))}, the same data order for every cell of a seed. Reproduce it with "
        f"<code>{html.escape(command)}</code>.</p>"
        f'<div class="pf-lab-reading"><b>What it shows.</b> {more_html(sentences)}</div>'
        "</section>"
    )


def grid_api(grid: LabGrid, command: str) -> dict:
    """The grid for programs: LabGrid.to_json, its command and what it shows in words."""
    return {
        **grid.to_json(),
        "command": command,
        "reading": " ".join(s for reading in grid_reading(grid) for s in reading.sentences() if s),
    }
