"""The ablation lab's section of the "Inside the block" tab: the reference results as shown, a live run
through the page's handler (progress, the final table, stopping, one run at a time, torch threads),
its concurrency group in the app, and the `/lab_reference` and `/lab_run` endpoints."""

from __future__ import annotations

import html
import json
import re
import threading
import time
from dataclasses import replace

import gradio as gr
import numpy as np
import pytest
import torch
from browsing import TIMEOUT_MS, VIEWPORT, wait_until
from serving import serving

from poolformer_demo.i18n import english
from poolformer_demo.readings.lab import reading
from poolformer_demo.readings.norm import control_reading
from poolformer_demo.readings.sentences import pct
from poolformer_demo.shapes.arms import ARM_NAMES, ARMS, build_arm_model, lab_architecture
from poolformer_demo.shapes.lab import LIVE_STEPS, CurvePoint, LabConfig, LabProgress, run_lab
from poolformer_demo.shapes.lab_results import (
    REFERENCE_COMMAND,
    REFERENCE_PATH,
    ArmSummary,
    SeedScore,
    load_reference,
    measured_step,
    plot_curves,
    reference_command,
    reference_path,
    summarize,
)
from poolformer_demo.testing import decode_data_uri as decode
from poolformer_demo.testing import wait_until as wait_until_true
from poolformer_demo.ui import app as ui_app
from poolformer_demo.ui.kit import view as present
from poolformer_demo.ui.kit.language import LanguageSection
from poolformer_demo.ui.tabs.inside import lab_live as present_live
from poolformer_demo.ui.tabs.inside import lab_page
from poolformer_demo.ui.tabs.inside.lab_page import LabSection
from poolformer_demo.variants import PAPER_S12_ABLATIONS

# A live run small enough for a test: a few hundred images, a dozen steps per arm.
TINY = LabConfig(train_size=96, eval_size=24, batch_size=16, curve_points=4)
TINY_STEPS = 12
THREAD_END_S = 20


def tiny_section(runner, **options) -> LabSection:
    return LabSection(runner, steps=TINY_STEPS, config=TINY, curves_every_s=0.0, **options)


def recorded_lab_runs(monkeypatch) -> list:
    """Every result the lab's computation returns while the test runs (the page shows them as tables)."""
    made = []

    def recording(*args, **kwargs):
        made.append(run_lab(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(lab_page, "run_lab", recording)
    return made


def row_cells(page: str, arm: str) -> list[str]:
    row = re.search(rf'<tr data-arm="{arm}">(.*?)</tr>', page)
    assert row, f"no row for {arm}"
    return [html.unescape(re.sub("<[^>]+>", "", cell)) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))]


def reference_json() -> dict:
    return json.loads(REFERENCE_PATH.read_text())


def expected_means(data: dict) -> dict[str, tuple[str, str]]:
    """Each arm's accuracy and pointing game over its seeds, formatted as the page does, from the raw JSON."""
    out = {}
    for arm in data["arms"]:
        runs = [r for r in data["runs"] if r["arm"] == arm]
        acc = np.array([r["accuracy"] for r in runs]) * 100
        pg = np.array([r["pointing_game"] for r in runs]) * 100
        out[arm] = (f"{acc.mean():.1f} % ± {acc.std(ddof=1):.1f}", f"{pg.mean():.1f} % ± {pg.std(ddof=1):.1f}")
    return out


def wait_for_end(runner) -> None:
    assert wait_until_true(lambda: runner.active == 0, THREAD_END_S), "the training thread is still running"


# ---------------------------------------------------------------------------------------------
# The reference results
# ---------------------------------------------------------------------------------------------


def test_reference_table_shows_each_arms_mean_and_spread_from_the_json_beside_the_paper(runner):
    page = LabSection(runner).reference_page
    data = reference_json()
    for arm, (accuracy, pointing) in expected_means(data).items():
        cells = row_cells(page, arm)
        assert cells[0] == ARMS[arm].title
        assert cells[1] == accuracy and cells[2] == pointing
        assert cells[4].startswith(f"{ARMS[arm].paper.top1:g} %")
    later = next(r for r in PAPER_S12_ABLATIONS if "IdentityFormer-S12" in r.setting)
    assert f"IdentityFormer-S12: {later.top1:g} %" in row_cells(page, "identity")[4]
    assert f"{100 * data['centre_baseline']:.1f} %" in page
    assert f"<code>{REFERENCE_COMMAND}</code>" in page and data["command"] == REFERENCE_COMMAND
    assert f"{data['steps']:,} steps" in page and "seeds 0, 1, 2" in page and f"at {data['image_size']} px" in page
    # Drawn twice: for a screen, and with larger type for presenter mode (taller, as wide).
    screen, room = (
        decode(
            re.search(rf'<img class="pf-for-{look}" alt="training curves of the reference runs" src="([^"]+)"', page)[1]
        )
        for look in ("screen", "room")
    )
    assert screen.size[0] == room.size[0] == 900 and room.size[1] > screen.size[1]


