"""What the ablation lab's section shows of a live run, as plain values in the page's language: what
a run is before one starts, its progress line, its table beside the reference's runs at the same
step and its curves, and JSON for programs. Nothing here imports Gradio."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from ....i18n import Messages, english
from ....plots import PRESENTER_SCALE
from ....readings.lab import by_arm, chance
from ....readings.sentences import pct
from ....shapes.lab import LabProgress, LabResult
from ....shapes.lab_results import held_out_at, measured_step, summarize
from ...kit.view import chance_row, mean_spread, message_html, plot_images, status_html
from .lab_curves import curves_uri, partial_run
from .lab_view import arm_title, lab_api, paper_text


def run_minutes(reference: LabResult, steps: int) -> float:
    """Minutes one seed of every arm takes at ``steps`` steps, at the reference's measured pace (its
    runs' mean training seconds per arm, one CPU thread each)."""
    per_arm = [np.mean([r.seconds / max(1, r.steps) for r in reference.runs_of(a)]) for a in reference.arms]
    return float(np.sum([p for p in per_arm if np.isfinite(p)]) * steps / 60)


def live_markdown(steps: int, reference: LabResult, t: Messages | None = None) -> str:
    """What a live run is, before one is started; its length from the reference's measured pace."""
    t = t or english()
    two = run_minutes(reference, steps) * 2 / max(1, len(reference.arms))
    said = t.text(
        "lab.live.intro",
        steps=steps,
        reference_steps=reference.steps,
        images=reference.config.train_size,
        px=reference.image_size,
        two=two,
        all=run_minutes(reference, steps),
    )
    return f"#### {t.text('lab.live.title')}\n{said}"


def idle_html(t: Messages | None = None) -> str:
    return message_html((t or english()).text("lab.live.hint"))


def reference_pace(reference: LabResult, arms: Sequence[str]) -> float | None:
    """Seconds per training step of the reference's runs of ``arms``, as measured when it was made."""
    paces = [r.seconds / r.steps for r in reference.runs if r.arm in arms and r.steps > 0]
    return float(np.mean(paces)) if paces else None


def progress_text(
    p: LabProgress, first: LabProgress | None = None, pace: float | None = None, t: Messages | None = None
) -> str:
    """Where the run is; the time left is estimated from the pace since `first` (the first step seen),
    so that the time spent generating the images does not count as training; until this run has a
    pace of its own, from ``pace`` (seconds per step, the reference's)."""
    t = t or english()
    first = first or p
    numbers = {
        "run": p.run + 1,
        "runs": p.runs,
        "arm": arm_title(p.arm, t),
        "seed": p.seed,
        "step": p.step,
        "steps": p.steps,
        "loss": p.loss,
        "seconds": p.seconds,
    }
    if p.fraction > first.fraction:
        left = (p.seconds - first.seconds) * (1 - p.fraction) / (p.fraction - first.fraction)
        return t.text("lab.live.progress.left", left=left, **numbers)
    if pace is not None:
        return t.text("lab.live.progress.pace", left=pace * (1 - p.fraction) * p.runs * p.steps, **numbers)
    return t.text("lab.live.progress", **numbers)


def progress_html(
    p: LabProgress, first: LabProgress | None = None, pace: float | None = None, t: Messages | None = None
) -> str:
    return status_html(progress_text(p, first, pace, t), p.fraction)


def finished_text(result: LabResult, planned: int, t: Messages | None = None) -> str:
    t = t or english()
    runs = len(result.runs)
    if result.stopped:
        return t.text("lab.live.stopped_after", runs=runs, planned=planned, steps=result.steps, seconds=result.seconds)
    return t.plural("lab.live.done", runs, steps=result.steps, seconds=result.seconds)


def live_table(
    result: LabResult, reference: LabResult, current: LabProgress | None = None, t: Messages | None = None
) -> str:
    """One row per chosen arm: its held-out scores once trained, beside the reference and the paper."""
    t = t or english()
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
                state = t.text("lab.live.stopped_cell")
            else:
                training = current is not None and current.arm == arm
                state = t.text("lab.live.training" if training else "lab.live.to_do")
            scores = f'<td colspan="2" class="pf-pending">{html.escape(state)}</td>'
        at = held_out_at(reference, arm, compared) if compared else None
        reference_cell = mean_spread(at.mean, at.std, at.seeds) if at else "–"
        rows.append(
            f'<tr data-arm="{arm}"><td>{html.escape(arm_title(arm, t))}</td>{scores}'
            f'<td class="pf-num">{reference_cell}</td>'
            f'<td class="pf-num pf-paper">{html.escape(paper_text(arm, t))}</td></tr>'
        )
    level = pct(chance(result.task))
    rows.append(chance_row(level, "", level, "", t=t))
    seeds = len(reference.seeds)
    at_step = (
        t.plural("lab.live.head.reference", seeds, step=compared)
        if compared
        else t.plural("lab.live.head.reference_early", seeds)
    )
    heads = [t.text("lab.head.arm"), t.text("lab.head.accuracy"), t.text("lab.head.pointing"), at_step]
    heads.append(t.text("lab.live.head.paper"))
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    return f'<table class="pf-lab-table"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def live_html(
    result: LabResult,
    reference: LabResult,
    curves: str | None,
    current: LabProgress | None = None,
    t: Messages | None = None,
) -> str:
    """The live run so far (or finished): its curves and its table."""
    t = t or english()
    drawn = [r for r in (*result.runs, *((partial_run(current),) if current else ())) if r.curve]
    # Presenter mode's copy of the curves, with larger type: the runs the page drew, again.
    room = curves_uri(drawn, reference=reference, until=result.steps, scale=PRESENTER_SCALE) if curves else None
    caption = t.text("lab.live.curves_caption", steps=result.steps, seeds=", ".join(map(str, result.seeds)))
    figure = (
        '<figure class="pf-lab-curves">'
        f"{plot_images(curves, room, t.text('lab.live.curves_alt'))}"
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        if curves
        else '<div class="pf-lab-curves pf-empty"></div>'
    )
    baseline = (
        f'<p class="pf-note">{html.escape(t.text("lab.live.centre", centre=pct(result.centre_baseline)))}</p>'
        if np.isfinite(result.centre_baseline)
        else ""
    )
    table = live_table(result, reference, current, t)
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
