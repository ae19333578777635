"""The norm × mixer grid as the lab's pairs page shows it: one row per norm, one column per token
mixer, each cell the seeds that learned the task and every seed's held-out accuracy, the paper's
normalisation rows beside them, and what the grid shows in words (from the core's readings).
Nothing here imports Gradio."""

from __future__ import annotations

import html

from ....i18n import Messages, english
from ....readings.grid import grid_reading
from ....readings.seeds import arm_words
from ....readings.sentences import pct
from ....shapes.lab_grid import LEARNED_ACCURACY, GridCell, LabGrid
from ....variants import GROUP_NORM_SETTING, POSITION_NORM_SETTING, paper_result
from ...kit.view import more_html

# The paper's own row for each norm (Table 5, S12 with pooling, ImageNet top-1).
NORM_PAPER_SETTINGS = {"group": GROUP_NORM_SETTING, "position": POSITION_NORM_SETTING}


def _cell(cell: GridCell | None, t: Messages) -> str:
    if cell is None:
        return '<td class="pf-num">–</td>'
    seeds = " · ".join(f"{100 * a:.0f}" for a in cell.accuracies)
    label = t.text("grid.cell_label", seeds=seeds)
    learned = t.html_plural("grid.cell", len(cell.seeds), learned=cell.learned)
    return (
        f'<td class="pf-num pf-grid-cell" data-learned="{cell.learned}" data-seeds="{len(cell.seeds)}">'
        f'{learned}<span class="pf-seeds" title="{html.escape(label)}">{html.escape(seeds)}</span></td>'
    )


def grid_table(grid: LabGrid, t: Messages | None = None) -> str:
    t = t or english()
    head = "".join(f"<th>{html.escape(arm_words(mixer, t))}</th>" for mixer in grid.mixers)

    def norm_title(norm: str) -> str:
        return t.text(f"grid.norm.{norm}") if f"grid.norm.{norm}" in english() else norm

    rows = "".join(
        f'<tr data-norm="{norm}"><th scope="row">{html.escape(norm_title(norm))}</th>'
        + "".join(_cell(grid.cell(norm, mixer), t) for mixer in grid.mixers)
        + f'<td class="pf-num pf-paper">{paper_result(NORM_PAPER_SETTINGS[norm]).top1:g} %</td></tr>'
        for norm in grid.norms
    )
    caption = t.plural(
        "grid.caption", len(grid.seeds), steps=grid.steps, learned=pct(LEARNED_ACCURACY), chance=pct(grid.chance)
    )
    return (
        '<div class="pf-table-scroll"><table class="pf-lab-table pf-grid-table">'
        f"<caption>{html.escape(caption)}</caption>"
        f"<thead><tr><th>{html.escape(t.text('grid.head.norm'))}</th>{head}"
        f"<th>{html.escape(t.text('grid.head.paper'))}</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div>"
    )


def grid_html(grid: LabGrid, command: str, t: Messages | None = None) -> str:
    """The grid's section: the table, how it was made, and what it shows."""
    t = t or english()
    sentences = [s for reading in grid_reading(grid) for s in reading.sentences(t) if s]
    how = t.html("grid.how", seeds=", ".join(map(str, grid.seeds)), command=command)
    shows = html.escape(t.text("lab.what_it_shows"))
    return (
        '<section class="pf-lab-grid" aria-labelledby="pf-grid-title">'
        f'<h4 id="pf-grid-title">{html.escape(t.text("grid.title"))}</h4>'
        f"{grid_table(grid, t)}"
        f'<p class="pf-note">{how}</p>'
        f'<div class="pf-lab-reading"><b>{shows}</b> {more_html(sentences, t=t)}</div>'
        "</section>"
    )


def grid_api(grid: LabGrid, command: str) -> dict:
    """The grid for programs: LabGrid.to_json, its command and what it shows in words."""
    return {
        **grid.to_json(),
        "command": command,
        "reading": " ".join(s for reading in grid_reading(grid) for s in reading.sentences() if s),
    }
