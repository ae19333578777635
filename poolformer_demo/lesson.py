"""The guided lesson as data, and its measurements: ten steps through MetaFormer on one image.

Each step makes one claim in plain words, asks a question to answer before the answer is shown
(its words are the catalog's, ``lesson.<key>.*``, in every language), and names the measurement its
view and answer are made from. `measure` takes one measurement of
(image, variant, target) through the core's own entry points (analyze, block_anatomy,
compare_knockout, receptive_field, the lab's shipped references); `measure_lesson` takes them all
for a handout or a notebook. The app's Lesson tab calls `measure` through its runner, so the page,
the command line and the handout show the same numbers. Nothing here imports Gradio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from .analysis import Analysis, analyze
from .anatomy import BlockAnatomy, block_anatomy
from .comparison import KnockoutComparison, compare_knockout
from .control import ProgressCallback, StopCheck, check_stop
from .i18n import Said, english
from .images import PreparedImage, prepare_image
from .knockouts import Knockouts
from .receptive_field import ReceptiveField, receptive_field
from .shapes.lab_grid import LabGrid, grid_path, load_grid
from .shapes.lab_results import ArmSummary, load_reference, reference_path, summarize
from .variants import get_variant
from .weights import ModelCache


@dataclass(frozen=True)
class Step:
    key: str
    measurement: str
    """Which of MEASUREMENTS the step's view and answer are made from."""
    view_first: bool = False
    """Show the view before the answer (when the view does not give the answer away)."""

    # The step's words live in the catalog (``lesson.<key>.title`` …), once for every language;
    # these are the English ones, for the JSON, the command line and the slides.
    @property
    def title(self) -> str:
        return english().text(f"lesson.{self.key}.title")

    @property
    def claim(self) -> str:
        return english().text(f"lesson.{self.key}.claim")

    @property
    def question(self) -> str:
        return english().text(f"lesson.{self.key}.question")


STEPS = (
    Step("predict", "analysis"),
    Step("stages", "analysis"),
    Step("gradcam", "analysis"),
    Step("block", "anatomy", view_first=True),
    Step("anatomy", "anatomy", view_first=True),
    Step("highpass", "anatomy"),
    Step("branches", "anatomy"),
    Step("knockout", "knockout"),
    Step("field", "fields"),
    Step("lab", "lab"),
)
STEP_COUNT = len(STEPS)
MEASUREMENTS = ("analysis", "anatomy", "knockout", "fields", "lab")
# Which measurement each step on the student's image shows (the lab's is the same for every image).
STEP_MEASUREMENTS = {s.key: s.measurement for s in STEPS if s.measurement != "lab"}

# The block the lesson opens: the first of stage 1, where the maps are largest.
LESSON_STAGE, LESSON_BLOCK = 1, 1
# The position whose receptive field is drawn, as a fraction of the grid's height and width.
CENTRE = (0.5, 0.5)


@dataclass(frozen=True)
class LabReference:
    """The lab's shipped runs the lab step reads: both tasks' references, and the pairs task's norm x
    mixer grid, whose per-position row is the norm control (no rows, 0 steps and no grid when the
    grid is not shipped)."""

    shapes: tuple[ArmSummary, ...]
    pairs: tuple[ArmSummary, ...]
    control: tuple[ArmSummary, ...]
    """The grid's mixers with every norm per position, over its seeds."""
    control_steps: int
    grid: LabGrid | None = None

    def to_json(self) -> dict:
        def rows(summaries: Sequence[ArmSummary]) -> list[dict]:
            return [
                {
                    "arm": s.arm,
                    "title": s.title,
                    "seeds": s.seeds,
                    "accuracy_mean": s.accuracy_mean,
                    "accuracy_std": s.accuracy_std,
                    "paper_top1": s.paper_top1,
                }
                for s in summaries
            ]

        return {
            "shapes": rows(self.shapes),
            "pairs": rows(self.pairs),
            "control": rows(self.control),
            "control_steps": self.control_steps,
            "grid_cells": [cell.to_json() for cell in self.grid.all_cells()] if self.grid is not None else [],
        }


def lab_reference() -> LabReference:
    """The lab step's data, read from the reference files that ship with the package."""
    _, shapes = load_reference(reference_path("shapes"))
    _, pairs = load_reference(reference_path("pairs"))
    grid = load_grid(grid_path("pairs")) if grid_path("pairs").is_file() else None
    control = grid.result("position") if grid is not None else None
    rows = summarize(control) if control is not None else ()
    return LabReference(shapes, pairs, rows, control.steps if control is not None else 0, grid)