def test_reading_of_the_reference_says_what_its_numbers_show():
    result, rows = load_reference()
    by = {row.arm: row for row in rows}
    text = " ".join(reading(result, rows))
    assert pct(by["no_mlp"].accuracy_mean) in text
    assert f"pooling at {pct(by['pooling'].accuracy_mean)} after {result.steps:,} steps" in text
    best_pointing = max(row.pointing_mean for row in rows)
    assert ("No arm's Grad-CAM points at the object" in text) == (best_pointing < result.centre_baseline)


def test_reading_follows_the_numbers_when_they_change():
    result, _ = load_reference()
    # The same runs with pooling the best mixer and no residuals failing: the reading must turn round.
    accuracy = {"pooling": 0.95, "identity": 0.60, "random": 0.62, "conv": 0.94, "no_mlp": 0.30, "no_residual": 0.35}
    runs = tuple(
        replace(r, accuracy=accuracy[r.arm] + 0.02 * r.seed, pointing_game=0.5 if r.arm == "pooling" else 0.2)
        for r in result.runs
    )
    changed = replace(result, runs=runs, centre_baseline=0.40)
    text = " ".join(reading(changed, summarize(changed)))
    assert "Pooling does not win" not in text
    assert (
        "Pooling shares the lead at this scale" in text and "identity and the frozen random matrix scored lower" in text
    )
    assert "Against pooling, the depthwise convolution scored within 2.0 points on 3 of 3 seeds." in text
    assert "identity scored lower than pooling on 3 of 3 seeds, by 35.0 points, as in the paper" in text
    assert "Without residual connections accuracy falls to 37.0 %" in text
    assert "points at the object more often (50.0 %) than a map that always peaks at the image centre" in text
    assert "No arm's" not in text and "That is the paper's point too" not in text


def test_reading_never_says_no_residuals_trains_fine_when_the_best_block_is_far_above_it():
    result, _ = load_reference()
    # Pooling's seeds spread too widely to tell it from no residuals; the convolution does not.
    accuracy = {"pooling": 0.45, "identity": 0.75, "random": 0.55, "conv": 0.87, "no_mlp": 0.25, "no_residual": 0.38}
    spread = {"pooling": 0.13}
    runs = tuple(replace(r, accuracy=accuracy[r.arm] + spread.get(r.arm, 0.01) * (r.seed - 1)) for r in result.runs)
    text = " ".join(reading(replace(result, runs=runs), summarize(replace(result, runs=runs))))
    assert "trains as well" not in text
    assert (
        "Without residual connections accuracy is 38.0 % (per seed 37.0, 38.0 and 39.0 %; chance: 16.7 %): lower "
        "than the depthwise convolution with them on most seeds, though not lower than pooling on most" in text
    )
    assert "Against pooling, the network without residuals scored higher on 1 and lower on 2 of 3 seeds" in text


def test_lab_reference_endpoint_gives_programs_the_reference_results(client):
    result = client.predict(api_name="/lab_reference")
    data = reference_json()
    assert result["command"] == data["command"] and result["steps"] == data["steps"]
    assert [a["arm"] for a in result["arms"]] == data["arms"]
    for arm in result["arms"]:
        runs = [r for r in data["runs"] if r["arm"] == arm["arm"]]
        assert arm["accuracy_mean"] == pytest.approx(np.mean([r["accuracy"] for r in runs]))
        assert arm["pointing_std"] == pytest.approx(np.std([r["pointing_game"] for r in runs], ddof=1))
        assert [r["seed"] for r in arm["runs"]] == [r["seed"] for r in runs]
        assert arm["paper_top1"] == ARMS[arm["arm"]].paper.top1
    assert result["centre_baseline"] == data["centre_baseline"]
    pooling = np.mean([r["accuracy"] for r in data["runs"] if r["arm"] == "pooling"])
    assert f"pooling at {100 * pooling:.1f} %" in result["reading"]
    assert decode(result["curves_picture"]).size[0] == 900


