"""The Explore tab's handlers, called directly, and the served `/analyze` endpoint through gradio_client."""

from __future__ import annotations

import logging
import re

import gradio as gr
import numpy as np
import pytest
from paths import PAGE_JS, PHOTO, STAR
from PIL import Image

from poolformer_demo import ModelCache, analyze, get_variant, render
from poolformer_demo.errors import WeightsUnavailableError
from poolformer_demo.i18n import english
from poolformer_demo.testing import decode_data_uri as decode
from poolformer_demo.ui import app as ui_app
from poolformer_demo.ui.kit import view as present
from poolformer_demo.ui.kit.runs import app_runner
from poolformer_demo.ui.tabs.explore import view as explore_view
from poolformer_demo.ui.tabs.explore.page import ExploreTab
from poolformer_demo.ui.tabs.explore.view import ExploreView, Session

CROP = (224, 224)  # the s12 processor's crop (height, width)
OUTPUTS = ExploreView.names()
# A failure is kept with the result it leaves in place (`shown`), so a new language says it again.
LEFT = [name for name in OUTPUTS if name != "shown"]
S12_CAPTIONS = [
    "Stage 1 · 64x56x56 · stride 4",
    "Stage 2 · 128x28x28 · stride 8",
    "Stage 3 · 320x14x14 · stride 16",
    "Stage 4 · 512x7x7 · stride 32",
]


def view(values: tuple) -> ExploreView:
    """A page handler's outputs, by name."""
    return ExploreView(**dict(zip(OUTPUTS, values)))


def skipped(values: tuple) -> list[str]:
    """The names of the outputs a handler left as they were."""
    return [name for name, value in zip(OUTPUTS, values) if value == gr.skip()]


def html_images(html: str, css_class: str) -> list[str]:
    return re.findall(rf'<img class="{css_class}"[^>]* src="([^"]+)"', html)


class RecordingAnalyze:
    """The analysis entry point, recording how the tab calls it."""

    def __init__(self):
        self.calls: list[dict] = []

    def __call__(self, image, variant, **kwargs):
        self.calls.append({"variant": variant, **kwargs})
        return analyze(image, variant, **kwargs)


@pytest.fixture(scope="module")
def tab(app_cache, runner):
    return ExploreTab(ModelCache(capacity=2), runner, shapes_available=True, analyze=RecordingAnalyze())


@pytest.fixture(scope="module")
def first(tab):
    """The page's results for the cat photo on s12."""
    return view(tab.show(str(PHOTO), "s12", None, None))


@pytest.fixture
def calls(tab):
    """The analyses the tab runs during one test."""
    tab.analyze.calls.clear()
    return tab.analyze.calls


def select(index: int, value) -> gr.SelectData:
    return gr.SelectData(None, {"index": index, "value": value})


def test_analysis_is_formatted_for_every_component(first):
    label = first.predictions
    assert len(label) == 5
    assert all(0.0 <= p <= 1.0 for p in label.values())
    assert list(label.values()) == sorted(label.values(), reverse=True)

    top = next(iter(label))
    assert first.target == top
    assert first.variant == "s12"
    assert first.target_info.startswith(f"Grad-CAM for **{top}** · class ")
    assert first.target_info.endswith(" · top prediction")
    menu = ExploreTab.target_menu(first.session)
    assert len(menu["choices"]) == 1000 and menu["value"] == top
    facts = ("| 2 · 2 · 6 · 2 |", "| 64 · 128 · 320 · 512 |", "| 12 M · 1.8 G at 224 px |", "| 77.2 % |")
    for fact in (*facts, r"| Weights | local folder $POOLFORMER\_WEIGHTS\_DIR/poolformer\_s12/ |"):
        assert fact in first.facts
    assert re.search(r"\| Analysis took \| \d+\.\d\d s \|", first.facts)
    assert first.status == ""  # a plain JPEG on an ImageNet model: nothing to warn about
    assert "| stage 4 | 512×7×7 | 32 | 49 | 2 |" in first.journey
    assert "224×224" in first.journey


