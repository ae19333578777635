"""Section 4 of the "Inside the block" tab: the ablation lab on the offline generated tasks.

The shipped reference results of the chosen task are read once and shown at once. A live run trains
the chosen arms with `run_lab` on the runner's lab lane, while the page's handler follows it and
redraws the progress line and the curves; one run at a time for the whole server (the `lab`
concurrency group, and the lane's one worker, held until a stopped run has really ended), on one
torch thread (these tiny models train several times faster on one thread than on two when the
cores are busy). A live run uses its task's
LAB_CONFIGS entry, the reference's own data and learning-rate schedule, for its first LIVE_STEPS
steps, so its curves are drawn over the reference's and its scores set beside the reference's at
the same step. `/lab_reference` gives programs the reference results, `/lab_run` a live run of at
most LIVE_STEPS steps per arm; both take a `task` (default "shapes").
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Literal

import gradio as gr

from ....i18n import Messages, messages
from ....runner import Runner
from ....shapes.arms import ARM_NAMES, ARMS
from ....shapes.lab import LAB_CONFIGS, LIVE_SEEDS, LIVE_STEPS, LabConfig, LabProgress, LabResult, run_lab
from ....shapes.lab_grid import LabGrid, grid_command, grid_path, load_grid
from ....shapes.lab_results import load_reference, reference_command
from ....shapes.lab_results import reference_path as task_reference_path
from ....shapes.tasks import TASKS
from ...kit.endpoints import expose
from ...kit.errors import failure_message, page_error, user_error
from ...kit.language import LanguageSection, Retelling
from ...kit.runs import LAB
from ...kit.view import SCROLLABLE_JS, message_html, status_html
from . import grid_view
from . import lab_live as live_view
from . import lab_view as view

# How often the page redraws the curves (a matplotlib figure, ~0.1 s to draw): at most every two
# seconds, and only when a point was added.
CURVES_EVERY_S = 2.0
LAB_EVENTS = {"concurrency_id": LAB, "concurrency_limit": 1}
# The arms as a type: gr.api lists them to API and MCP clients as the values `arms` may take.
ArmName = Literal[ARM_NAMES]
TaskName = Literal[tuple(TASKS)]
STOP_JS = "() => PoolFormer.markStopped()"


def provisional(arms: tuple[str, ...], steps: int, config: LabConfig, progress: LabProgress) -> LabResult:
    """The runs of a live run finished so far, as a result the page can lay out (no centre baseline yet)."""
    return LabResult(
        arms=arms,
        seeds=LIVE_SEEDS,
        steps=steps,
        image_size=config.image_size,
        config=config,
        runs=progress.finished,
        stopped=False,
        seconds=progress.seconds,
        centre_baseline=float("nan"),
    )


class LabSection:
    """The lab's page section and endpoints, running on `runner`'s lab lane. `steps` bounds a live
    run; `config` replaces its task's LAB_CONFIGS entry and `reference_path` the shapes task's
    reference (tests pass small ones)."""

    def __init__(
        self,
        runner: Runner,
        steps: int = LIVE_STEPS,
        config: LabConfig | None = None,
        reference_path: Path | None = None,
        curves_every_s: float = CURVES_EVERY_S,
    ):
        self.runner = runner
        self.steps = steps
        self.configs = dict(LAB_CONFIGS)
        if config is not None:
            self.configs[config.task] = config
        self.reference_paths = {task: task_reference_path(task) for task in TASKS}
        if reference_path is not None:
            self.reference_paths["shapes"] = Path(reference_path)
        self.curves_every_s = curves_every_s
        self._references: dict[str, tuple] = {}
        self._pages: dict[tuple[str, str], str] = {}
        self._grids: dict[str, LabGrid | None] = {}
        self._apis: dict[str, dict] = {}

    # -----------------------------------------------------------------------------------------
    # The reference results: read and drawn once
    # -----------------------------------------------------------------------------------------

    def _task(self, task: str | None) -> str:
        task = task or "shapes"
        if task not in TASKS:
            raise page_error("lab.unknown_task", task=task, tasks=", ".join(TASKS))
        return task

    def reference_of(self, task: str = "shapes"):
        """(LabResult, its ArmSummary rows) of the task's shipped reference run."""
        if task not in self._references:
            self._references[task] = load_reference(self.reference_paths[task])
        return self._references[task]

    @property
    def reference(self):
        return self.reference_of("shapes")

    def _reference_curves(self, task: str) -> str:
        result, _ = self.reference_of(task)
        return view.curves_uri(result, view.reference_title(result))

    def grid_of(self, task: str = "shapes") -> LabGrid | None:
        """The task's norm × mixer grid, or None where none is shipped."""
        if task not in self._grids:
            self._grids[task] = load_grid(grid_path(task)) if grid_path(task).is_file() else None
        return self._grids[task]

    def reference_page_of(self, task: str = "shapes", lang: str = "en") -> str:
        """The task's reference section in language `lang`, drawn once per task and language."""
        t = messages(lang)
        if (task, t.code) not in self._pages:
            curves = self._reference_curves(task)
            result, rows = self.reference_of(task)
            grid = self.grid_of(task)
            grid_section = grid_view.grid_html(grid, grid_command(task), t) if grid else ""
            page = view.reference_html(result, rows, curves, reference_command(task), grid_section, t)
            self._pages[(task, t.code)] = page
        return self._pages[(task, t.code)]

    @property
    def reference_page(self) -> str:
        return self.reference_page_of("shapes")

    def ablation_lab_reference(self, task: TaskName = "shapes") -> dict:
        """The ablation lab's shipped results for one task ("shapes": which of six shapes; "pairs": two
        far-apart discs, same colour or not): tiny MetaFormers trained with one part of the
        PoolFormer block swapped (token mixer: pooling, identity, frozen random matrix, depthwise conv; or no
        channel MLP; or no residuals).

        Returns JSON: per arm, held-out accuracy and pointing game (does the deepest Grad-CAM peak on the object)
        as mean and spread over the seeds, each seed's run, and the paper's ImageNet top-1 for S12 trained with
        the same change; the centre baseline of the pointing game, the budget, the command that reproduces the
        results, what they show in words, and the training curves as a picture. Where the task has one (pairs),
        "grid" holds the norm x mixer grid: identity, pooling, the global mean and the frozen random matrix, each
        with PoolFormer's one-group norm and with every norm working per position, every seed's run and the cells'
        counts of seeds that learned the task.
        """
        task = self._task(task)
        if task not in self._apis:
            curves = self._reference_curves(task)
            result = view.reference_api(*self.reference_of(task), curves, reference_command(task))
            grid = self.grid_of(task)
            if grid is not None:
                result["grid"] = grid_view.grid_api(grid, grid_command(task))
            self._apis[task] = {"task": task, **result}
        return self._apis[task]

    # -----------------------------------------------------------------------------------------
    # A live run
    # -----------------------------------------------------------------------------------------

    def _checked(self, arms, steps) -> tuple[tuple[str, ...], int]:
        arms = tuple(dict.fromkeys(arms or ()))
        unknown = [a for a in arms if a not in ARMS]
        if unknown:
            raise page_error("lab.unknown_arms", arms=", ".join(unknown), known=", ".join(ARM_NAMES))
        if not arms:
            raise page_error("lab.live.no_arms")
        if steps is None or not 1 <= int(steps) <= self.steps:
            raise page_error("lab.steps_range", steps=self.steps)
        return tuple(a for a in ARM_NAMES if a in arms), int(steps)

    def live_events(self, arms: tuple[str, ...], steps: int, task: str = "shapes") -> Iterator[tuple[str, object]]:
        """A live run as events: ("waiting", None) while another run holds the lab, ("started", None)
        once it trains, ("progress", LabProgress) as it reports, and last ("done", LabResult).

        Closing the generator (a stop on the page, a client gone) tells the training to stop before
        its next step; it then ends on its own and frees the lab.
        """
        config = self.configs[task]

        def compute(progress, should_stop):
            def report(state: LabProgress) -> None:
                progress(state.fraction, state)

            return run_lab(
                arms, steps, LIVE_SEEDS, config.image_size, config=config, progress=report, should_stop=should_stop
            )

        started = False
        with closing(self.runner.follow(compute, LAB)) as events:
            for kind, value in events:
                if kind == "queued":
                    yield "waiting", None
                    continue
                if not started:
                    started = True
                    yield "started", None
                if kind == "progress":
                    yield "progress", value[1]
                elif kind == "done":
                    yield "done", value

    def run_on_page(self, arms: list[str], task: str = "shapes", lang: str = "en"):
        """The page's live run on `task`: (progress line, curves and table, the finished run), redrawn
        as it trains, its curves drawn over the reference's of the same arms."""
        t = messages(lang)
        try:
            arms, steps = self._checked(arms, self.steps)
            task = self._task(task)
        except gr.Error as exc:
            yield message_html(t.said(exc.message)), gr.skip(), gr.skip()
            return
        reference, _ = self.reference_of(task)
        pace = live_view.reference_pace(reference, arms)
        drawn_at, drawn, first = 0.0, None, None
        try:
            with closing(self.live_events(arms, steps, task)) as events:
                for kind, value in events:
                    if kind == "waiting":
                        yield status_html(t.text("lab.live.waiting")), gr.skip(), gr.skip()
                    elif kind == "started":
                        yield status_html(t.text("lab.live.preparing")), live_view.empty_live_html(), gr.skip()
                    elif kind == "progress":
                        first = first or value
                        # The curves change when a point is added; drawing them is what costs.
                        state = (len(value.finished), len(value.curve))
                        now = time.monotonic()
                        if state != drawn and now - drawn_at >= self.curves_every_s:
                            drawn_at, drawn = now, state
                            # Before the first point of the first run there is nothing to draw.
                            drawable = [r for r in (*value.finished, view.partial_run(value)) if r.curve]
                            curves = view.curves_uri(drawable, reference=reference, until=steps) if drawable else None
                            partial = provisional(arms, steps, self.configs[task], value)
                            table = live_view.live_html(partial, reference, curves, value, t)
                            yield live_view.progress_html(value, first, pace, t), table, gr.skip()
                        else:
                            yield live_view.progress_html(value, first, pace, t), gr.skip(), gr.skip()
                    else:
                        kept = (value, len(arms) * len(value.seeds), task, steps)
                        yield *self.finished_said(t, kept), kept
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            yield message_html(failure_message(exc, t)), gr.skip(), gr.skip()

    def finished_said(self, t: Messages, kept) -> tuple[str, str]:
        """(progress line, curves and table) of a finished run: `kept` is (result, runs planned, task, steps)."""
        result, planned, task, steps = kept
        reference, _ = self.reference_of(task)
        curves = view.curves_uri(result, reference=reference, until=steps) if result.runs else None
        return message_html(live_view.finished_text(result, planned, t)), live_view.live_html(
            result, reference, curves, t=t
        )

    @staticmethod
    def stopped(lang: str = "en") -> str:
        return message_html(messages(lang).text("lab.live.stopped"))

    def switch_task(self, task: str, lang: str = "en") -> tuple:
        """Another task: its reference, and a clean slate for a run (one on the old task is stopped)."""
        t = messages(lang)
        task = self._task(task)
        reference, _ = self.reference_of(task)
        intro = live_view.live_markdown(self.steps, reference, t)
        return self.reference_page_of(task, t.code), intro, live_view.idle_html(t), live_view.empty_live_html(), None

    def retell(self, t: Messages, task: str, kept) -> tuple:
        """The section in language `t`, from the task shown and the last finished run: nothing is trained again."""
        reference, _ = self.reference_of(task)
        said = (self.reference_page_of(task, t.code), live_view.live_markdown(self.steps, reference, t))
        if kept is None or kept[2] != task:
            return (*said, gr.skip(), gr.skip())
        return (*said, *self.finished_said(t, kept))

    def run_ablation_lab(
        self, arms: list[ArmName] | None = None, steps: int = LIVE_STEPS, task: TaskName = "shapes"
    ) -> Iterator[dict]:
        """Train tiny MetaFormers that differ from PoolFormer in one part on a task, and score them.
        One run at a time for the whole server: a call waits in the queue while another runs.

        Args:
            arms: any of pooling, identity, random, conv, no_mlp, no_residual (empty means all).
            steps: training steps per arm, at most 300: the first steps of the reference's schedule (about two
                minutes for two arms on 2 CPU cores), compared with the reference's held-out accuracy at the same
                step ("reference_at_step").
            task: "shapes" (which of six shapes) or "pairs" (two far-apart discs, same colour or not).

        Yields JSON progress while training; the last value is the result: per arm, held-out accuracy, the
        pointing game of the deepest Grad-CAM, parameters and training seconds, beside the paper's ImageNet
        top-1 for S12 trained with the same change, and the pointing game of a map that peaks at the centre.
        """
        try:
            arms, steps = self._checked(arms or ARM_NAMES, steps)
            task = self._task(task)
            with closing(self.live_events(arms, steps, task)) as events:
                for kind, value in events:
                    if kind == "progress":
                        yield live_view.progress_api(value)
                    elif kind == "done":
                        yield live_view.live_api(value, self.reference_of(task)[0])
                    else:
                        yield {"status": kind}
        except Exception as exc:  # noqa: BLE001 - every failure becomes a message; the server carries on
            raise user_error(exc) from None

    # -----------------------------------------------------------------------------------------
    # Layout
    # -----------------------------------------------------------------------------------------

    def render(self, language: LanguageSection) -> Retelling:
        """Lay the section out inside the current Blocks and wire its events and endpoints. Returns how
        it says again what it shows in a new language."""
        words, lang = language.words, language.menu
        with words(gr.Accordion(open=True, elem_id="inside-lab"), label="inside.section.lab"):
            words(gr.Markdown(elem_id="lab-intro"), value="lab.intro")
            task = words(gr.Radio(value="shapes", elem_id="lab-task"), label="lab.task", choices=view.task_choices)
            reference = gr.HTML(self.reference_page_of("shapes"), js_on_load=SCROLLABLE_JS, elem_id="lab-reference")
            live_intro = gr.Markdown(live_view.live_markdown(self.steps, self.reference[0]), elem_id="lab-live-intro")
            with gr.Row(equal_height=False, elem_classes=["pf-pickers"]):
                arms = words(
                    gr.CheckboxGroup(value=list(ARM_NAMES), elem_id="lab-arms", scale=4),
                    label="lab.arms",
                    choices=lambda t: [(view.arm_title(a, t), a) for a in ARM_NAMES],
                )
                start = words(gr.Button(variant="primary", elem_id="lab-start", scale=1), value="lab.start")
                stop = words(gr.Button(variant="stop", elem_id="lab-stop", scale=1), value="page.stop")
            progress = gr.HTML(live_view.idle_html(), elem_id="lab-progress")
            live = gr.HTML(live_view.empty_live_html(), js_on_load=SCROLLABLE_JS, elem_id="lab-live")
        finished = gr.State(None)

        run_event = start.click(
            self.run_on_page,
            inputs=[arms, task, lang],
            outputs=[progress, live, finished],
            api_visibility="private",
            show_progress_on=[progress],
            **LAB_EVENTS,
        )
        # The rows still waiting say so at once, in the browser: the server's last table is what it was.
        stop.click(
            self.stopped,
            inputs=lang,
            outputs=progress,
            cancels=[run_event],
            queue=False,
            api_visibility="private",
            js=STOP_JS,
        )
        task.change(
            self.switch_task,
            inputs=[task, lang],
            outputs=[reference, live_intro, progress, live, finished],
            cancels=[run_event],
            queue=False,
            api_visibility="private",
        )

        # Endpoints without components (no image among their inputs): typed from the handlers' hints.
        expose(self.ablation_lab_reference, "lab_reference", queue=False)
        expose(self.run_ablation_lab, "lab_run", **LAB_EVENTS)
        return Retelling(self.retell, [task, finished], [reference, live_intro, progress, live])