# ---------------------------------------------------------------------------------------------
# A live run
# ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_live_run_yields_progress_then_the_final_table(runner, monkeypatch):
    made = recorded_lab_runs(monkeypatch)
    section = tiny_section(runner)
    outputs = list(section.run_on_page(["identity", "pooling"]))

    progress = [o[0] for o in outputs if "<progress max=" in o[0]]
    assert len(progress) >= 2 and "Run 1 of 2: pooling (PoolFormer)" in progress[0]
    assert any("Run 2 of 2: identity (no token mixer)" in p for p in progress)
    drawn = [o[1] for o in outputs if isinstance(o[1], str) and "training curves of this run" in o[1]]
    assert drawn and "training…" in drawn[0]
    status, table, _ = outputs[-1]
    assert "Done: 2 runs of 12 steps each" in status
    (result,) = made
    assert not result.stopped and [r.arm for r in result.runs] == ["pooling", "identity"]
    for run in result.runs:
        cells = row_cells(table, run.arm)
        assert cells[1] == f"{100 * run.accuracy:.1f} %" and cells[2] == f"{100 * run.pointing_game:.1f} %"
    assert "random" not in table
    wait_for_end(runner)


@pytest.mark.slow
def test_the_lab_trains_on_one_torch_thread_and_leaves_other_threads_alone(runner):
    from poolformer_demo.ui.kit.runs import LAB, app_lanes

    assert {lane.name: lane.threads for lane in app_lanes(2)}[LAB] == 1
    default = torch.get_num_threads()
    section = tiny_section(runner)
    seen = {}
    for status, *_ in section.run_on_page(["pooling"]):
        if "<progress max=" in status and "later" not in seen:
            # A thread that starts its first torch work while the lab trains.
            later = threading.Thread(target=lambda: seen.setdefault("later", torch.get_num_threads()))
            later.start()
            later.join()
            seen["here"] = torch.get_num_threads()
    assert seen == {"later": default, "here": default}


def test_stopping_ends_the_run_early_and_the_training_thread_ends(runner):
    section = LabSection(runner, steps=400, config=TINY)
    run = section.run_on_page(list(ARM_NAMES))
    status, *_ = next(run)
    while "<progress max=" not in status:
        status, *_ = next(run)
    run.close()  # what Gradio does when the Stop button cancels the event
    # 400 steps of six arms take minutes; stopped, the training thread ends within its current step.
    wait_for_end(runner)
    # The lab lane is free again: a new run starts at once instead of waiting.
    again = tiny_section(runner).run_on_page(["pooling"])
    assert next(again)[0] != present.status_html(english().text("lab.live.waiting"))
    again.close()
    wait_for_end(runner)


def test_a_second_run_waits_until_the_first_has_ended(runner):
    section = LabSection(runner, steps=400, config=TINY)
    first = section.run_on_page(["pooling"])
    while "<progress max=" not in next(first)[0]:
        pass
    second = section.run_on_page(["identity"])
    assert next(second)[0] == present.status_html(english().text("lab.live.waiting"))
    first.close()
    started = time.monotonic()
    status = next(second)[0]
    while (
        status == present.status_html(english().text("lab.live.waiting")) and time.monotonic() - started < THREAD_END_S
    ):
        status = next(second)[0]
    assert status == present.status_html(english().text("lab.live.preparing"))
    second.close()
    wait_for_end(runner)


def test_a_run_with_no_arms_says_so_without_training(runner):
    started = runner.started
    section = tiny_section(runner)
    assert list(section.run_on_page([])) == [
        (present.message_html(english().text("lab.live.no_arms")), gr.skip(), gr.skip())
    ]
    assert runner.started == started


def test_the_lab_runs_one_at_a_time_in_its_own_concurrency_group_and_stop_cancels_it(app_cache):
    demo = ui_app.build_demo(cache=app_cache, shapes_available=True)
    fns = {fn.name: fn for fn in demo.fns.values()}
    for name in ("run_on_page", "run_ablation_lab"):
        assert (fns[name].concurrency_id, fns[name].concurrency_limit) == ("lab", 1)
    # Explore and the long explanations have lanes of their own (ui/app.py): neither is the lab.
    assert fns["analyze_image"].concurrency_id == "explore" and fns["explain_prediction"].concurrency_id == "long"
    page_run = next(i for i, fn in demo.fns.items() if fn.name == "run_on_page")
    assert any(fn.cancels == [page_run] for fn in demo.fns.values())
    ids = {c["props"].get("elem_id") for c in demo.config["components"]}
    assert {"lab-reference", "lab-arms", "lab-start", "lab-stop", "lab-progress", "lab-live"} <= ids


