"""Every core result says itself as plain JSON data (`to_json()`), and every endpoint, the command
line and the exports give exactly that data, with only pictures (and words read from it) added.

The results come from the bundled shapes and pairs models with every class called "shape", so that
only the display names ("shape (class 3)") tell the classes apart: a JSON that writes a raw label
instead of the display name fails here."""

from __future__ import annotations

import copy
import json
from dataclasses import asdict

import numpy as np
import pytest
from paths import STAR

from poolformer_demo.analysis import analyze
from poolformer_demo.anatomy import block_anatomy
from poolformer_demo.attributions import IntegratedGradientsSettings
from poolformer_demo.cli import main
from poolformer_demo.comparison import compare, compare_knockout
from poolformer_demo.explanation import explain
from poolformer_demo.exports import (
    write_analysis,
    write_anatomy,
    write_comparison,
    write_explanation,
    write_knockout,
    write_receptive_field,
    write_sanity,
)
from poolformer_demo.faithfulness import FaithfulnessSettings, verdict
from poolformer_demo.knockouts import Knockouts
from poolformer_demo.receptive_field import receptive_field
from poolformer_demo.sanity import cascading_randomization
from poolformer_demo.shapes.lab_results import REFERENCE_PATH, load_reference, result_from_json
from poolformer_demo.ui.kit.pictures import feature_pictures, heatmap_pictures
from poolformer_demo.ui.tabs.compare import view as compare_view
from poolformer_demo.ui.tabs.explain import trust
from poolformer_demo.ui.tabs.explain import view as explain_view
from poolformer_demo.ui.tabs.explore import view as explore_view
from poolformer_demo.ui.tabs.inside import field_view, lab_live, lab_view
from poolformer_demo.ui.tabs.inside import view as inside_view
from poolformer_demo.weights import LoadedModel

pytestmark = pytest.mark.usefixtures("one_torch_thread")

PLAIN = (dict, list, str, int, float, bool, type(None))
# The curves' picture is drawn by matplotlib; the JSON beside it does not depend on how it looks.
CURVES = "data:image/png;base64,AAAA"


