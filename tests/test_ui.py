"""The Explore tab's handlers, called directly, and the served app through gradio_client."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from poolformer_demo import ModelCache
from poolformer_demo.errors import WeightsUnavailableError
from poolformer_demo.ui import app as ui_app
from poolformer_demo.ui import explore, learn, present
from poolformer_demo.ui.errors import GENERIC_ERROR
from poolformer_demo.ui.explore import ExploreTab
from poolformer_demo.ui.present import DEFAULT_VIEW, ExploreView, Session

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "assets" / "examples" / "chelsea.jpg"
CROP = (224, 224)  # the s12 processor's crop (height, width)
OUTPUTS = ExploreView.names()


def view(values: tuple) -> ExploreView:
    """A handler's or the endpoint's outputs, by name."""
    return ExploreView(**dict(zip(OUTPUTS, values)))


class CountingCache(ModelCache):
    """A model cache that counts lookups: each analysis looks its model up exactly once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lookups = 0

    def get(self, variant):
        self.lookups += 1
        return super().get(variant)


@pytest.fixture(scope="module")
def tab(app_cache):
    return ExploreTab(CountingCache(capacity=2), shapes_available=True)


@pytest.fixture(scope="module")
def first(tab):
    """The results of analysing the cat photo with s12."""
    return view(tab.analyze_image(str(PHOTO), "s12"))


@pytest.fixture
def count_analyses(tab):
    """How many analyses the tab runs during a test."""
    start = tab.cache.lookups
    return lambda: tab.cache.lookups - start


def select(index: int, value) -> gr.SelectData:
    return gr.SelectData(None, {"index": index, "value": value})


def test_analysis_is_formatted_for_every_component(first):
    label = first.predictions
    assert len(label) == 5
    assert all(0.0 <= p <= 1.0 for p in label.values())
    assert list(label.values()) == sorted(label.values(), reverse=True)

    features = first.feature_maps
    assert [caption for _, caption in features] == [s.caption for s in first.session.analysis.stages]
    assert features[2][1] == "Stage 3 · 320x14x14 · stride 16"
    assert all(image.ndim == 3 and image.dtype == np.uint8 for image, _ in features)

    overlays = first.cam_gallery
    assert len(overlays) == 4
    assert all(image.shape == (*CROP, 3) for image, _ in overlays)
    assert first.cam_large.shape == (*CROP, 3)
    assert np.array_equal(first.cam_large, overlays[3][0])

    top = next(iter(label))
    assert first.target == top
    assert first.target_info.startswith(f"Grad-CAM for **{top}** · class ")
    assert first.target_info.split("  \n")[0].endswith(" · top prediction")
    assert "Enlarged: Stage 4 · 512x7x7 · stride 32" in first.target_info
    menu = ExploreTab.target_menu(first.session)
    assert len(menu["choices"]) == 1000 and menu["value"] == top
    facts = ("| 2 · 2 · 6 · 2 |", "| 64 · 128 · 320 · 512 |", "| 12 M · 1.8 G at 224 px |", "| 77.2 % |")
    for fact in (*facts, r"| Weights | local folder $POOLFORMER\_WEIGHTS\_DIR/poolformer\_s12/ |"):
        assert fact in first.facts
    assert f"| Analysis took | {first.session.analysis.seconds:.2f} s |" in first.facts
    assert first.notes == "\n".join(f"ℹ️ {note}" for note in first.session.analysis.notes)
    assert "| stage 4 | 512×7×7 | 32 | 49 | 2 |" in first.journey
    assert "224×224" in first.journey


def test_clicking_the_second_prediction_retargets_grad_cam(tab, first, count_analyses):
    session = first.session
    second_name = list(first.predictions)[1]
    second = session.analysis.predictions[1]

    out = view(tab.retarget_from_label(session, DEFAULT_VIEW, 0.5, select(1, second_name)))

    assert out.session.analysis.target.index == second.index
    assert out.target == second_name
    assert "top prediction" not in out.target_info
    assert out.predictions == first.predictions
    assert not np.array_equal(out.cam_large, first.cam_large)
    # The stored image was analysed again, for the chosen class; nothing was uploaded.
    assert count_analyses() == 1


def test_typing_a_class_name_or_synonym_retargets(tab, first):
    out = view(tab.retarget(first.session, "tabby cat", DEFAULT_VIEW, 0.5))
    assert out.session.analysis.target.index == 281
    assert out.target == "tabby, tabby cat"

    out = view(tab.retarget(first.session, "282", DEFAULT_VIEW, 0.5))
    assert out.session.analysis.target.label == "tiger cat"