@pytest.mark.slow
def test_lab_run_endpoint_trains_a_bounded_run_for_programs(runner):
    from gradio_client import Client

    with gr.Blocks() as demo:
        language = LanguageSection()
        language.render()
        tiny_section(runner).render(language)
    with serving(demo) as (_, url):
        client = Client(url, verbose=False)
        result = client.predict(["conv"], TINY_STEPS, api_name="/lab_run")
        assert result["status"] == "finished" and result["steps"] == TINY_STEPS
        (conv,) = result["arms"]
        assert conv["arm"] == "conv" and 0 <= conv["accuracy_mean"] <= 1
        assert conv["paper_top1"] == ARMS["conv"].paper.top1
        built = build_arm_model("conv", lab_architecture(TINY), TINY.image_size)
        assert conv["runs"][0]["parameters"] == sum(p.numel() for p in built.parameters() if p.requires_grad)
        with pytest.raises(Exception, match=f"between 1 and {TINY_STEPS}|maximum"):
            client.predict(["conv"], TINY_STEPS + 1, api_name="/lab_run")


def test_time_left_counts_the_pace_of_training_not_the_image_generation_before_it():
    def at(step: int, seconds: float) -> LabProgress:
        return LabProgress("pooling", 0, 0, 2, step, 100, 1.0, 0.5, seconds, (), ())

    first, later = at(2, 10.0), at(12, 20.0)  # 10 s of images, then 10 steps in 10 s
    assert present_live.progress_text(later, first).endswith("about 188 s of training left")
    assert "left" not in present_live.progress_text(first, first)
    # Before the run has a pace of its own: the reference's, 0.5 s a step for the 198 steps to go.
    estimate = present_live.progress_text(first, first, pace=0.5)
    assert estimate.endswith("about 99 s of training left at the reference's pace")


# ---------------------------------------------------------------------------------------------
# Both tasks
# ---------------------------------------------------------------------------------------------


def test_the_pairs_reference_page_shows_the_pairs_results_with_two_class_chance(runner):
    page = LabSection(runner).reference_page_of("pairs")
    data = json.loads(reference_path("pairs").read_text())
    assert data["config"]["task"] == "pairs"
    for arm, (accuracy, pointing) in expected_means(data).items():
        assert row_cells(page, arm)[1:3] == [accuracy, pointing]
    assert "Chance accuracy: 50.0 %" in page and "near opposite edges" in page
    assert "Chance accuracy: 16.7 %" in LabSection(runner).reference_page


def test_lab_reference_endpoint_takes_a_task(client):
    pairs = client.predict("pairs", api_name="/lab_reference")
    assert pairs["task"] == "pairs" and pairs["chance"] == 0.5
    assert pairs["command"] == reference_command("pairs")
    assert client.predict(api_name="/lab_reference")["task"] == "shapes"


@pytest.mark.slow
def test_a_live_run_on_pairs_uses_the_pairs_configuration_and_its_reference(runner, monkeypatch):
    made = recorded_lab_runs(monkeypatch)
    section = LabSection(runner, steps=TINY_STEPS, config=replace(TINY, task="pairs"), curves_every_s=0.0)
    outputs = list(section.run_on_page(["pooling"], "pairs"))
    (result,) = made
    assert result.task == "pairs" and result.config.train_size == TINY.train_size
    reference, _ = section.reference_of("pairs")
    _, table, _ = outputs[-1]
    # Twelve steps: before the reference's first held-out measurement (step 100).
    assert measured_step(reference, result.steps) is None
    assert row_cells(table, "pooling")[3] == "–" and "reference (not measured this early)" in table
    assert "Dashed and lighter: the reference runs" in table
    wait_for_end(runner)