def test_results_html_inlines_every_picture_at_the_size_it_has(first):
    html = first.results
    assert "http" not in html.replace("data:image", "")  # no picture is fetched from anywhere
    assert re.findall(r'data-caption="([^"]+)"', html) == S12_CAPTIONS
    # The enlarged deepest stage, then the strip of four, each at its stage's resolution.
    heatmaps = [decode(uri) for uri in html_images(html, "pf-heat")]
    assert [h.size for h in heatmaps] == [(7, 7), (56, 56), (28, 28), (14, 14), (7, 7)]
    assert html_images(html, "pf-heat")[0] == html_images(html, "pf-heat")[4]
    for view_name, grid in (("pf-pca", False), ("pf-mean", False), ("pf-channels", True)):
        sizes = [decode(uri).size for uri in html_images(html, f"pf-view {view_name}")]
        assert len(sizes) == 4
        if not grid:
            assert sizes == [(56, 56), (28, 28), (14, 14), (7, 7)]
    crop = re.search(r"--pf-crop: url\(([^)]+)\)", html).group(1)
    assert decode(crop).size == CROP and decode(crop).format == "JPEG"


def test_clicking_the_second_prediction_retargets_and_reuses_the_feature_maps(tab, first, calls, monkeypatch):
    drawn = []
    monkeypatch.setattr(render, "feature_views", lambda activation: drawn.append(activation))
    second_name = list(first.predictions)[1]
    out = view(tab.retarget_from_label(first.session, first.shown, "en", select(1, second_name)))

    assert out.target == second_name
    assert "top prediction" not in out.target_info
    assert out.predictions == first.predictions
    assert html_images(out.results, "pf-heat") != html_images(first.results, "pf-heat")
    assert html_images(out.results, "pf-view pf-pca") == html_images(first.results, "pf-view pf-pca")
    # The stored image was analysed again for the chosen class; its feature maps were not redrawn.
    assert len(calls) == 1 and drawn == []
    assert calls[0]["target"] == out.session.target == present.display_names(first.session.labels).index(second_name)


def test_the_same_question_twice_is_computed_once(tab, calls):
    label, result = tab.analyze_image(str(PHOTO), "s12", "goldfish")
    again = tab.analyze_image(str(PHOTO), "s12", "goldfish")
    assert again == (label, result)
    assert len(calls) == 1
    other = tab.analyze_image(str(PHOTO), "s12", "tench")
    assert other[1]["target"]["label"] != result["target"]["label"] and len(calls) == 2


def test_typing_a_class_name_or_synonym_retargets(tab, first):
    out = view(tab.retarget(first.session, "tabby cat"))
    assert out.session.target == 281
    assert out.target == "tabby, tabby cat"

    out = view(tab.retarget(first.session, "282"))
    assert out.target == "tiger cat"


def test_an_empty_or_unchanged_target_changes_nothing(tab, first, calls):
    for target in ("", None, first.target):
        assert skipped(tab.retarget(first.session, target)) == OUTPUTS
    assert calls == []


def test_opacity_view_and_stage_are_changed_in_the_browser():
    demo = ui_app.build_demo(cache=ModelCache(), shapes_available=True)
    config = demo.config
    by_id = {c["id"]: c.get("props", {}).get("elem_id") for c in config["components"]}
    browser_only = {}
    for dependency in config["dependencies"]:
        for target_id, event in dependency["targets"]:
            if by_id.get(target_id) in ("opacity", "view"):
                browser_only[(by_id[target_id], event)] = (dependency["backend_fn"], bool(dependency["js"]))
    assert browser_only == {("opacity", "input"): (False, True), ("view", "change"): (False, True)}
    # Enlarging a stage is the results panel's own script (static/page.js), with no server event at all.
    assert explore_view.RESULTS_JS == "PoolFormer.results(element, watch)"
    script = PAGE_JS.read_text()
    assert "const results = (element, watch)" in script and "element.dataset.stage" in script


