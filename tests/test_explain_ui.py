"""The Explain tab: its formatting, its handlers called directly (the CAM family, attributions with
progress and stop, faithfulness, the sanity check), its wiring in the app, the served `/explain` and
`/sanity` endpoints, and one run in a real browser.

The shapes model (128 px) and small settings keep the handlers fast; s12 has seeded random weights.
"""

from __future__ import annotations

import html
import re
from dataclasses import replace

import numpy as np
import pytest
import torch
from browsing import TIMEOUT_MS, VIEWPORT, assert_no_error_toast, wait_until
from pages import images, skipped, text_of
from paths import PHOTO, STAR

from poolformer_demo import explanation as explanation_module
from poolformer_demo import render
from poolformer_demo.analysis import Prediction, analyze
from poolformer_demo.attributions import (
    IntegratedGradientsSettings,
    OcclusionSettings,
    SmoothGradSettings,
)
from poolformer_demo.cams import CAM_METHODS
from poolformer_demo.errors import ComputationCancelled
from poolformer_demo.explanation import explain
from poolformer_demo.faithfulness import (
    Curves,
    FaithfulnessReport,
    FaithfulnessSettings,
    RandomBaseline,
    evaluate_faithfulness,
)
from poolformer_demo.i18n import english
from poolformer_demo.readings.trust import method_verdict
from poolformer_demo.sanity import RandomizationStep, RandomModelBaseline, SanityCheck, cascading_randomization, verdict
from poolformer_demo.testing import decode_data_uri as decode
from poolformer_demo.testing import torch_threads
from poolformer_demo.testing import wait_until as wait_for
from poolformer_demo.ui import app as ui_app
from poolformer_demo.ui.kit.pictures import layer_uri
from poolformer_demo.ui.kit.view import Session
from poolformer_demo.ui.tabs.explain import api as explain_api
from poolformer_demo.ui.tabs.explain import page as explain_module
from poolformer_demo.ui.tabs.explain import timing as explain_timing
from poolformer_demo.ui.tabs.explain import trust as present_trust
from poolformer_demo.ui.tabs.explain import view as present_explain
from poolformer_demo.ui.tabs.explain.page import ExplainTab
from poolformer_demo.variants import get_variant

METHODS = ["gradcam", "ig", "smoothgrad", "occlusion"]
# Small enough for a test on the 128 px shapes model; the defaults are measured in benchmarks/bench_explain.py.
SMALL = {
    "ig": IntegratedGradientsSettings(n_steps=6, internal_batch_size=3),
    "smoothgrad": SmoothGradSettings(nt_samples=4, nt_samples_batch_size=2),
    "occlusion": OcclusionSettings(window=32, stride=32, perturbations_per_eval=4),
}
FAITH = FaithfulnessSettings(steps=5, random_orders=2, batch_size=16)
# What a method's AUCs against the random mean imply: (deletion lower, insertion higher) -> verdict.
IMPLIED_VERDICT = {
    (True, True): "beats random on both",
    (True, False): "beats random on deletion only",
    (False, True): "beats random on insertion only",
    (False, False): "no better than random",
}


@pytest.fixture(scope="module")
def tab(app_cache, runner) -> ExplainTab:
    return ExplainTab(app_cache, runner, settings=SMALL, faithfulness=FAITH)