def test_an_empty_or_unchanged_target_keeps_the_analysis(tab, first, count_analyses):
    for target in ("", None, first.target):
        out = view(tab.retarget(first.session, target, DEFAULT_VIEW, 0.5))
        assert out.session is first.session
    assert count_analyses() == 0


def test_view_opacity_and_stage_changes_do_not_run_the_model(tab, first, count_analyses):
    loads = dict(tab.cache.load_counts)
    session = first.session

    views = [tab.show_view(session, name) for name in present.VIEWS]
    assert all(len(gallery) == 4 for gallery in views)
    assert not np.array_equal(views[0][0][0], views[1][0][0])
    assert views[2][3][0].shape != views[1][3][0].shape  # the channel grid has its own layout

    faint_gallery, faint_large = tab.blend(session, 0.1)
    strong_gallery, strong_large = tab.blend(session, 0.9)
    assert faint_gallery[3][0].shape == (*CROP, 3)
    assert not np.array_equal(faint_gallery[3][0], strong_gallery[3][0])
    assert not np.array_equal(faint_large, strong_large)

    large, info, picked = tab.pick_stage(session, 0.5, select(1, None))
    assert picked.stage == 2 and "Enlarged: Stage 2" in info
    assert np.array_equal(large, first.cam_gallery[1][0])
    # Re-blending and retargeting keep the stage the user picked.
    assert np.array_equal(tab.blend(picked, 0.5)[1], first.cam_gallery[1][0])
    assert present.explore_view(picked).target_info == info

    assert count_analyses() == 0
    assert tab.cache.load_counts == loads


def test_format_events_before_any_analysis_skip_their_outputs(tab):
    assert tab.show_view(None, present.VIEW_MEAN) == gr.skip()
    assert tab.blend(None, 0.3) == (gr.skip(), gr.skip())
    assert tab.pick_stage(None, 0.5, select(1, None)) == (gr.skip(), gr.skip(), gr.skip())
    assert tab.target_menu(None) == gr.skip()
    with pytest.raises(gr.Error, match="Analyse an image first"):
        tab.retarget(None, "tiger cat", DEFAULT_VIEW, 0.5)


@pytest.mark.parametrize(
    ("image", "variant", "target", "message"),
    [
        (str(PHOTO), "s99", None, "Unknown variant 's99'. Choose one of: s12, s24, s36, m36, m48, shapes."),
        (None, "s12", None, "No image given"),
        (str(PHOTO), "s12", "zebra crossing", "no class called"),
        (str(PHOTO), "s12", "<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;"),
    ],
)
def test_user_errors_become_short_messages(tab, image, variant, target, message):
    with pytest.raises(gr.Error) as raised:
        tab.analyze_image(image, variant, target)
    assert message in raised.value.message
    assert "Traceback" not in raised.value.message


def _failing_tab(error: Exception) -> ExploreTab:
    def loader(variant):
        raise error

    return ExploreTab(ModelCache(loader=loader), shapes_available=True)


def test_missing_weights_are_explained_without_server_paths():
    tab = _failing_tab(
        WeightsUnavailableError(
            "No weights for PoolFormer-S24. Tried: the folder /srv/secret/weights/poolformer_s24 (it does not exist)."
        )
    )
    with pytest.raises(gr.Error) as raised:
        tab.analyze_image(str(PHOTO), "s24")
    assert "No weights for PoolFormer-S24" in raised.value.message
    assert "poolformer_s24" in raised.value.message
    assert "/srv" not in raised.value.message


def test_unexpected_failures_give_a_generic_message(caplog):
    tab = _failing_tab(RuntimeError("CUDA exploded in /opt/app/secret.py"))
    with pytest.raises(gr.Error) as raised:
        tab.analyze_image(str(PHOTO), "s12")
    assert raised.value.message == GENERIC_ERROR
    assert "CUDA exploded" in caplog.text  # logged on the server, not shown


def test_an_expired_upload_asks_for_the_image_again(tab, first, tmp_path):
    gone = Session(image=str(tmp_path / "deleted.jpg"), variant="s12", analysis=first.session.analysis)
    with pytest.raises(gr.Error, match="Upload it again"):
        tab.retarget(gone, "tiger cat", DEFAULT_VIEW, 0.5)


def test_duplicate_class_names_stay_distinct():
    names = present.display_names(("crane", "goldfish", "crane"))
    assert names == ("crane (class 0)", "goldfish", "crane (class 2)")