def test_a_live_run_is_scored_beside_the_reference_at_the_same_step():
    reference, _ = load_reference(reference_path("pairs"))
    step = LIVE_STEPS
    runs = tuple(replace(r, steps=step, accuracy=0.5, held_out=((step, 0.5),)) for r in reference.runs_of("identity"))
    live = replace(reference, arms=("identity",), seeds=(0,), steps=step, runs=runs[:1])
    table = present_live.live_table(live, reference)
    values = [r.held_out_at(step) for r in reference.runs_of("identity")]
    expected = present.mean_spread(float(np.mean(values)), float(np.std(values, ddof=1)), len(values))
    assert row_cells(table, "identity")[1] == "50.0 %" and row_cells(table, "identity")[3] == expected
    assert f"reference at step {step:,} (3 seeds)" in table
    # A run that stops between measurements is set beside the latest one before it.
    later = replace(live, steps=step + 40, runs=tuple(replace(r, steps=step + 40) for r in live.runs))
    assert f"reference at step {step:,} (3 seeds)" in present_live.live_table(later, reference)
    api = present_live.live_api(live, reference)
    assert api["reference_at_step"]["identity"]["mean"] == pytest.approx(np.mean(values))
    assert api["reference_at_step"]["identity"]["step"] == step


def test_live_curves_stop_at_the_live_budget_with_the_references_curves_cut_there_too():
    reference, _ = load_reference(reference_path("pairs"))
    pooling = next(r for r in reference.runs if r.arm == "pooling")
    partial = replace(pooling, curve=tuple(p for p in pooling.curve if p.step <= 100))
    figure = plot_curves([partial], reference=reference, until=LIVE_STEPS)
    loss_ax, _ = figure.axes[:2]
    assert loss_ax.get_xlim() == (0, LIVE_STEPS)
    reference_line = next(line for line in loss_ax.get_lines() if "reference" in str(line.get_label()))
    assert max(reference_line.get_xdata()) <= LIVE_STEPS


def test_live_curves_are_drawn_on_the_references_steps_beside_its_curves_of_the_same_arms():
    reference, _ = load_reference(reference_path("pairs"))
    pooling = next(r for r in reference.runs if r.arm == "pooling")
    partial = replace(pooling, curve=pooling.curve[:3])
    figure = plot_curves([partial], reference=reference)
    loss_ax, acc_ax = figure.axes[:2]
    assert acc_ax.get_xlim() == (0, reference.steps)
    # One reference line (dashed) and one live line for the one arm, on each axis.
    assert [line.get_linestyle() for line in loss_ax.get_lines()] == ["--", "-"]
    assert len(acc_ax.get_lines()[1].get_xdata()) == 3
    # A run longer than the reference is drawn whole.
    longer = replace(pooling, curve=(*pooling.curve, CurvePoint(2 * reference.steps, 0.1, 0.9)))
    assert plot_curves([longer], reference=reference).axes[1].get_xlim() == (0, 2 * reference.steps)


def test_arms_not_finished_before_a_stop_say_stopped():
    reference, rows = load_reference()
    stopped = replace(reference, arms=("pooling", "identity"), runs=reference.runs_of("pooling")[:1], stopped=True)
    table = present_live.live_table(stopped, reference)
    assert row_cells(table, "identity")[1] == "stopped"
    assert row_cells(table, "pooling")[1] != "stopped"


def test_the_live_runs_length_is_estimated_from_the_references_measured_pace():
    reference, _ = load_reference()
    # Every reference run trained at 0.1 s a step, except pooling's at 0.3 s.
    runs = tuple(replace(r, seconds=r.steps * (0.3 if r.arm == "pooling" else 0.1)) for r in reference.runs)
    paced = replace(reference, runs=runs)
    assert present_live.run_minutes(paced, 600) == pytest.approx((0.3 + 5 * 0.1) * 600 / 60)
    text = present_live.live_markdown(300, paced)
    assert "about 1.3 minutes for two arms, 4 for all six" in text
    assert f"The first 300 of the reference's {reference.steps:,} steps per arm" in text


def test_reading_of_pairs_like_numbers_names_the_paper_agreement_the_discs_and_the_random_pixel_bar():
    result, _ = load_reference(reference_path("pairs"))
    # Only the learned convolution ahead of pooling; the frozen random matrix and no MLP at chance.
    accuracy = {"pooling": 0.93, "identity": 0.80, "random": 0.50, "conv": 0.99, "no_mlp": 0.50, "no_residual": 0.48}
    runs = tuple(replace(r, accuracy=accuracy[r.arm] + 0.005 * r.seed, pointing_game=0.05) for r in result.runs)
    changed = replace(result, runs=runs, centre_baseline=0.0, chance_pointing=0.10)
    text = " ".join(reading(changed, summarize(changed)))
    assert "As in the paper, only the learned depthwise convolution gets ahead of pooling" in text
    assert "Against pooling, the frozen random matrix scored lower on 3 of 3 seeds, by 43.0 points" in text
    assert "(chance: 50.0 %)" in text
    assert "No arm's Grad-CAM points at a disc more often than a map that peaks at a random pixel (10.0 %" in text