def test_a_failed_request_says_why_and_keeps_the_last_result(tab, first, calls):
    out = tab.show(str(PHOTO), "s99", None, first.session)
    assert skipped(out) == LEFT[1:]
    assert out[0] == (
        "⚠️ Unknown variant 's99'. Choose one of: s12, s24, s36, m36, m48, shapes, pairs. "
        "The result below is still the previous one."
    )
    before_any = tab.show(None, "s12", None, None)
    assert before_any[0] == "⚠️ No image given. Upload, paste or take a picture first."
    assert skipped(before_any) == LEFT[1:]


def test_a_mistyped_class_lists_what_the_shapes_model_knows_and_keeps_the_result(tab):
    shapes = view(tab.show_shapes_example(str(STAR), None))
    assert shapes.variant == "shapes" and shapes.target == "star"
    out = tab.retarget(shapes.session, "tabby cat")
    assert "no class called 'tabby cat'. It knows: circle, square, triangle, star, cross, ring." in out[0]
    # The class box shows the class of the result still on the page, not the name that failed.
    assert view(out).target == "star"
    assert skipped(out) == [name for name in LEFT if name not in ("status", "target")]


def test_the_shapes_model_says_it_only_knows_six_shapes(tab):
    status = view(tab.show(str(PHOTO), "shapes", None, None)).status
    assert "The shapes model only knows 6 classes (circle, square, triangle, star, cross, ring)" in status
    assert "For photos, pick an ImageNet model" in status


def test_programs_get_the_notes_the_page_shows(tab):
    status = view(tab.show(str(PHOTO), "shapes", None, None)).status
    _, result = tab.analyze_image(str(PHOTO), "shapes")
    known, training = result["notes"]
    assert known.startswith("The shapes model only knows 6 classes")
    assert "auxiliary loss" in training and "88.7 %" in training
    assert status == "\n\n".join(f"ℹ️ {present.md(note)}" for note in (known, training))
    assert tab.analyze_image(str(PHOTO), "s12")[1]["notes"] == []


def test_a_photo_example_runs_on_an_imagenet_model(tab):
    out = view(tab.show_photo_example(str(PHOTO), "shapes", None))
    assert out.variant == "s12"
    assert "only knows" not in out.status


def test_a_photo_example_says_so_when_no_imagenet_model_can_run(monkeypatch, tmp_path, runner):
    import huggingface_hub

    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(tmp_path))  # empty; the hub is offline in tests
    # Nothing in the Hugging Face cache either, whatever other tests have put there.
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda repo_id, filename: None)
    lonely = ExploreTab(ModelCache(), runner, shapes_available=True)
    out = lonely.show_photo_example(str(PHOTO), "shapes", None)
    said = english().text("explore.no_imagenet_model", help=english().text("weights.help"))
    assert out[0] == f"⚠️ {said}"
    assert skipped(out) == LEFT[1:]


def test_a_photo_no_model_here_can_classify_leaves_the_image_box_to_the_result_shown(
    monkeypatch, tmp_path, runner, tab, first
):
    import huggingface_hub

    # With an ImageNet model here the photo stays in the box, where it was put to be analysed.
    assert tab.image_after_photo("shapes", first.session) == gr.skip()
    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(tmp_path))  # empty; the hub is offline in tests
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda repo_id, filename: None)
    lonely = ExploreTab(ModelCache(), runner, shapes_available=True)
    # Without one, the box shows the image of the result still shown (none before any analysis), so
    # Analyse never runs the shapes model on the photo.
    assert lonely.image_after_photo("shapes", first.session) == first.session.image
    assert lonely.image_after_photo("shapes", None) is None


