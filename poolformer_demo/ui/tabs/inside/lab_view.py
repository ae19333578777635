"""What the ablation lab's section shows of the shipped reference results, as plain values: HTML
tables with the curves inlined, the reading of the results in words (from the core's readings), and
JSON for programs, from a LabResult and its ArmSummary rows, in the page's language. A live run's
views are in lab_live.py. Nothing here imports Gradio, so the formatting is tested without a server."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import asdict

from ....i18n import Messages, english
from ....plots import PRESENTER_SCALE
from ....readings.lab import chance, reading
from ....readings.sentences import pct
from ....shapes.arms import ARMS
from ....shapes.lab import LabResult
from ....shapes.lab_results import ArmSummary
from ....shapes.tasks import TASKS
from ....variants import PAPER_S12_ABLATIONS
from ...kit.view import chance_row, mean_spread, more_html, plot_images
from .lab_curves import curves_uri, partial_run, reference_title  # noqa: F401 - the page draws them as this view's

# MetaFormer Baselines trained these two mixers again at S12 size, with its newer recipe.
LATER_PAPER_SETTINGS = {"identity": "identity (IdentityFormer-S12)", "random": "random mixing (RandFormer-S12)"}


def arm_title(arm: str, t: Messages | None = None) -> str:
    """An arm's name in a table ("pooling (PoolFormer)"), catalog ``arm.title.<arm>``."""
    t = t or english()
    return t.text(f"arm.title.{arm}") if f"arm.title.{arm}" in english() else ARMS[arm].title


def task_title(task: str, t: Messages | None = None) -> str:
    """A task's name in the menu and the titles (catalog ``lab.task.<task>``)."""
    t = t or english()
    return t.text(f"lab.task.{task}") if f"lab.task.{task}" in english() else TASKS[task].title


def task_choices(t: Messages | None = None) -> list[tuple[str, str]]:
    return [(task_title(name, t), name) for name in TASKS]


def _later_paper(arm: str):
    setting = LATER_PAPER_SETTINGS.get(arm)
    return next((r for r in PAPER_S12_ABLATIONS if r.setting == setting), None)


def paper_text(arm: str, t: Messages | None = None) -> str:
    """The paper's S12 ImageNet top-1 for the same change, and the later paper's where it has one."""
    t = t or english()
    top1 = ARMS[arm].paper.top1
    later = _later_paper(arm)
    if later is None:
        return t.text("lab.paper.top1", top1=top1)
    name = re.search(r"\(([^)]*)\)", later.setting)
    return t.text("lab.paper.later", top1=top1, model=name.group(1) if name else later.setting, later=later.top1)


def papers_note(t: Messages | None = None) -> str:
    """Which paper each number of the paper column comes from."""
    later = _later_paper("identity")
    return (t or english()).text("lab.papers_note", first=ARMS["pooling"].paper.source, later=later.source)


# ---------------------------------------------------------------------------------------------
# The reference results
# ---------------------------------------------------------------------------------------------


def _parameters(result: LabResult, arm: str) -> str:
    runs = result.runs_of(arm)
    return f"{runs[0].parameters:,}" if runs else "–"


def reference_table(result: LabResult, summaries: Sequence[ArmSummary], t: Messages | None = None) -> str:
    """One row per arm: accuracy and pointing game as mean ± spread over the seeds, and the paper's number."""
    t = t or english()
    rows = "".join(
        f'<tr data-arm="{s.arm}"><td>{html.escape(arm_title(s.arm, t))}</td>'
        f'<td class="pf-num pf-accuracy">{mean_spread(s.accuracy_mean, s.accuracy_std, s.seeds)}</td>'
        f'<td class="pf-num pf-pointing">{mean_spread(s.pointing_mean, s.pointing_std, s.seeds)}</td>'
        f'<td class="pf-num">{_parameters(result, s.arm)}</td>'
        f'<td class="pf-num pf-paper">{html.escape(paper_text(s.arm, t))}</td></tr>'
        for s in summaries
    )
    guess = chance_row(pct(chance(result.task)), pct(result.chance_pointing), "", "", t=t)
    heads = "".join(
        f"<th>{html.escape(t.text(f'lab.head.{name}'))}</th>"
        for name in ("arm", "accuracy", "pointing", "parameters", "paper")
    )
    centre = t.text(f"lab.centre.{result.task}") if f"lab.centre.{result.task}" in english() else ""
    note = t.html_plural(
        "lab.reference.note",
        len(result.seeds),
        images=result.config.eval_size,
        chance=pct(chance(result.task)),
        centre=pct(result.centre_baseline),
        why=centre,
        papers=papers_note(t),
    )
    return (
        f'<table class="pf-lab-table"><thead><tr>{heads}</tr></thead><tbody>{rows}{guess}</tbody></table>'
        f'<p class="pf-note">{note}</p>'
    )


def budget_text(result: LabResult, t: Messages | None = None) -> str:
    """What every arm got, and how the results are made again."""
    config = result.config
    return (t or english()).text(
        "lab.budget",
        steps=result.steps,
        batch=config.batch_size,
        images=config.train_size,
        px=result.image_size,
        seeds=", ".join(map(str, result.seeds)),
        depths=" · ".join(map(str, config.depths)),
        widths=" · ".join(map(str, config.hidden_sizes)),
        runs=len(result.runs),
        minutes=result.seconds / 60,
    )


def reference_html(
    result: LabResult,
    summaries: Sequence[ArmSummary],
    curves: str,
    command: str,
    grid: str = "",
    t: Messages | None = None,
) -> str:
    """The shipped results: the table, the curves, the budget with its command, what they show, and
    the norm x mixer grid's section (``grid``, HTML) where the task has one."""
    t = t or english()
    task = task_title(result.task, t)
    # Presenter mode's copy of the curves, with larger type (the plot's words stay English).
    room = curves_uri(result, reference_title(result), scale=PRESENTER_SCALE)
    title = t.text("lab.reference.title", task=task, arms=len(result.arms), seeds=len(result.seeds))
    budget = t.html("lab.reference.budget", budget=budget_text(result, t), command=command)
    said = reading(result, summaries, t)
    return (
        '<div class="pf-lab-reference">'
        f"<h4>{html.escape(title)}</h4>"
        '<div class="pf-lab-row">'
        f"<div>{reference_table(result, summaries, t)}</div>"
        '<figure class="pf-lab-curves">'
        f"{plot_images(curves, room, t.text('lab.curves_alt'))}"
        f"<figcaption>{html.escape(t.text('lab.curves_caption'))}</figcaption></figure></div>"
        f'<p class="pf-note">{budget}</p>'
        f'<div class="pf-lab-reading"><b>{html.escape(t.text("lab.what_it_shows"))}</b> {more_html(said, t=t)}</div>'
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
