"""What the ablation lab's section shows, as plain values: HTML tables with the curves inlined, the
reading of the results in words (from the core's readings), and JSON for programs, from a LabResult
and its ArmSummary rows. Nothing here imports Gradio, so the formatting is tested without a server."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from ....plots import PRESENTER_SCALE
from ....readings.lab import by_arm, chance, reading
from ....readings.sentences import pct
from ....shapes.arms import ARMS
from ....shapes.lab import LabProgress, LabResult
from ....shapes.lab_results import ArmSummary, held_out_at, measured_step, summarize
from ....shapes.tasks import TASKS
from ....variants import PAPER_S12_ABLATIONS
from ...kit.view import chance_row, mean_spread, message_html, more_html, plot_images, status_html
from .lab_curves import curves_uri, partial_run, reference_title

# MetaFormer Baselines trained these two mixers again at S12 size, with its newer recipe.
LATER_PAPER_SETTINGS = {"identity": "identity (IdentityFormer-S12)", "random": "random mixing (RandFormer-S12)"}

LAB_INTRO = (
    "Six tiny MetaFormers — transformers' PoolFormer with one part of every block swapped — trained alike on a "
    "generated task and scored on held-out images. Two tasks: **one shape** (which of six shapes is in the image) "
    "and **pairs** (two discs near opposite edges: same colour or not; through the patch embeddings no position "
    "sees both discs). In the arms, the token mixer is pooling (PoolFormer), the identity "
    "(IdentityFormer), a frozen random mixing matrix (RandFormer) or a depthwise 3×3 convolution; or the block "
    "loses its channel MLP, or its residual connections. Besides accuracy, the **pointing game** asks whether the "
    "deepest stage's Grad-CAM for the true class peaks on the object: does the mixer change where the model looks?"
)
LIVE_HINT = "Tick the arms to train and press “Start a run”."
WAITING = (
    "Another run is going on this server (one at a time for everyone): yours starts as soon as it ends or is stopped."
)
PREPARING = "Generating the training and held-out images…"
STOPPED = "Stopped. The runs that finished before the stop are in the table; press “Start a run” for a new one."
NO_ARMS = "Tick at least one arm to train."
TASK_LABELS = {"shapes": "one shape: which of six", "pairs": "pairs: two far-apart discs, same colour or not"}
TASK_CHOICES = [(TASK_LABELS.get(name, task.title), name) for name, task in TASKS.items()]
# Why a map that always peaks at the centre scores what it does, per task.
CENTRE_NOTES = {
    "shapes": "the objects always overlap the middle of the image",
    "pairs": "the two discs lie near opposite edges, away from the middle",
}


def _later_paper(arm: str):
    setting = LATER_PAPER_SETTINGS.get(arm)
    return next((r for r in PAPER_S12_ABLATIONS if r.setting == setting), None)


def paper_text(arm: str) -> str:
    """The paper's S12 ImageNet top-1 for the same change, and the later paper's where it has one."""
    text = f"{ARMS[arm].paper.top1:g} %"
    later = _later_paper(arm)
    if later is not None:
        name = re.search(r"\(([^)]*)\)", later.setting)
        text += f" (MetaFormer Baselines' {name.group(1) if name else later.setting}: {later.top1:g} %)"
    return text


def papers_note() -> str:
    """Which paper each number of the paper column comes from."""
    first = ARMS["pooling"].paper.source
    later = _later_paper("identity")
    return f"Paper column: {first}; in brackets, {later.source}, which trained two mixers again with a newer recipe."


# ---------------------------------------------------------------------------------------------
# The reference results
# ---------------------------------------------------------------------------------------------


def _parameters(result: LabResult, arm: str) -> str:
    runs = result.runs_of(arm)
    return f"{runs[0].parameters:,}" if runs else "–"


def reference_table(result: LabResult, summaries: Sequence[ArmSummary]) -> str:
    """One row per arm: accuracy and pointing game as mean ± spread over the seeds, and the paper's number."""
    rows = "".join(
        f'<tr data-arm="{s.arm}"><td>{html.escape(s.title)}</td>'
        f'<td class="pf-num pf-accuracy">{mean_spread(s.accuracy_mean, s.accuracy_std, s.seeds)}</td>'
        f'<td class="pf-num pf-pointing">{mean_spread(s.pointing_mean, s.pointing_std, s.seeds)}</td>'
        f'<td class="pf-num">{_parameters(result, s.arm)}</td>'
        f'<td class="pf-num pf-paper">{html.escape(paper_text(s.arm))}</td></tr>'
        for s in summaries
    )
    guess = chance_row(pct(chance(result.task)), pct(result.chance_pointing), "", "")
    seeds = len(result.seeds)
    return (
        '<table class="pf-lab-table"><thead><tr><th>arm</th><th>held-out accuracy</th><th>pointing game</th>'
        "<th>parameters</th><th>paper: S12 trained this way, ImageNet top-1</th></tr></thead>"
        f"<tbody>{rows}{guess}</tbody></table>"
        f'<p class="pf-note">Mean ± spread (sample standard deviation, in points) over {seeds} seed'
        f"{'s' if seeds != 1 else ''} on {result.config.eval_size} held-out images. Chance accuracy: "
        f"{pct(chance(result.task))}. Pointing game of a map that always peaks at the image centre: "
        f"<b>{pct(result.centre_baseline)}</b> ({CENTRE_NOTES.get(result.task, 'on the same images')}). "
        f"{html.escape(papers_note())}</p>"
    )