@pytest.mark.browser
def test_choosing_the_pairs_task_shows_its_reference_in_the_browser(browser, served):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(served[1])
    page.get_by_role("tab", name="Inside the block").click()
    heading = page.locator("#lab-reference h4")
    heading.wait_for(timeout=TIMEOUT_MS)
    assert "one shape" in heading.inner_text()
    page.locator("#lab-task").get_by_label(english().text("lab.task.pairs")).check()
    wait_until(page, "document.querySelector('#lab-reference h4').innerText.includes('pairs')", "the pairs reference")
    assert "Chance accuracy: 50.0 %" in page.locator("#lab-reference").inner_text()
    page.close()


def test_reading_names_seeds_that_never_leave_chance_beside_seeds_that_learn():
    result, _ = load_reference(reference_path("pairs"))
    # Pooling learns with seeds 0 and 1 and stays at chance with seed 2; identity learns with every seed.
    accuracy = {"pooling": (1.0, 0.92, 0.5), "identity": (0.92, 0.99, 0.95), "random": (0.5,) * 3}
    accuracy |= {"conv": (1.0, 0.99, 0.91), "no_mlp": (0.5,) * 3, "no_residual": (0.49,) * 3}
    runs = tuple(replace(r, accuracy=accuracy[r.arm][r.seed]) for r in result.runs)
    changed = replace(result, runs=runs)
    text = " ".join(reading(changed, summarize(changed)))
    assert "Some seeds did not leave chance within 600 steps" in text
    assert "pooling (1 of 3 seeds: seed 2 at 50.0 %)" in text and "identity (" not in text.split("did not leave")[1]
    # Identity is higher on two seeds and lower on one: pooling is not called the winner, nor the loser to it.
    assert "identity scored higher than pooling on 2 and lower on 1 of 3 seeds" in text
    assert "only the learned depthwise convolution gets ahead" in text and "Pooling wins" not in text


def _rows(**accuracy):
    """Summaries of three seeds each, every seed at the arm's accuracy."""
    return tuple(
        ArmSummary(
            arm,
            ARMS[arm].title,
            3,
            value,
            0.0,
            0.1,
            0.01,
            ARMS[arm].paper.top1,
            per_seed=tuple(SeedScore(seed, value) for seed in range(3)),
        )
        for arm, value in accuracy.items()
    )


def test_the_norm_controls_reading_follows_its_numbers():
    grouped = _rows(pooling=1.0, identity=1.0)
    needed = " ".join(control_reading(grouped, _rows(pooling=0.97, identity=0.5), 600, 0.5))
    assert (
        "still learned the pairs task with PoolFormer's own norm (identity 100.0 %, pooling 100.0 %; identity "
        "learned on 3 of 3 seeds)" in needed
    )
    assert (
        "(every norm per position) and the token mixer is needed: with a per-position norm, identity reaches 50.0 %"
        in needed
    )
    neither = " ".join(control_reading(grouped, _rows(pooling=0.51, identity=0.5), 600, 0.5))
    assert "neither arm learned the task within 600 steps on any of 3 seeds" in neither
    assert "the token mixer is needed" not in neither and "the norm, not the token mixer, carried" in neither
    level = " ".join(control_reading(grouped, _rows(pooling=0.9, identity=0.895), 600, 0.5))
    assert "identity is not lower than pooling on most seeds" in level
    # With GroupNorm too identity falling behind: no claim about the norm's path.
    behind = control_reading(_rows(pooling=1.0, identity=0.5), _rows(pooling=0.97, identity=0.5), 600, 0.5)
    assert not any("still learned" in s for s in behind)


def test_reading_says_pooling_wins_only_when_no_other_mixer_ties_with_it():
    result, _ = load_reference()
    accuracy = {"pooling": 0.95, "identity": 0.60, "random": 0.62, "conv": 0.80, "no_mlp": 0.30, "no_residual": 0.35}
    runs = tuple(replace(r, accuracy=accuracy[r.arm] + 0.01 * r.seed) for r in result.runs)
    alone = replace(result, runs=runs)
    assert "Pooling wins at this scale" in " ".join(reading(alone, summarize(alone)))
    tied = replace(alone, runs=tuple(replace(r, accuracy=0.95 + 0.01 * r.seed) if r.arm == "conv" else r for r in runs))
    text = " ".join(reading(tied, summarize(tied)))
    assert "Pooling shares the lead at this scale" in text and "Pooling wins" not in text