@pytest.fixture(scope="module")
def attributions_run(tab, star_session):
    """The attributions section run once on the star: (every (status, attributions) the handler
    gave, the explanation its computation returned)."""
    made = []

    def recording(*args, **kwargs):
        made.append(explain(*args, **kwargs))
        return made[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(explain_api, "explain", recording)
        outputs = list(tab.run_attributions(star_session, METHODS, 4))
    (explanation,) = made
    return outputs, explanation


@pytest.fixture(scope="module")
def attributed(attributions_run):
    """Every (status, attributions) the section gave on the star."""
    return attributions_run[0]


@pytest.fixture(scope="module")
def attributed_explanation(attributions_run):
    """The explanation behind the section's maps on the star."""
    return attributions_run[1]


# ---------------------------------------------------------------------------------------------
# Formatting, without a model
# ---------------------------------------------------------------------------------------------


def test_layers_are_red_above_zero_blue_below_and_clear_at_zero():
    values = np.zeros((16, 48), np.float32)
    values[:, :16], values[:, 32:] = -2.0, 2.0
    uri, limit = layer_uri(values)
    assert limit == pytest.approx(2.0)
    rgba = np.asarray(decode(uri).convert("RGBA")).astype(int)
    negative, zero, positive = rgba[8, 8], rgba[8, 24], rgba[8, 40]
    assert negative[2] > negative[0] + 60 and negative[3] == 255
    assert positive[0] > positive[2] + 60 and positive[3] == 255
    assert zero[3] == 0


def test_settings_table_states_each_methods_settings_and_its_expected_time():
    table = present_explain.settings_markdown()
    ig = explain_timing.timings().seconds["ig"]
    assert (
        f"| Integrated Gradients | 32 steps (gausslegendre), from a black image, 8 images per pass | "
        f"{explain_timing.seconds_text(ig)} |" in table
    )
    assert "32×32 px patch of the mean colour, stride 16 px" in table
    # Twice the integration steps: twice the passes through the model, twice the time.
    doubled = present_explain.settings_markdown({"ig": IntegratedGradientsSettings(n_steps=64)})
    assert (
        f"| Integrated Gradients | 64 steps (gausslegendre), from a black image, 8 images per pass | "
        f"{explain_timing.seconds_text(2 * ig)} |" in doubled
    )
    assert "Expected time on PoolFormer-S12 at 224 px" in table and "nothing else running" in table


def test_settings_table_quotes_the_time_on_the_model_that_runs_from_its_measured_share(monkeypatch):
    measured = explain_timing.timings()
    shapes = get_variant("shapes")
    table = present_explain.settings_markdown(None, shapes)
    assert "Expected time on PoolFormer-SHAPES at 128 px" in table and "S12 at 224" not in table
    share = measured.relative["shapes"]["ig"]
    assert f"| {explain_timing.seconds_text(measured.seconds['ig'] * share)} |" in table
    assert "18×18 px patch of the mean colour, stride 9 px (at 128 px)" in table
    # The time follows the measured share; where none was measured, the table says so.
    doubled = replace(measured, relative={"shapes": {k: 2 * v for k, v in measured.relative["shapes"].items()}})
    monkeypatch.setattr(explain_timing, "timings", lambda: doubled)
    monkeypatch.setattr(present_explain, "timings", lambda: doubled)
    assert f"| {explain_timing.seconds_text(measured.seconds['ig'] * 2 * share)} |" in (
        present_explain.settings_markdown(None, shapes)
    )
    unmeasured = replace(measured, relative={})
    monkeypatch.setattr(explain_timing, "timings", lambda: unmeasured)
    monkeypatch.setattr(present_explain, "timings", lambda: unmeasured)
    assert present_explain.settings_markdown(None, shapes).count("| not measured |") == 3


def _report(deletion: dict[str, float], insertion: dict[str, float]) -> FaithfulnessReport:
    fractions = np.linspace(0, 1, 3)
    methods = {
        name: Curves(np.full(3, deletion[name]), np.full(3, insertion[name]), deletion[name], insertion[name])
        for name in deletion
    }
    random = RandomBaseline(
        deletion=np.full((2, 3), 0.5),
        insertion=np.full((2, 3), 0.5),
        deletion_auc=np.array([0.49, 0.51]),
        insertion_auc=np.array([0.48, 0.52]),
    )
    return FaithfulnessReport(1, fractions, methods, random, None, FaithfulnessSettings(steps=2), 0.1)


def test_faithfulness_verdicts_and_table_compare_each_method_with_random():
    report = _report(
        deletion={"gradcam": 0.2, "ig": 0.3, "smoothgrad": 0.8, "occlusion": 0.9},
        insertion={"gradcam": 0.9, "ig": 0.1, "smoothgrad": 0.7, "occlusion": 0.2},
    )
    verdicts = {name: present_trust.verdict(report, name) for name in report.methods}
    assert verdicts == {
        "gradcam": "beats random on both",
        "ig": "beats random on deletion only",
        "smoothgrad": "beats random on insertion only",
        "occlusion": "no better than random",
    }
    page = text_of(present_trust.faithfulness_html(report, present_explain.METHOD_TITLES, "data:image/png;base64,"))
    assert "random (2 orders) 0.500 ± 0.010 0.500 ± 0.020" in page
    assert "Grad-CAM beats the random maps on both curves." in page
    # The table's column says each method's verdict in words, from the same comparison.
    for name, words in (("gradcam", "on both curves"), ("ig", "deletion only"), ("occlusion", "No better")):
        row = text_of(
            re.search(
                rf'<tr data-method="{name}">(.*?)</tr>',
                present_trust.faithfulness_html(report, present_explain.METHOD_TITLES, "data:image/png;base64,"),
            ).group(1)
        )
        assert words in row
    assert "Lower deletion AUC and higher insertion AUC than random" in page


def _check(to_original: list[float], between: list[float]) -> SanityCheck:
    target = Prediction(3, "star", 0.9)
    steps = tuple(
        RandomizationStep((f"layer{i}",), f"step {i}", np.zeros((4, 4), np.float32), rho, target)
        for i, rho in enumerate(to_original)
    )
    ssim = (0.3,) * len(to_original)
    baseline = RandomModelBaseline(tuple(to_original), tuple(between), ssim, ssim[:-1], verdict(to_original, between))
    return SanityCheck("gradcam", 4, target, np.ones((4, 4), np.float32), False, steps, "block", 0, 0.1, baseline)


def test_the_expected_time_counts_the_steps_of_the_analysed_model():
    from poolformer_demo.variants import VARIANTS

    shapes = VARIANTS["shapes"]
    blocks = 1 + sum(shapes.depths) + len(shapes.depths)
    said = present_trust.sanity_expected_text("gradcam", variant=shapes)
    assert f"the trained model, {blocks} steps and 5 more random models" in said and "PoolFormer-SHAPES" in said
    assert "17 steps" in present_trust.sanity_expected_text("gradcam")
    assert "5 steps and 2 more random models" in present_trust.sanity_expected_text("ig", variant=shapes)


def test_sanity_reading_reads_the_trained_map_against_random_models_maps():
    survived = present_trust.sanity_reading(_check([0.95, 0.9, 0.85], [0.9, 0.9, 0.8]))
    assert "trained map's ρ is +0.90 (from +0.85 to +0.95)" in survived
    assert ". Fails: the maps of destroyed models keep the trained map's ranking" in survived
    changed = present_trust.sanity_reading(_check([0.1, -0.05, 0.0], [0.1, -0.2, 0.05]))
    assert "Passes:" in changed and "Grad-CAM depends on what the model learned" in changed
    # As alike to the trained map as to each other, through the image: the star-outline case of IG.
    image_driven = present_trust.sanity_reading(_check([0.33, 0.33, 0.33], [0.36, 0.36, 0.35]))
    assert "Inconclusive: random models' maps already agree with each other" in image_driven
    above_chance = present_trust.sanity_reading(_check([0.45, 0.4, 0.42], [0.1, -0.1, 0.0]))
    assert "Inconclusive: the trained map resembles the random models' maps more" in above_chance


def test_two_pages_asking_the_same_explanation_together_share_one(app_cache, runner, star_session, monkeypatch):
    calls = []

    def recording(*args, **kwargs):
        calls.append(args)
        return explain(*args, **kwargs)

    monkeypatch.setattr(explain_api, "explain", recording)
    # Long enough that the second page arrives while the first one's computation runs.
    slower = {**SMALL, "ig": IntegratedGradientsSettings(n_steps=60, internal_batch_size=1)}
    tab = ExplainTab(app_cache, runner, settings=slower)
    pages = [tab.run_attributions(star_session, ["gradcam", "ig"], 4) for _ in range(2)]
    next(pages[0]), next(pages[0])
    statuses = [status for status, *_ in pages[1]]
    finished = [status for status, *_ in pages[0]]
    assert any(english().text("run.joined") in html.unescape(status) for status in statuses if not skipped(status))
    assert "Done: 2 maps" in statuses[-1] and "Done: 2 maps" in finished[-1]
    assert len(calls) == 1


# ---------------------------------------------------------------------------------------------
# The CAM family
# ---------------------------------------------------------------------------------------------


def test_cam_family_shows_every_method_at_every_stage_from_one_analysis(app_cache, runner, photo_session, monkeypatch):
    made = []

    def recording(*args, **kwargs):
        made.append((kwargs, analyze(*args, **kwargs)))
        return made[-1][1]

    monkeypatch.setattr(explain_module, "analyze", recording)
    tab = ExplainTab(app_cache, runner)
    status, page, shown = tab.show_cams(photo_session, None)
    assert status == "" and shown[0] == photo_session
    ((options, analysis),) = made
    assert analysis.target.index == photo_session.target

    layers = images(page, "pf-camfam")
    assert len(layers) == len(CAM_METHODS) * 4
    for name in CAM_METHODS:
        mine = [src for classes, src in layers if f"pf-m-{name}" in classes.split()]
        assert len(mine) == 4
        for stage, src in zip(analysis.stages, mine):
            np.testing.assert_array_equal(np.asarray(decode(src)), render.heatmap(stage.cams[name]))
    assert "Stage 4 · 512x7x7 · stride 32" in page

    # The same prediction again (the tab reopened): nothing is recomputed.
    assert all(skipped(v) for v in tab.show_cams(photo_session, shown))
    assert len(made) == 1


def test_cam_family_before_an_analysis_and_after_the_image_is_gone(app_cache, runner, star_session, tmp_path):
    tab = ExplainTab(app_cache, runner)
    assert all(skipped(v) for v in tab.show_cams(None, None))
    gone = Session(str(tmp_path / "deleted.png"), "x", "shapes", star_session.labels, 3)
    status, page, shown = tab.show_cams(gone, None)
    assert "no longer on the server" in status and skipped(page) and skipped(shown)


# ---------------------------------------------------------------------------------------------
# Attributions, faithfulness, the sanity check
# ---------------------------------------------------------------------------------------------


def test_attributions_show_progress_then_every_map_on_one_scale(attributed, attributed_explanation):
    statuses = [status for status, *_ in attributed if not skipped(status)]
    assert any('<progress max="1"' in s for s in statuses)
    assert "Done: 4 maps" in statuses[-1]
    assert all(skipped(page) for _, page, _ in attributed[:-1])

    page = attributed[-1][1]
    assert re.findall(r'data-method="(\w+)"', page) == METHODS
    shown = attributed_explanation
    assert shown.analysis.target.index == 3
    assert shown.attributions["ig"].settings["n_steps"] == SMALL["ig"].n_steps
    assert shown.attributions["occlusion"].settings["window"] == SMALL["occlusion"].window
    for name, attribution in shown.attributions.items():
        caption = text_of(re.search(rf'data-method="{name}">(.*?)</figure>', page).group(1))
        limit = render.diverging_limit(attribution.map)
        assert caption.strip().startswith(attribution.title) and f"±{limit:.3g}" in caption
    for _, src in images(page, "pf-heat"):
        assert decode(src).size == (128, 128) and decode(src).mode == "RGBA"
    assert english().text("explain.scale_note") in html.unescape(page)


def test_stopping_the_attributions_ends_their_computation(app_cache, runner, star_session, monkeypatch):
    ended = []

    def recording(*args, **kwargs):
        try:
            return explain(*args, **kwargs)
        except BaseException as exc:
            ended.append(exc)
            raise

    monkeypatch.setattr(explain_api, "explain", recording)
    slow = {**SMALL, "ig": IntegratedGradientsSettings(n_steps=300, internal_batch_size=1)}
    tab = ExplainTab(app_cache, runner, settings=slow)
    run = tab.run_attributions(star_session, ["ig"], 4)
    status, *_ = next(run)
    while skipped(status) or "Integrated Gradients…" not in status:
        status, *_ = next(run)
    run.close()  # what Gradio does when the Stop button cancels the event
    assert wait_for(lambda: ended, 10)
    assert [type(e) for e in ended] == [ComputationCancelled]
    assert len(tab.explanations) == 0  # nothing kept for the faithfulness button to reuse


def test_faithfulness_scores_the_shown_maps_against_random_without_recomputing_them(
    tab, attributed_explanation, star_session, monkeypatch
):
    made = []

    def recording(model, pixel_values, target, maps, settings, **progress):
        made.append((maps, evaluate_faithfulness(model, pixel_values, target, maps, settings, **progress)))
        return made[-1][1]

    monkeypatch.setattr(explanation_module, "evaluate_faithfulness", recording)
    outputs = list(tab.run_faithfulness(star_session, METHODS, 4))
    assert all(skipped(attributions) for _, _, attributions, *_ in outputs)
    status, page, *_ = outputs[-1]
    assert "Done: 4 maps and 2 random orders" in status

    ((maps, report),) = made
    assert all(maps[name] is attributed_explanation.attributions[name].map for name in METHODS)
    assert report.target == 3 and report.settings == FAITH
    for name, curves in report.methods.items():
        row = text_of(re.search(rf'<tr data-method="{name}">(.*?)</tr>', page).group(1))
        assert f"{curves.deletion_auc:.3f}" in row and f"{curves.insertion_auc:.3f}" in row
        assert method_verdict(report, name).text() in row
    random_row = text_of(re.search(r'<tr data-method="random"[^>]*>(.*?)</tr>', page).group(1))
    assert f"{report.random.deletion_auc.mean():.3f} ± {report.random.deletion_auc.std():.3f}" in random_row
    # Drawn twice: for a screen, and with larger type for presenter mode (taller, as wide).
    screen, room = (
        decode(re.search(rf'<img class="pf-for-{look}" alt="deletion and insertion curves" src="([^"]+)"', page)[1])
        for look in ("screen", "room")
    )
    assert screen.size[0] == room.size[0] == 900 and room.size[1] > screen.size[1]


def test_faithfulness_runs_the_attributions_first_when_there_are_none(tab, star_session, monkeypatch):
    outputs = list(tab.run_faithfulness(star_session, ["gradcam", "occlusion"], 3))
    status, page, attributions, *_ = outputs[-1]
    assert "Done: 2 maps" in status and '<tr data-method="occlusion">' in page
    assert re.findall(r'data-method="(\w+)"', attributions) == ["gradcam", "occlusion"]
    assert "stage 3" in text_of(attributions)
    # The maps are kept: asked again, the section scores them without computing or showing them again.
    calls = []
    monkeypatch.setattr(explain_api, "explain", lambda *args, **kwargs: calls.append(args) or explain(*args, **kwargs))
    _, again, attributions, *_ = list(tab.run_faithfulness(star_session, ["gradcam", "occlusion"], 3))[-1]
    assert calls == [] and skipped(attributions) and '<tr data-method="occlusion">' in again


def test_sanity_check_shows_each_step_beside_the_original_and_leaves_the_served_model_alone(
    tab, star_session, app_cache
):
    model = app_cache.get("shapes").model
    before = {name: p.detach().clone() for name, p in model.state_dict().items()}
    outputs = list(tab.run_sanity(star_session, "gradcam", 4))
    status, page, _ = outputs[-1]
    with torch_threads(1):
        check = cascading_randomization(str(STAR), "shapes", method="gradcam", target=3, cache=app_cache)
    assert f"Done: {len(check.steps)} steps" in status
    figures = re.findall(r'<figure class="pf-attr[^"]*"', page)
    assert len(figures) == 1 + len(check.steps)
    shown = text_of(page)
    for step in check.steps:
        assert f"+ {step.label} · ρ = {step.spearman:+.2f}" in shown
    assert present_trust.sanity_reading(check) in shown
    after = model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)