def mixer_everywhere(variant: str) -> Knockouts:
    """The knockout step's change: the token mixer switched off in every stage."""
    return Knockouts(mixer=tuple(range(1, len(get_variant(variant).depths) + 1)))


def measure(
    kind: str,
    image: Image.Image | PreparedImage | str,
    variant: str,
    target: int | str | None = None,
    cache: ModelCache | None = None,
):
    """One of the lesson's MEASUREMENTS of `image` on model `variant` for class `target` (default:
    the top-1 class): an Analysis, a BlockAnatomy, a KnockoutComparison, the receptive fields of the
    centre position of stage 1 and the deepest stage, or the lab's LabReference. Raises the errors
    of the entry point it calls (a bad image, an unknown variant, weights that are not here)."""
    if kind not in MEASUREMENTS:
        raise ValueError(f"unknown lesson measurement {kind!r}; measurements are {', '.join(MEASUREMENTS)}")
    if kind == "lab":
        return lab_reference()
    name = get_variant(variant).name
    if kind == "analysis":
        return analyze(image, name, target=target, cache=cache)
    if kind == "anatomy":
        return block_anatomy(image, name, stage=LESSON_STAGE, block=LESSON_BLOCK, cache=cache)
    if kind == "knockout":
        return compare_knockout(image, name, mixer_everywhere(name), target=target, cache=cache)
    deepest = len(get_variant(name).depths)
    return tuple(receptive_field(image, name, stage=stage, cache=cache, at=CENTRE) for stage in (1, deepest))


@dataclass(frozen=True)
class LessonResult:
    """Every measurement the ten steps show, for one image, model and class."""

    image: str
    """The image's file name (no folders: a handout travels)."""
    analysis: Analysis
    anatomy: BlockAnatomy
    knockout: KnockoutComparison
    fields: tuple[ReceptiveField, ...]
    lab: LabReference

    @property
    def variant(self) -> str:
        return self.analysis.variant.name

    def measured(self, kind: str):
        """The measurement `kind` (one of MEASUREMENTS), as `measure` returns it."""
        return self.fields if kind == "fields" else getattr(self, kind)

    def to_json(self) -> dict:
        """The lesson as plain JSON data: the steps' words and which measurement each shows, and each
        measurement's own JSON (the analysis without its maps)."""
        return {
            "image": self.image,
            "variant": self.variant,
            "steps": [
                {
                    "number": number,
                    "key": s.key,
                    "title": s.title,
                    "claim": s.claim,
                    "question": s.question,
                    "measurement": s.measurement,
                }
                for number, s in enumerate(STEPS, start=1)
            ],
            "analysis": self.analysis.to_json(arrays=False),
            "anatomy": self.anatomy.to_json(),
            "knockout": self.knockout.to_json(),
            "fields": [f.to_json() for f in self.fields],
            "lab": self.lab.to_json(),
        }


def measure_lesson(
    image: Image.Image | PreparedImage | str,
    variant: str,
    target: int | str | None = None,
    cache: ModelCache | None = None,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    measured: dict | None = None,
) -> LessonResult:
    """All the lesson's measurements of `image` on `variant`: what a handout or a notebook shows.

    The image is read and cropped once. `measured` holds measurements already taken (by kind, as
    `measure` returns them), which are used as they are: the Lesson tab hands in the ones it stored.
    """
    name = get_variant(variant).name
    taken = dict(measured or {})
    prepared = None
    for done, kind in enumerate(MEASUREMENTS):
        if kind not in taken:
            check_stop(should_stop, Said("stopped.lesson"))
            if progress is not None:
                progress(done / len(MEASUREMENTS), kind)
            if prepared is None:
                prepared = image if isinstance(image, PreparedImage) else prepare_image(image)
            taken[kind] = measure(kind, prepared, name, target, cache)
    if progress is not None:
        progress(1.0, Said("progress.done"))
    file_name = Path(image).name if isinstance(image, (str, Path)) else "image"
    return LessonResult(
        file_name, taken["analysis"], taken["anatomy"], taken["knockout"], tuple(taken["fields"]), taken["lab"]
    )