def budget_text(result: LabResult) -> str:
    """What every arm got, and how the results are made again."""
    config = result.config
    seeds = ", ".join(map(str, result.seeds))
    return (
        f"Each arm: {result.steps:,} steps of batch {config.batch_size} on {config.train_size:,} training images "
        f"at {result.image_size} px, seeds {seeds}; depths {' · '.join(map(str, config.depths))}, widths "
        f"{' · '.join(map(str, config.hidden_sizes))}. All {len(result.runs)} runs took "
        f"{result.seconds / 60:.1f} minutes of compute, each run on one CPU thread."
    )


def reference_html(
    result: LabResult, summaries: Sequence[ArmSummary], curves: str, command: str, grid: str = ""
) -> str:
    """The shipped results: the table, the curves, the budget with its command, what they show, and
    the norm x mixer grid's section (``grid``, HTML) where the task has one."""
    task = TASK_LABELS.get(result.task, result.task)
    # Presenter mode's copy of the curves, with larger type.
    room = curves_uri(result, reference_title(result), scale=PRESENTER_SCALE)
    title = f"Shipped reference results — {task} ({len(result.arms)} arms × {len(result.seeds)} seeds)"
    return (
        '<div class="pf-lab-reference">'
        f"<h4>{html.escape(title)}</h4>"
        '<div class="pf-lab-row">'
        f"<div>{reference_table(result, summaries)}</div>"
        '<figure class="pf-lab-curves">'
        f"{plot_images(curves, room, 'training curves of the reference runs')}"
        "<figcaption>Training loss and training-batch accuracy of each arm: mean over seeds, band from lowest to "
        "highest; the dotted line is chance.</figcaption></figure></div>"
        f'<p class="pf-note">{html.escape(budget_text(result))} Reproduce them with '
        f"<code>{html.escape(command)}</code>.</p>"
        f'<div class="pf-lab-reading"><b>What it shows.</b> {more_html(reading(result, summaries))}</div>'
        f"{grid}</div>"
    )


def lab_api(result: LabResult, summaries: Sequence[ArmSummary]) -> dict:
    """LabResult.to_json for programs, its runs grouped by arm: `arms` holds, per arm that has runs,
    its mean and spread over the seeds, the paper's numbers and its runs (ArmRun.to_json)."""
    data = result.to_json()
    runs = data.pop("runs")
    arms = []
    for s in summaries:
        later = _later_paper(s.arm)
        arms.append(
            {
                **asdict(s),
                "paper_setting": ARMS[s.arm].paper.setting,
                "paper_later": None if later is None else {"setting": later.setting, "top1": later.top1},
                "runs": [run for run in runs if run["arm"] == s.arm],
            }
        )
    data["arms"] = arms
    return data