def test_sections_say_what_is_missing_instead_of_running(tab, star_session):
    assert "Explore" in next(tab.run_attributions(None, METHODS, 4))[0]
    assert "Tick at least one method" in next(tab.run_attributions(star_session, [], 4))[0]
    assert "Unknown method" in next(tab.run_sanity(star_session, "saliency", 4))[0]


# ---------------------------------------------------------------------------------------------
# The app and its endpoints
# ---------------------------------------------------------------------------------------------


def test_tabs_order_long_runs_have_a_lane_of_their_own_and_each_has_a_stop(app_cache):
    demo = ui_app.build_demo(cache=app_cache, shapes_available=True)
    tabs = [c["props"]["label"] for c in demo.config["components"] if c["type"] == "tabitem"]
    assert tabs == ["Explore", "Lesson", "Explain", "Compare", "Inside the block", "Learn"]
    fns = {fn.name: (i, fn) for i, fn in demo.fns.items()}
    lanes = {
        "show_cams": "model",
        "run_compare": "model",
        "compare_variants": "model",
        "run_attributions": "long",
        "run_faithfulness": "long",
        "run_sanity": "long",
        "explain_prediction": "long",
        "check_sanity": "long",
        "analyze_image": "explore",
        "show": "explore",
    }
    for name, lane in lanes.items():
        assert fns[name][1].concurrency_id == lane, name
    cancelled = [index for fn in demo.fns.values() if fn.cancels for index in fn.cancels]
    for name in ("run_attributions", "run_faithfulness", "run_sanity", "run_compare"):
        assert fns[name][0] in cancelled, name


