"""The lesson's measured answers that are not the block's (:mod:`.block`): where a map peaks on
the picture, how far a position sees, and the lab's result, each sentence chosen by the numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..i18n import Messages, english
from ..receptive_field import ReceptiveField
from ..shapes.lab import LAB_CONFIGS
from ..shapes.lab_grid import LabGrid
from ..shapes.lab_results import ArmSummary, summarize
from .grid import without_norm_path
from .lab import against_paper
from .lab_arms import chance
from .norm import norm_control
from .seeds import Paired, still_rising
from .sentences import Reading

# ---------------------------------------------------------------------------------------------
# Where on the picture
# ---------------------------------------------------------------------------------------------

# A cell whose centre lies in the middle third of the picture's height is in its middle, and so on
# across: the middle cells of an even grid (rows 2 and 3 of 4) then count as the centre, as a
# student looking at the picture would say.
MIDDLE_THIRD = (1 / 3, 2 / 3)


def _third(index: int, length: int, names: tuple[str, str, str]) -> str:
    centre = (index + 0.5) / max(length, 1)
    low, high = MIDDLE_THIRD
    return names[0] if centre < low else names[2] if centre > high else names[1]


def place(row: int, col: int, rows: int, cols: int) -> tuple[str, str]:
    """(vertical, horizontal) zone of the cell at ``row``, ``col`` (from 0) of a ``rows`` x ``cols``
    map, by where the cell's centre lies on the picture."""
    return _third(row, rows, ("top", "middle", "bottom")), _third(col, cols, ("left", "centre", "right"))


@dataclass(frozen=True)
class CamPeak(Reading):
    """Where the deepest stage's Grad-CAM peaks, as a place on the picture."""

    kind: str
    """"peak"."""
    target: str
    row: int
    col: int
    rows: int
    cols: int

    KEY = "reading.lesson.cam_peak"
    TEMPLATES = {"peak": ("peak",)}

    def values(self, t: Messages | None = None) -> dict[str, object]:
        vertical, horizontal = place(self.row, self.col, self.rows, self.cols)
        return {
            **super().values(t),
            "row_number": self.row + 1,
            "col_number": self.col + 1,
            "place": (t or english()).text(f"reading.lesson.place.{vertical}_{horizontal}"),
        }


def cam_peak(target: str, cam: np.ndarray) -> CamPeak:
    row, col = np.unravel_index(int(np.argmax(cam)), cam.shape)
    return CamPeak("peak", target, int(row), int(col), *cam.shape)


# ---------------------------------------------------------------------------------------------
# Receptive fields
# ---------------------------------------------------------------------------------------------

# Less than half a percent of the gradient outside the box is none worth a sentence.
NONE_OUTSIDE = 0.005


@dataclass(frozen=True)
class FieldReach(Reading):
    """How far a first-stage and a last-stage position see, through the convolutions and pools
    (the box) and through the norms (what lies outside it)."""

    kind: str
    """"wider" (the last stage's box is at least the image's side) or "within"; with "_sealed"
    when (almost) none of the first stage's gradient lies outside its box."""
    side: int
    first_stage: int
    first_box: int
    last_stage: int
    last_box: int
    inside: float
    """The share of the first stage's gradient inside its box."""

    KEY = "reading.lesson.field_reach"
    TEMPLATES = {
        "wider": ("wider", "outside"),
        "within": ("within", "outside"),
        "wider_sealed": ("wider", "sealed"),
        "within_sealed": ("within", "sealed"),
    }

    def values(self, t: Messages | None = None) -> dict[str, object]:
        return {
            **super().values(t),
            "inside_pct": f"{100 * self.inside:.1f} %",
            "outside_pct": f"{100 * (1 - self.inside):.1f} %",
        }


def field_reach(fields: Sequence[ReceptiveField]) -> FieldReach:
    first, last = fields[0], fields[-1]
    side = last.crop_size[0]
    kind = "wider" if last.wider_than_crop else "within"
    if 1 - first.mass_inside < NONE_OUTSIDE:
        kind += "_sealed"
    return FieldReach(
        kind, side, first.stage, first.theoretical_size, last.stage, last.theoretical_size, first.mass_inside
    )


# ---------------------------------------------------------------------------------------------
# The lab's result
# ---------------------------------------------------------------------------------------------


def lab_step(
    shapes: Sequence[ArmSummary],
    pairs: Sequence[ArmSummary],
    control: Sequence[ArmSummary],
    control_steps: int,
    grid: LabGrid | None = None,
    t: Messages | None = None,
) -> tuple[str, ...]:
    """The lesson's answer from the lab's shipped runs: identity against pooling on the one-shape
    task beside the paper, whether that comparison is of speed, what the norm control on the pairs
    task shows, and (from the norm x mixer grid) which mixers learned it without the norm's path."""
    steps = LAB_CONFIGS["shapes"].steps
    paper = against_paper(shapes, "shapes", steps)
    readings: list[Reading] = [] if paper is None else [paper]
    # With the grid, the one-group row on the same seeds as the per-position row; else the reference.
    group_row = grid.result("group") if grid is not None else None
    grouped = summarize(group_row) if group_row is not None else pairs
    control_readings = norm_control(grouped, control, control_steps, chance("pairs"))
    readings += [r for r in control_readings if not isinstance(r, Paired)]
    if grid is not None:
        readings.append(without_norm_path(grid))
    rising = still_rising([s for s in shapes if s.arm in ("pooling", "identity")], steps)
    if rising.kind == "still_learning":
        readings.insert(1, rising)
    return tuple(s for r in readings for s in r.sentences(t) if s)