def reference_api(result: LabResult, summaries: Sequence[ArmSummary], curves: str, command: str) -> dict:
    """The shipped results for programs (lab_api), with the command that makes them again, chance, their
    reading and the curves' picture."""
    return {
        **lab_api(result, summaries),
        "command": command,
        "chance": chance(result.task),
        "reading": " ".join(reading(result, summaries)),
        "curves_picture": curves,
    }


# ---------------------------------------------------------------------------------------------
# A live run
# ---------------------------------------------------------------------------------------------


def run_minutes(reference: LabResult, steps: int) -> float:
    """Minutes one seed of every arm takes at ``steps`` steps, at the reference's measured pace (its
    runs' mean training seconds per arm, one CPU thread each)."""
    per_arm = [np.mean([r.seconds / max(1, r.steps) for r in reference.runs_of(a)]) for a in reference.arms]
    return float(np.sum([p for p in per_arm if np.isfinite(p)]) * steps / 60)


def live_markdown(steps: int, reference: LabResult) -> str:
    """What a live run is, before one is started; its length from the reference's measured pace."""
    two = run_minutes(reference, steps) * 2 / max(1, len(reference.arms))
    return (
        f"#### Run it yourself\nThe first {steps:,} of the reference's {reference.steps:,} steps per arm (the same "
        f"learning-rate schedule), one seed, on the same images ({reference.config.train_size:,} at "
        f"{reference.image_size} px), scored beside the reference's runs at step {steps:,}: about "
        f"{two:.1f} minutes for two arms, {run_minutes(reference, steps):.0f} for all six, at the reference's pace "
        "(the first run on a server also generates the images; later runs read them from the cache). One seed is "
        "noisier than the reference's three. "
        "**One run at a time for the whole server**: if someone "
        "else's run is going, yours waits in the queue (its place shows on the progress line) and starts when "
        "theirs ends or is stopped. *Stop* ends a run after the current training step."
    )


def idle_html() -> str:
    return message_html(LIVE_HINT)


def reference_pace(reference: LabResult, arms: Sequence[str]) -> float | None:
    """Seconds per training step of the reference's runs of ``arms``, as measured when it was made."""
    paces = [r.seconds / r.steps for r in reference.runs if r.arm in arms and r.steps > 0]
    return float(np.mean(paces)) if paces else None


def progress_text(p: LabProgress, first: LabProgress | None = None, pace: float | None = None) -> str:
    """Where the run is; the time left is estimated from the pace since `first` (the first step seen),
    so that the time spent generating the images does not count as training; until this run has a
    pace of its own, from ``pace`` (seconds per step, the reference's)."""
    first = first or p
    left, source = None, ""
    if p.fraction > first.fraction:
        left = (p.seconds - first.seconds) * (1 - p.fraction) / (p.fraction - first.fraction)
    elif pace is not None:
        left, source = pace * (1 - p.fraction) * p.runs * p.steps, " at the reference's pace"
    eta = f", about {left:.0f} s of training left{source}" if left is not None else ""
    return (
        f"Run {p.run + 1} of {p.runs}: {ARMS[p.arm].title}, seed {p.seed} · step {p.step} of {p.steps} · "
        f"loss {p.loss:.3f} · {p.seconds:.0f} s{eta}"
    )


def progress_html(p: LabProgress, first: LabProgress | None = None, pace: float | None = None) -> str:
    return status_html(progress_text(p, first, pace), p.fraction)


def finished_text(result: LabResult, planned: int) -> str:
    runs = len(result.runs)
    done = f"Stopped after {runs} of {planned} runs" if result.stopped else f"Done: {runs} run{'s' * (runs != 1)}"
    return f"{done} of {result.steps:,} steps each, in {result.seconds:.0f} s."