@pytest.mark.slow
def test_explain_endpoint_gives_each_map_its_settings_and_faithfulness(client):
    from gradio_client import handle_file

    result = client.predict(
        handle_file(str(STAR)), "shapes", "", ["gradcam", "ig", "occlusion"], 4, True, True, api_name="/explain"
    )
    assert result["target"]["label"] == "star" and result["crop_size"] == [128, 128]
    assert list(result["methods"]) == ["gradcam", "ig", "occlusion"]
    ig = result["methods"]["ig"]
    assert ig["settings"]["n_steps"] == 32 and ig["settings"]["baseline"] == "black" and ig["signed"]
    for entry in result["methods"].values():
        values = present_explain.read_npy_uri(entry["array"])
        assert values.shape == (128, 128) and values.dtype == np.float32
        assert entry["summary"]["max"] == pytest.approx(float(values.max()))
        assert entry["limit"] == pytest.approx(render.diverging_limit(values))
        assert decode(entry["picture"]).size == (128, 128)
    assert [len(stage["cam_pictures"]) for stage in result["stages"]] == [5, 5, 5, 5]
    for stage in result["stages"]:
        assert np.asarray(stage["cams"]["layercam"]).shape == tuple(stage["shape"][1:])
    faithfulness = result["faithfulness"]
    assert set(faithfulness) >= {"gradcam", "ig", "occlusion", "random", "steps", "substrate", "plot"}
    assert faithfulness["random"]["orders"] == 3 and "deletion_auc_std" in faithfulness["random"]
    assert len(faithfulness["ig"]["deletion_curve"]) == faithfulness["steps"] + 1
    random = faithfulness["random"]
    for name in ("gradcam", "ig", "occlusion"):
        entry = faithfulness[name]
        below, above = entry["deletion_auc"] < random["deletion_auc"], entry["insertion_auc"] > random["insertion_auc"]
        assert entry["verdict"] == IMPLIED_VERDICT[below, above]