def test_user_errors_through_the_api_are_short_messages(tab):
    cases = [
        ((str(PHOTO), "s99", None), "Unknown variant 's99'. Choose one of: s12, s24, s36, m36, m48, shapes, pairs."),
        ((None, "s12", None), "No image given"),
        ((str(PHOTO), "s12", "zebra crossing"), "no class called"),
        ((str(PHOTO), "s12", "<b>bold</b>"), "&lt;b&gt;bold&lt;/b&gt;"),
    ]
    for arguments, message in cases:
        with pytest.raises(gr.Error) as raised:
            tab.analyze_image(*arguments)
        assert message in raised.value.message
        assert "Traceback" not in raised.value.message


def _failing_tab(error: Exception) -> ExploreTab:
    def loader(variant):
        raise error

    return ExploreTab(ModelCache(loader=loader), app_runner(1), shapes_available=True)


def test_missing_weights_are_one_sentence_on_the_page_and_details_in_the_log(caplog):
    tab = _failing_tab(
        WeightsUnavailableError(
            "The weights of PoolFormer-S24 are not available on this server right now.",
            "No weights for PoolFormer-S24. Tried: the folder /srv/secret/weights/poolformer_s24 (it does not exist).",
        )
    )
    with caplog.at_level(logging.WARNING):
        status = tab.show(str(PHOTO), "s24", None, None)[0]
    assert status == "⚠️ The weights of PoolFormer-S24 are not available on this server right now."
    assert "/srv/secret/weights/poolformer_s24 (it does not exist)" in caplog.text
    with pytest.raises(gr.Error) as raised:
        tab.analyze_image(str(PHOTO), "s24")
    assert "/srv" not in raised.value.message and "PoolFormer-S24" in raised.value.message


def test_unexpected_failures_give_a_generic_message(caplog):
    tab = _failing_tab(RuntimeError("CUDA exploded in /opt/app/secret.py"))
    assert tab.show(str(PHOTO), "s12", None, None)[0] == f"⚠️ {english().text('error.generic')}"
    with pytest.raises(gr.Error) as raised:
        tab.analyze_image(str(PHOTO), "s12")
    assert raised.value.message == english().text("error.generic")
    assert "CUDA exploded" in caplog.text  # logged on the server, not shown


def test_an_expired_upload_asks_for_the_image_again(tab, first, tmp_path):
    gone = Session(
        image=str(tmp_path / "deleted.jpg"), image_key="", variant="s12", labels=first.session.labels, target=0
    )
    assert "Upload it again" in tab.retarget(gone, "tiger cat")[0]
    assert "Analyse an image first" in tab.retarget(None, "tiger cat")[0]


def test_the_facts_table_follows_the_model_menu_and_says_whose_result_is_shown(first):
    assert "| 8 · 8 · 24 · 8 |" in ExploreTab.facts_for("m48")
    assert "result shown" not in ExploreTab.facts_for("m48")
    other = ExploreTab.facts_for("m48", first.session)
    assert "| 8 · 8 · 24 · 8 |" in other and "the result shown is PoolFormer-S12's" in other
    assert "result shown" not in ExploreTab.facts_for("s12", first.session)
    assert ExploreTab.facts_for("s99") == gr.skip()


def test_a_bundled_models_facts_say_how_it_was_trained_and_measured():
    for name in ("shapes", "pairs"):
        facts = get_variant(name).bundled
        table = ExploreTab.facts_for(name)
        assert f"{facts.macs / 1e6:.1f} M at 128 px" in table
        assert f"the {name} task: {facts.train_images:,} generated images, {facts.steps:,} steps" in table
        assert f"| Held-out accuracy | {100 * facts.accuracy:.1f} % of {facts.held_out_images} test images |" in table
        assert f"| Pointing game (stage-4 Grad-CAM) | {100 * facts.pointing_game:.1f} %" in table
    assert "class labels only" in ExploreTab.facts_for("pairs")
    assert "auxiliary loss on where the object is (weight 0.5)" in ExploreTab.facts_for("shapes")
    assert "Trained on" not in ExploreTab.facts_for("s12") and "1.8 G at 224 px" in ExploreTab.facts_for("s12")