def live_table(result: LabResult, reference: LabResult, current: LabProgress | None = None) -> str:
    """One row per chosen arm: its held-out scores once trained, beside the reference and the paper."""
    done = by_arm(summarize(result))
    # The reference measured its held-out accuracy every few steps: the latest at or before this run's.
    compared = measured_step(reference, result.steps)
    rows = []
    for arm in result.arms:
        s = done.get(arm)
        if s is not None:
            scores = (
                f'<td class="pf-num pf-accuracy">{mean_spread(s.accuracy_mean, s.accuracy_std, s.seeds)}</td>'
                f'<td class="pf-num pf-pointing">{mean_spread(s.pointing_mean, s.pointing_std, s.seeds)}</td>'
            )
        else:
            if result.stopped:
                state = "stopped"
            else:
                state = "training…" if current is not None and current.arm == arm else "to do"
            scores = f'<td colspan="2" class="pf-pending">{state}</td>'
        at = held_out_at(reference, arm, compared) if compared else None
        reference_cell = mean_spread(at.mean, at.std, at.seeds) if at else "–"
        rows.append(
            f'<tr data-arm="{arm}"><td>{html.escape(ARMS[arm].title)}</td>{scores}'
            f'<td class="pf-num">{reference_cell}</td>'
            f'<td class="pf-num pf-paper">{html.escape(paper_text(arm))}</td></tr>'
        )
    level = pct(chance(result.task))
    rows.append(chance_row(level, "", level, ""))
    return (
        '<table class="pf-lab-table"><thead><tr><th>arm</th><th>held-out accuracy</th><th>pointing game</th>'
        f"<th>{f'reference at step {compared:,}' if compared else 'reference (not measured this early)'} "
        f"({len(reference.seeds)} seeds)</th>"
        "<th>paper: S12, ImageNet top-1</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def live_html(
    result: LabResult,
    reference: LabResult,
    curves: str | None,
    current: LabProgress | None = None,
) -> str:
    """The live run so far (or finished): its curves and its table."""
    drawn = [r for r in (*result.runs, *((partial_run(current),) if current else ())) if r.curve]
    # Presenter mode's copy of the curves, with larger type: the runs the page drew, again.
    room = curves_uri(drawn, reference=reference, until=result.steps, scale=PRESENTER_SCALE) if curves else None
    figure = (
        '<figure class="pf-lab-curves">'
        f"{plot_images(curves, room, 'training curves of this run')}"
        f"<figcaption>This run: {result.steps:,} steps per arm, seed {', '.join(map(str, result.seeds))}"
        "; the curve of the arm in training grows as it learns. Dashed and lighter: the reference runs of the "
        "same arms (mean over their seeds) at the same steps.</figcaption></figure>"
        if curves
        else '<div class="pf-lab-curves pf-empty"></div>'
    )
    baseline = (
        f'<p class="pf-note">Pointing game of a map that always peaks at the centre, on the same images: '
        f"{pct(result.centre_baseline)}.</p>"
        if np.isfinite(result.centre_baseline)
        else ""
    )
    table = live_table(result, reference, current)
    return f'<div class="pf-lab-live"><div class="pf-lab-row"><div>{table}{baseline}</div>{figure}</div></div>'


def empty_live_html() -> str:
    return '<div class="pf-lab-live pf-empty"></div>'


def progress_api(p: LabProgress) -> dict:
    return {
        "status": "running",
        "run": p.run + 1,
        "runs": p.runs,
        "arm": p.arm,
        "seed": p.seed,
        "step": p.step,
        "steps": p.steps,
        "loss": p.loss,
        "fraction": p.fraction,
        "seconds": round(p.seconds, 2),
        "finished": [r.arm for r in p.finished],
    }


def live_api(result: LabResult, reference: LabResult) -> dict:
    """A finished (or stopped) live run for programs (lab_api), with the reference's held-out accuracy
    of each arm at the same step (or the latest it measured before it)."""
    compared = measured_step(reference, result.steps)
    beside = {arm: held_out_at(reference, arm, compared) if compared else None for arm in result.arms}
    return {
        **lab_api(result, summarize(result)),
        "status": "stopped" if result.stopped else "finished",
        "task": result.task,
        "chance": chance(result.task),
        "reference_at_step": {arm: asdict(at) if at else None for arm, at in beside.items()},
    }