def test_explain_endpoint_on_s12_sends_arrays_only_when_asked(client):
    from gradio_client import handle_file

    result = client.predict(
        handle_file(str(PHOTO)), "s12", "tabby cat", ["gradcam", "layercam"], 3, False, False, api_name="/explain"
    )
    assert result["target"]["index"] == 281 and "faithfulness" not in result
    assert result["methods"]["layercam"]["settings"]["stage"] == 3
    assert "array" not in result["methods"]["gradcam"] and "cams" not in result["stages"][0]
    assert result["stages"][3]["caption"] == "Stage 4 · 512x7x7 · stride 32"


def test_explain_endpoint_refuses_an_unknown_method_clearly(client):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    # The endpoint's list of methods is checked before the handler runs, and its message names the choices.
    with pytest.raises(AppError, match="'saliency'.*gradcam"):
        client.predict(handle_file(str(STAR)), "shapes", "", ["saliency"], 4, False, False, api_name="/explain")


def test_sanity_endpoint_gives_the_cores_rank_correlations_verdict_and_maps(client, app_cache):
    from gradio_client import handle_file

    result = client.predict(handle_file(str(STAR)), "shapes", "star", "layercam", 4, api_name="/sanity")
    assert result["method"] == "layercam" and result["granularity"] == "block" and result["target"]["index"] == 3
    labels = [step["label"] for step in result["steps"]]
    assert labels[0] == "head" and labels[-1] == "stage 1 embedding" and len(labels) == 10
    with torch_threads(1):
        core = cascading_randomization(str(STAR), "shapes", method="layercam", target=3, cache=app_cache)
    # The server's threads add in another order: equal to rounding.
    assert [step["spearman"] for step in result["steps"]] == pytest.approx(
        [step.spearman for step in core.steps], abs=1e-3
    )
    assert result["baseline"]["between"] == pytest.approx(list(core.baseline.between), abs=1e-3)
    assert result["baseline"]["verdict"] == core.baseline.verdict
    for step in result["steps"]:
        assert step["layers"] and decode(step["picture"]).size == (128, 128)
    assert result["reading"].split(". ")[-2:] == present_trust.sanity_reading(core).split(". ")[-2:]