def test_duplicate_class_names_stay_distinct():
    names = present.display_names(("crane", "goldfish", "crane"))
    assert names == ("crane (class 0)", "goldfish", "crane (class 2)")


# ---------------------------------------------------------------------------------------------
# The served app
# ---------------------------------------------------------------------------------------------


def test_api_lists_the_named_endpoints_only(served):
    info = served[0].get_api_info()
    assert list(info["named_endpoints"]) == [
        "/analyze",
        "/explain",
        "/sanity",
        "/compare",
        "/lab_reference",
        "/lab_run",
        "/anatomy",
        "/knockout",
        "/receptive_field",
    ]
    assert info["unnamed_endpoints"] == {}
    parameters = [p["parameter_name"] for p in info["named_endpoints"]["/analyze"]["parameters"]]
    assert parameters == ["image", "variant", "target"]


def test_analyze_endpoint_gives_programs_the_top5_arrays_and_pictures(client):
    from gradio_client import handle_file

    label, result = client.predict(handle_file(str(PHOTO)), "s12", api_name="/analyze")

    assert len(label["confidences"]) == 5
    assert label["label"] == label["confidences"][0]["label"] == result["target"]["label"]
    assert [p["label"] for p in result["top_k"]] == [c["label"] for c in label["confidences"]]
    assert [stage["caption"] for stage in result["stages"]] == S12_CAPTIONS
    for stage in result["stages"]:
        cam = np.asarray(stage["gradcam"])
        assert cam.shape == tuple(stage["shape"][1:]) and cam.min() >= 0
        assert decode(stage["gradcam_picture"]).size == cam.shape[::-1]
        assert decode(stage["feature_pictures"]["pca"]).size == cam.shape[::-1]
    assert decode(result["crop"]).size == CROP
    assert result["seconds"] > 0


def test_analyze_endpoint_with_a_target(client):
    from gradio_client import handle_file

    label, result = client.predict(handle_file(str(PHOTO)), "s12", "tiger cat", api_name="/analyze")
    assert result["target"]["label"] == "tiger cat" and result["target"]["index"] == 282


def test_endpoint_errors_are_clear_and_the_server_carries_on(client, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="Unknown variant 's99'"):
        client.predict(handle_file(str(PHOTO)), "s99", api_name="/analyze")
    with pytest.raises(AppError, match="no class called 'zebra crossing'"):
        client.predict(handle_file(str(PHOTO)), "s12", "zebra crossing", api_name="/analyze")

    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("this is not a picture")
    with pytest.raises(AppError):
        client.predict(handle_file(str(not_an_image)), "s12", api_name="/analyze")

    label, _ = client.predict(handle_file(str(PHOTO)), "s12", api_name="/analyze")
    assert len(label["confidences"]) == 5


def test_uploads_over_the_size_limit_are_refused(served):
    import httpx

    big = b"\0" * (20 * 1024 * 1024 + 1)
    response = httpx.post(served[1] + "gradio_api/upload", files={"files": ("big.png", big, "image/png")}, timeout=60)
    assert response.status_code == 413


def test_shapes_examples_come_with_the_shapes_model(tmp_path):
    (tmp_path / "cat.jpg").write_bytes(PHOTO.read_bytes())
    for name, colour in (("shapes_circle.png", (200, 40, 40)), ("shapes_star.png", (40, 40, 200))):
        Image.new("RGB", (128, 128), colour).save(tmp_path / name)

    def example_labels(demo) -> list[str]:
        return [c["props"].get("label") for c in demo.config["components"] if c["type"] == "dataset"]

    without = ui_app.build_demo(cache=ModelCache(), examples_dir=tmp_path, shapes_available=False)
    assert example_labels(without) == ["Photos (ImageNet models)"]
    with_shapes = ui_app.build_demo(cache=ModelCache(), examples_dir=tmp_path, shapes_available=True)
    assert example_labels(with_shapes) == ["Photos (ImageNet models)", "Shapes (the offline shapes model)"]