class RelabelledCache:
    """A model cache whose models call every class "shape", on copies (the cached models stay as they are)."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.models: dict[str, LoadedModel] = {}

    def get(self, name: str) -> LoadedModel:
        if name not in self.models:
            loaded = self.inner.get(name)
            model = copy.deepcopy(loaded.model)
            model.config.id2label = dict.fromkeys(range(model.config.num_labels), "shape")
            self.models[name] = LoadedModel(loaded.variant, model, loaded.processor, loaded.source)
        return self.models[name]


def display(index: int) -> str:
    return f"shape (class {index})"


@pytest.fixture(scope="module")
def results(shapes_model) -> dict:
    cache = RelabelledCache(shapes_model[0])
    fast = FaithfulnessSettings(steps=4, random_orders=2, batch_size=8)
    explanation = explain(
        STAR,
        "shapes",
        methods="gradcam,ig",
        settings={"ig": IntegratedGradientsSettings(n_steps=4)},
        faithfulness=True,
        faithfulness_settings=fast,
        cache=cache,
    )
    lab, summaries = load_reference()
    return {
        "analysis": analyze(STAR, "shapes", cache=cache),
        "explanation": explanation,
        "faithfulness": explanation.faithfulness,
        "attribution": explanation.attributions["ig"],
        "sanity": cascading_randomization(STAR, "shapes", granularity="stage", cache=cache),
        # s24 has no weights here: its failure is part of the comparison.
        "comparison": compare(STAR, ["shapes", "s24", "pairs"], cache=cache),
        "knockout": compare_knockout(STAR, "shapes", Knockouts(mixer=(1, 2)), cache=cache),
        "anatomy": block_anatomy(STAR, "shapes", stage=2, block=1, cache=cache),
        "field": receptive_field(STAR, "shapes", stage=2, y=3, x=4, cache=cache),
        "lab": lab,
        "lab_summaries": summaries,
    }


def assert_plain(value, where: str = "$") -> None:
    """Only dicts with string keys, lists, strings, numbers, booleans and None: no numpy scalar, no tuple."""
    assert type(value) in PLAIN, f"{where} is a {type(value).__name__}"
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str, f"{where} has a {type(key).__name__} key"
            assert_plain(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            assert_plain(item, f"{where}[{index}]")


def roundtrip(data: dict) -> dict:
    return json.loads(json.dumps(data, allow_nan=False))


def without(data: dict, *keys: str) -> dict:
    return {key: value for key, value in data.items() if key not in keys}


@pytest.mark.parametrize(
    "name",
    ["analysis", "explanation", "faithfulness", "attribution", "sanity", "comparison", "knockout", "anatomy", "field"],
)
def test_every_to_json_is_plain_json_data_without_numpy_scalars(results, name):
    data = results[name].to_json()
    assert_plain(data)
    assert roundtrip(data) == data


def test_the_lab_result_to_json_is_plain_json_data_and_what_its_file_holds(results):
    lab = results["lab"]
    data = lab.to_json()
    assert_plain(data)
    on_disk = json.loads(REFERENCE_PATH.read_text())
    assert data == without(on_disk, "command", "environment")
    assert result_from_json(data) == lab


def test_the_explanation_with_arrays_is_plain_json_data_with_every_stages_cams(results):
    explanation = results["explanation"]
    data = explanation.to_json(arrays=True)
    assert_plain(data)
    for stage, entry in zip(explanation.analysis.stages, data["stages"]):
        for method, values in stage.cams.items():
            np.testing.assert_allclose(entry["cams"][method], values, atol=1e-6)


def test_analysis_json_carries_its_predictions_by_display_name_and_each_stages_grad_cam(results):
    analysis = results["analysis"]
    data = analysis.to_json()
    assert data["target"] == {
        "index": analysis.target.index,
        "label": display(analysis.target.index),
        "probability": analysis.target.probability,
    }
    assert [p["label"] for p in data["top_k"]] == [display(p.index) for p in analysis.predictions]
    assert [p["probability"] for p in data["top_k"]] == [p.probability for p in analysis.predictions]
    assert data["crop_size"] == [analysis.input_image.height, analysis.input_image.width]
    assert data["knockouts"] == {"mixer": [], "mlp": [], "description": "nothing knocked out"}
    for stage, entry in zip(analysis.stages, data["stages"]):
        assert (entry["index"], entry["shape"], entry["stride"]) == (stage.index, list(stage.shape), stage.stride)
        np.testing.assert_allclose(entry["gradcam"], stage.cam_raw, atol=1e-6)
    assert "gradcam" not in analysis.to_json(arrays=False)["stages"][0]


def test_explanation_json_carries_each_methods_settings_and_map_summary_and_the_faithfulness(results):
    explanation = results["explanation"]
    data = explanation.to_json()
    assert list(data["methods"]) == ["gradcam", "ig"]
    for name, attribution in explanation.attributions.items():
        entry = data["methods"][name]
        assert entry["settings"] == attribution.settings and entry["signed"] == attribution.signed
        summary = entry["summary"]
        assert summary["max"] == pytest.approx(float(attribution.map.max()))
        assert summary["sum"] == pytest.approx(float(attribution.map.sum()), rel=1e-6)
        row, col = summary["peak"]
        assert attribution.map[row, col] == attribution.map.max()
    assert (
        data["methods"]["ig"]["diagnostics"]["convergence_delta"]
        == explanation.attributions["ig"].diagnostics["convergence_delta"]
    )
    assert data["faithfulness"] == explanation.faithfulness.to_json()
    assert data["target"]["label"] == display(explanation.analysis.target.index)


def test_faithfulness_json_carries_each_methods_aucs_and_curves_and_the_random_spread(results):
    report = results["faithfulness"]
    data = report.to_json()
    for name, curves in report.methods.items():
        assert data[name]["deletion_auc"] == curves.deletion_auc
        assert data[name]["insertion_auc"] == curves.insertion_auc
        np.testing.assert_allclose(data[name]["deletion_curve"], curves.deletion, atol=1e-6)
    assert data["random"]["orders"] == 2 == len(report.random.deletion_auc)
    assert data["random"]["deletion_auc_std"] == pytest.approx(float(report.random.deletion_auc.std()))
    assert data["steps"] == 4 and len(data["fractions"]) == 5


def test_sanity_json_names_every_class_by_its_display_name_and_carries_each_steps_correlation(results):
    check = results["sanity"]
    data = check.to_json()
    assert data["target"]["label"] == display(check.target.index)
    assert [s["top_class"]["label"] for s in data["steps"]] == [display(s.top_class.index) for s in check.steps]
    assert [s["spearman"] for s in data["steps"]] == [s.spearman for s in check.steps]
    assert [s["step"] for s in data["steps"]] == list(range(1, len(check.steps) + 1))
    assert data["baseline"] == roundtrip(asdict(check.baseline))


def test_comparison_json_lists_every_variant_asked_for_in_order_with_its_grad_cam_or_its_error(results):
    comparison = results["comparison"]
    data = comparison.to_json()
    assert [v["variant"] for v in data["variants"]] == ["shapes", "s24", "pairs"]
    assert data["variants"][1] == {"variant": "s24", "error": str(comparison.failures[0].error)}
    for run, entry in zip(comparison.runs, (data["variants"][0], data["variants"][2])):
        assert entry["target"]["label"] == display(run.target.index)
        np.testing.assert_allclose(entry["gradcam"], run.cam_raw, atol=1e-6)


def test_knockout_json_carries_both_sides_for_the_same_class(results):
    comparison = results["knockout"]
    data = comparison.to_json()
    assert data["knockouts"]["mixer"] == [1, 2] and "token mixing off" in data["knockouts"]["description"]
    assert data["target"]["index"] == comparison.before.target.index == comparison.after.target.index
    assert data["before"]["target_probability"] == comparison.before.target.probability
    assert data["after"]["target_probability"] == comparison.after.target.probability
    np.testing.assert_allclose(data["after"]["gradcam"], comparison.after.stages[-1].cam_raw, atol=1e-6)


def test_anatomy_and_field_json_carry_their_measurements(results):
    anatomy, field = results["anatomy"], results["field"]
    data = anatomy.to_json()
    assert (data["stage"], data["block"], data["shape"]) == (2, 1, list(anatomy.input.shape))
    assert [b["mixer_ratio"] for b in data["branches"]] == [b.mixer_ratio for b in anatomy.branches]
    data = field.to_json()
    assert data["position"] == {"y": 3, "x": 4} and data["erf_share_inside_box"] == field.mass_inside
    assert data["erf_peak"] == float(field.erf.max())
    assert data["erf_peak_px"] == {"y": field.peak[0], "x": field.peak[1]}
    assert data["theoretical_size_px_by_stage"] == list(field.stage_sizes)


# ---------------------------------------------------------------------------------------------
# The endpoints: the result's JSON plus pictures
# ---------------------------------------------------------------------------------------------


def test_analyze_endpoint_is_the_analysis_json_plus_pictures(results):
    analysis = results["analysis"]
    data = explore_view.api_result(analysis, feature_pictures(analysis), heatmap_pictures(analysis))
    stages = [without(s, "gradcam_picture", "feature_pictures") for s in data["stages"]]
    assert {**without(data, "crop"), "stages": stages} == analysis.to_json()
    assert all(s["gradcam_picture"].startswith("data:image/") for s in data["stages"])


def test_explain_endpoint_is_the_explanation_json_plus_pictures_and_verdicts(results):
    explanation = results["explanation"]
    report = trust.faithfulness_api(explanation.faithfulness, "data:image/png;base64,AAAA")
    data = explain_view.explain_api(
        explanation,
        explain_view.attribution_pictures(explanation),
        explain_view.cam_family_pictures(explanation.analysis),
        arrays=True,
        faithfulness=report,
    )
    expected = explanation.to_json(arrays=True)
    methods = {name: without(entry, "limit", "picture", "array") for name, entry in data["methods"].items()}
    stages = [without(s, "cam_pictures") for s in data["stages"]]
    faithfulness = without(data["faithfulness"], "plot")
    faithfulness.update({name: without(faithfulness[name], "verdict") for name in explanation.attributions})
    rebuilt = {**without(data, "crop", "colour_scale"), "methods": methods, "stages": stages}
    assert {**rebuilt, "faithfulness": faithfulness} == expected
    for name in explanation.attributions:
        assert data["faithfulness"][name]["verdict"] == verdict(explanation.faithfulness, name)
    np.testing.assert_array_equal(
        explain_view.read_npy_uri(data["methods"]["ig"]["array"]), explanation.attributions["ig"].map
    )


def test_sanity_endpoint_is_the_check_json_plus_pictures_and_its_reading(results):
    check = results["sanity"]
    data = trust.sanity_api(check, trust.sanity_pictures(check))
    steps = [without(s, "picture") for s in data["steps"]]
    assert {**without(data, "original_picture", "reading"), "steps": steps} == check.to_json()
    assert data["reading"] == trust.sanity_reading(check)


def test_compare_endpoint_is_the_comparison_json_plus_pictures_and_the_agreement(results):
    comparison = results["comparison"]
    messages = {"s24": "PoolFormer-S24's weights are not on this server."}
    data = compare_view.compare_api(comparison, messages)
    variants = [without(v, "crop", "gradcam_picture") for v in data["variants"]]
    expected = comparison.to_json()
    expected["variants"][1]["error"] = messages["s24"]
    assert {**without(data, "agreement"), "variants": variants} == expected
    assert data["agreement"] == compare_view.agreement(comparison)


def test_knockout_and_anatomy_and_field_endpoints_are_their_results_json_plus_pictures(results):
    knockout, anatomy, field = results["knockout"], results["anatomy"], results["field"]
    data = inside_view.knockout_api(knockout)
    sides = {side: without(data[side], "gradcam_picture") for side in ("before", "after")}
    assert {**without(data, "crop"), **sides} == knockout.to_json()
    data = inside_view.anatomy_api(anatomy, inside_view.anatomy_pictures(anatomy))
    assert without(data, "channel", "steps", "crop", "branch_plot") == anatomy.to_json()
    data = field_view.field_api(field)
    assert without(data, "picture") == field.to_json()


def lab_parts(data: dict) -> tuple[list, list, dict]:
    """The lab endpoints group the runs under each arm's summary: (arm names, runs, the rest)."""
    runs = sorted((run for arm in data["arms"] for run in arm["runs"]), key=lambda r: (r["seed"], r["arm"]))
    return [arm["arm"] for arm in data["arms"]], runs, without(data, "arms")