# ---------------------------------------------------------------------------------------------
# In a browser
# ---------------------------------------------------------------------------------------------


def loaded(selector: str, count: int) -> str:
    found = f"Array.from(document.querySelectorAll('{selector}'))"
    return f"{found}.filter(i => i.complete && i.naturalWidth > 0).length >= {count}"


def visible_src(page, selector: str) -> list[str]:
    return page.evaluate(
        f"Array.from(document.querySelectorAll('{selector}'))"
        ".filter(i => getComputedStyle(i).display !== 'none').map(i => i.className)"
    )


@pytest.mark.browser
def test_explain_tab_in_a_browser_cams_attributions_and_faithfulness_on_the_shapes_model(served, browser):
    page = browser.new_page(viewport=VIEWPORT)
    try:
        page.goto(served[1])
        page.locator("#shapes-examples img[src$='shapes_star.png']").first.click(timeout=TIMEOUT_MS)
        wait_until(page, "document.querySelectorAll('#predictions button.confidence-set').length === 5", "top-5")

        page.get_by_role("tab", name="Explain").click()
        wait_until(page, loaded("#cam-family img.pf-camfam", 20), "the CAM family")
        assert "star" in page.locator("#explain-source").inner_text()
        assert visible_src(page, "#cam-family img.pf-camfam") == ["pf-heat pf-camfam pf-m-gradcam"] * 4
        page.locator("#cam-method").get_by_label("LayerCAM").check()
        wait_until(page, "document.documentElement.dataset.pfCam === 'layercam'", "the method switch")
        assert visible_src(page, "#cam-family img.pf-camfam") == ["pf-heat pf-camfam pf-m-layercam"] * 4

        page.locator("#attributions-button").click()
        wait_until(page, loaded("#attributions img.pf-heat", 4), "the attributions")
        assert page.locator("#attributions figure").count() == 4
        page.locator("#faithfulness-button").click()
        wait_until(
            page,
            f"document.querySelector('#faithfulness table') && {loaded('#faithfulness img', 1)}",
            "the faithfulness table",
        )
        rows = page.locator("#faithfulness tbody tr")
        assert rows.count() == 5 and "random" in rows.nth(4).inner_text()
        broken = page.evaluate(
            "Array.from(document.querySelectorAll('#cam-family img, #attributions img, #faithfulness img'))"
            ".filter(i => !i.complete || i.naturalWidth === 0).length"
        )
        assert broken == 0
        assert_no_error_toast(page, "after the faithfulness table")
    finally:
        page.close()