def test_default_variant_is_s12_when_its_weights_can_be_had_else_shapes(monkeypatch, weights_dir, tmp_path):
    import huggingface_hub

    cached = {}
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda repo_id, filename: cached.get(repo_id))
    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(tmp_path))  # an empty folder; HF_HUB_OFFLINE=1
    assert explore.default_variant(ModelCache(), shapes_available=True) == "shapes"

    cached["sail/poolformer_s12"] = str(tmp_path / "config.json")
    assert explore.default_variant(ModelCache(), shapes_available=True) == "s12"
    cached.clear()

    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(weights_dir))
    assert explore.default_variant(ModelCache(), shapes_available=True) == "s12"

    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(tmp_path))
    # nothing works offline: say so when s12 is tried
    assert explore.default_variant(ModelCache(), shapes_available=False) == "s12"


def test_variant_menu_and_learn_tab():
    choices = {value: title for title, value in explore.variant_choices()}
    assert list(choices) == ["s12", "s24", "s36", "m36", "m48", "shapes"]
    assert choices["m48"] == "m48 · 73M params · 82.5% ImageNet top-1"
    table = present.variants_table()
    assert "| S12 | 2 · 2 · 6 · 2 | 64 · 128 · 320 · 512 | 12 M | 1.8 G | 77.2 % |" in table
    assert "| M48 | 8 · 8 · 24 · 8 | 96 · 192 · 384 · 768 | 73 M | 11.6 G | 82.5 % |" in table
    text = learn.learn_markdown()
    assert "AvgPool(x) − x" in text
    assert "count_include_pad=False" in text
    assert table in text and "{variants_table}" not in text


def test_launch_settings(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    kwargs = ui_app.launch_kwargs()
    assert kwargs["server_name"] == "127.0.0.1"
    assert kwargs["max_file_size"] == "20mb"
    assert kwargs["allowed_paths"] == []
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    assert ui_app.launch_kwargs()["server_name"] == "0.0.0.0"
    assert ui_app.launch_kwargs(server_port=1234)["server_port"] == 1234


def test_settings_are_read_when_the_app_is_built(monkeypatch):
    monkeypatch.setenv("POOLFORMER_CACHE_SIZE", "3")
    monkeypatch.setenv("POOLFORMER_CONCURRENCY", "5")
    demo = ui_app.build_demo(shapes_available=True)
    analyze_fn = next(fn for fn in demo.fns.values() if fn.api_name == "analyze")
    assert analyze_fn.concurrency_limit == 5
    assert ui_app.concurrency_from_environment() == 5
    from poolformer_demo.weights import cache_from_environment

    assert cache_from_environment().capacity == 3


# ---------------------------------------------------------------------------------------------
# The served app
# ---------------------------------------------------------------------------------------------


def api_outputs(values: tuple) -> SimpleNamespace:
    """The endpoint's outputs by name (a client receives every output but the session state)."""
    return SimpleNamespace(**dict(zip([name for name in OUTPUTS if name != "session"], values)))


def test_api_lists_only_analyze(served):
    info = served[0].get_api_info()
    assert list(info["named_endpoints"]) == ["/analyze"]
    assert info["unnamed_endpoints"] == {}
    parameters = [p["parameter_name"] for p in info["named_endpoints"]["/analyze"]["parameters"]]
    assert parameters[:3] == ["image", "variant", "target"]


def test_analyze_endpoint(client):
    from gradio_client import handle_file

    result = api_outputs(client.predict(handle_file(str(PHOTO)), "s12", api_name="/analyze"))

    label, features, overlays, large = result.predictions, result.feature_maps, result.cam_gallery, result.cam_large
    assert len(label["confidences"]) == 5
    assert label["label"] == label["confidences"][0]["label"]
    assert [item["caption"] for item in features] == [
        "Stage 1 · 64x56x56 · stride 4",
        "Stage 2 · 128x28x28 · stride 8",
        "Stage 3 · 320x14x14 · stride 16",
        "Stage 4 · 512x7x7 · stride 32",
    ]
    assert [item["caption"] for item in overlays] == [item["caption"] for item in features]
    for item in overlays:
        assert Image.open(item["image"]).size == CROP
    for item in features:
        assert min(Image.open(item["image"]).size) >= 224
    assert Image.open(large).size == CROP
    assert isinstance(result.target, str)
    assert result.target == label["label"]
    assert "Analysis took" in result.facts


def test_analyze_endpoint_with_a_target(client):
    from gradio_client import handle_file

    result = api_outputs(client.predict(handle_file(str(PHOTO)), "s12", "tiger cat", api_name="/analyze"))
    assert result.target == "tiger cat"
    assert result.target_info.startswith("Grad-CAM for **tiger cat** · class 282 · p = ")


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

    result = api_outputs(client.predict(handle_file(str(PHOTO)), "s12", api_name="/analyze"))
    assert len(result.predictions["confidences"]) == 5


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
    assert example_labels(with_shapes) == ["Photos (ImageNet models)", "Shapes (shapes model)"]