def test_lab_endpoints_are_the_lab_json_with_runs_grouped_under_each_arms_summary(results):
    lab, summaries = results["lab"], results["lab_summaries"]
    expected = lab.to_json()
    expected_runs = sorted(expected.pop("runs"), key=lambda r: (r["seed"], r["arm"]))
    arms = expected.pop("arms")
    for data, extras in (
        (lab_view.reference_api(lab, summaries, CURVES, "make it"), ("command", "chance", "reading", "curves_picture")),
        (lab_live.live_api(lab, lab), ("status", "task", "chance", "reference_at_step")),
    ):
        names, runs, rest = lab_parts(data)
        assert names == arms and runs == expected_runs
        assert without(rest, *extras) == expected
        for arm, summary in zip(data["arms"], summaries):
            assert without(arm, "paper_setting", "paper_later", "runs") == asdict(summary)


# ---------------------------------------------------------------------------------------------
# The exports and the command line: the result's JSON, written as it is
# ---------------------------------------------------------------------------------------------


def written(path) -> dict:
    return json.loads(path.read_text())


def test_every_export_writes_the_results_json(results, tmp_path):
    write_analysis(results["analysis"], tmp_path / "analysis")
    assert written(tmp_path / "analysis" / "predictions.json") == roundtrip(results["analysis"].to_json(arrays=False))
    write_explanation(results["explanation"], tmp_path / "explain")
    assert written(tmp_path / "explain" / "explain.json") == roundtrip(results["explanation"].to_json())
    write_sanity(results["sanity"], tmp_path / "sanity")
    assert written(tmp_path / "sanity" / "sanity.json") == roundtrip(results["sanity"].to_json())
    write_comparison(results["comparison"], tmp_path / "compare")
    assert written(tmp_path / "compare" / "compare.json") == roundtrip(results["comparison"].to_json())
    write_knockout(results["knockout"], tmp_path / "knockout")
    assert written(tmp_path / "knockout" / "knockout.json") == roundtrip(results["knockout"].to_json())
    write_anatomy(results["anatomy"], tmp_path / "anatomy")
    anatomy = roundtrip(results["anatomy"].to_json())
    assert written(tmp_path / "anatomy" / "anatomy.json") == anatomy
    assert written(tmp_path / "anatomy" / "branches.json") == anatomy["branches"]
    write_receptive_field(results["field"], tmp_path / "field")
    assert written(tmp_path / "field" / "erf.json") == roundtrip(results["field"].to_json())


def test_the_cli_compare_writes_the_comparisons_json(shapes_model, tmp_path):
    out = tmp_path / "compare"
    assert main(["compare", str(STAR), "--variants", "shapes,pairs", "--out", str(out)]) == 0
    expected = compare(STAR, "shapes,pairs", cache=shapes_model[0]).to_json()
    data = written(out / "compare.json")
    timed = ("seconds", "load_seconds")
    assert [without(v, *timed) for v in data["variants"]] == [without(v, *timed) for v in expected["variants"]]
    assert without(data, "variants") == without(expected, "variants")
