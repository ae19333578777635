"""The app's handlers, called directly, and the served app through gradio_client."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from PIL import Image

from poolformer_demo import ModelCache, ui
from poolformer_demo.errors import WeightsUnavailableError
from serving import app_weights, serving

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "assets" / "examples" / "chelsea.jpg"
CROP = (224, 224)  # the s12 processor's crop (height, width)

# The order of the results returned by analyze_image and the /analyze endpoint.
LABEL, FEATURES, OVERLAYS, LARGE, TARGET, TARGET_INFO, FACTS, NOTES, JOURNEY, SESSION = range(10)


@pytest.fixture(scope="module")
def ui_cache(weights_dir):
    """One model cache for the module, reading the session's random-weight checkpoints."""
    with app_weights(weights_dir) as (_, cache):
        yield cache


@pytest.fixture(scope="module")
def first(ui_cache):
    """The results of analysing the cat photo with s12."""
    return ui.analyze_image(str(PHOTO), "s12")


@pytest.fixture
def count_analyses(monkeypatch):
    calls = []
    real = ui.analyze

    def counting(*args, **kwargs):
        calls.append(kwargs.get("target"))
        return real(*args, **kwargs)

    monkeypatch.setattr(ui, "analyze", counting)
    return calls


def select(index: int, value) -> gr.SelectData:
    return gr.SelectData(None, {"index": index, "value": value})


def test_analysis_is_formatted_for_every_component(first):
    label = first[LABEL]
    assert len(label) == 5
    assert all(0.0 <= p <= 1.0 for p in label.values())
    assert list(label.values()) == sorted(label.values(), reverse=True)

    features = first[FEATURES]
    assert [caption for _, caption in features] == [s.caption for s in first[SESSION].analysis.stages]
    assert features[2][1] == "Stage 3 · 320x14x14 · stride 16"
    assert all(image.ndim == 3 and image.dtype == np.uint8 for image, _ in features)

    overlays = first[OVERLAYS]
    assert len(overlays) == 4
    assert all(image.shape == (*CROP, 3) for image, _ in overlays)
    assert first[LARGE].shape == (*CROP, 3)
    assert np.array_equal(first[LARGE], overlays[3][0])

    top = next(iter(label))
    assert first[TARGET] == top
    assert first[TARGET_INFO].startswith(f"Grad-CAM for **{top}** · class ")
    assert first[TARGET_INFO].split("  \n")[0].endswith(" · top prediction")
    assert "Enlarged: Stage 4 · 512x7x7 · stride 32" in first[TARGET_INFO]
    menu = ui.target_menu(first[SESSION])
    assert len(menu["choices"]) == 1000 and menu["value"] == top
    facts = ("| 2 · 2 · 6 · 2 |", "| 64 · 128 · 320 · 512 |", "| 12 M · 1.8 G at 224 px |", "| 77.2 % |")
    for fact in (*facts, r"| Weights | local folder $POOLFORMER\_WEIGHTS\_DIR/poolformer\_s12/ |"):
        assert fact in first[FACTS]
    assert f"| Analysis took | {first[SESSION].analysis.seconds:.2f} s |" in first[FACTS]
    assert first[NOTES] == "\n".join(f"ℹ️ {note}" for note in first[SESSION].analysis.notes)
    assert "| stage 4 | 512×7×7 | 32 | 49 | 2 |" in first[JOURNEY]
    assert "224×224" in first[JOURNEY]


def test_clicking_the_second_prediction_retargets_grad_cam(first, count_analyses):
    session = first[SESSION]
    second_name = list(first[LABEL])[1]
    second = session.analysis.predictions[1]

    out = ui.retarget_from_label(session, ui.DEFAULT_VIEW, 0.5, select(1, second_name))

    assert out[SESSION].analysis.target.index == second.index
    assert out[TARGET] == second_name
    assert "top prediction" not in out[TARGET_INFO]
    assert out[LABEL] == first[LABEL]
    assert not np.array_equal(out[LARGE], first[LARGE])
    # The stored image was analysed again, for the chosen class; nothing was uploaded.
    assert count_analyses == [second.index]


def test_typing_a_class_name_or_synonym_retargets(first):
    out = ui.retarget(first[SESSION], "tabby cat", ui.DEFAULT_VIEW, 0.5)
    assert out[SESSION].analysis.target.index == 281
    assert out[TARGET] == "tabby, tabby cat"

    out = ui.retarget(first[SESSION], "282", ui.DEFAULT_VIEW, 0.5)
    assert out[SESSION].analysis.target.label == "tiger cat"


def test_an_empty_or_unchanged_target_keeps_the_analysis(first, count_analyses):
    for target in ("", None, first[TARGET]):
        out = ui.retarget(first[SESSION], target, ui.DEFAULT_VIEW, 0.5)
        assert out[SESSION] is first[SESSION]
    assert count_analyses == []


def test_view_opacity_and_stage_changes_do_not_run_the_model(first, ui_cache, count_analyses):
    loads = dict(ui_cache.load_counts)
    session = first[SESSION]

    views = [ui.show_view(session, view) for view in ui.VIEWS]
    assert all(len(gallery) == 4 for gallery in views)
    assert not np.array_equal(views[0][0][0], views[1][0][0])
    assert views[2][3][0].shape != views[1][3][0].shape  # the channel grid has its own layout

    faint_gallery, faint_large = ui.blend(session, 0.1)
    strong_gallery, strong_large = ui.blend(session, 0.9)
    assert faint_gallery[3][0].shape == (*CROP, 3)
    assert not np.array_equal(faint_gallery[3][0], strong_gallery[3][0])
    assert not np.array_equal(faint_large, strong_large)

    large, info, picked = ui.pick_stage(session, 0.5, select(1, None))
    assert picked.stage == 2 and "Enlarged: Stage 2" in info
    assert np.array_equal(large, first[OVERLAYS][1][0])
    # Re-blending and retargeting keep the stage the user picked.
    assert np.array_equal(ui.blend(picked, 0.5)[1], first[OVERLAYS][1][0])
    assert ui.outputs_for(picked)[TARGET_INFO] == info

    assert count_analyses == []
    assert ui_cache.load_counts == loads


def test_format_events_before_any_analysis_change_nothing():
    assert ui.show_view(None, ui.VIEW_MEAN) is not None
    assert len(ui.blend(None, 0.3)) == 2
    with pytest.raises(gr.Error, match="Analyse an image first"):
        ui.retarget(None, "tiger cat", ui.DEFAULT_VIEW, 0.5)


@pytest.mark.parametrize(
    ("image", "variant", "target", "message"),
    [
        (str(PHOTO), "s99", None, "Unknown variant 's99'. Choose one of: s12, s24, s36, m36, m48, demo."),
        (None, "s12", None, "No image given"),
        (str(PHOTO), "s12", "zebra crossing", "no class called"),
        (str(PHOTO), "s12", "<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;"),
    ],
)
def test_user_errors_become_short_messages(ui_cache, image, variant, target, message):
    with pytest.raises(gr.Error) as raised:
        ui.analyze_image(image, variant, target)
    assert message in raised.value.message
    assert "Traceback" not in raised.value.message


def test_missing_weights_are_explained_without_server_paths(ui_cache, monkeypatch):
    def unavailable(*args, **kwargs):
        raise WeightsUnavailableError(
            "No weights for PoolFormer-S24. Tried: the folder /srv/secret/weights/poolformer_s24 (it does not exist)."
        )

    monkeypatch.setattr(ui, "analyze", unavailable)
    with pytest.raises(gr.Error) as raised:
        ui.analyze_image(str(PHOTO), "s24")
    assert "No weights for PoolFormer-S24" in raised.value.message
    assert "poolformer_s24" in raised.value.message
    assert "/srv" not in raised.value.message


def test_unexpected_failures_give_a_generic_message(ui_cache, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("CUDA exploded in /opt/app/secret.py")

    monkeypatch.setattr(ui, "analyze", broken)
    with pytest.raises(gr.Error) as raised:
        ui.analyze_image(str(PHOTO), "s12")
    assert raised.value.message == ui.GENERIC_ERROR
    assert "CUDA exploded" in caplog.text  # logged on the server, not shown


def test_an_expired_upload_asks_for_the_image_again(first, tmp_path):
    gone = ui.Session(image=str(tmp_path / "deleted.jpg"), variant="s12", analysis=first[SESSION].analysis)
    with pytest.raises(gr.Error, match="Upload it again"):
        ui.retarget(gone, "tiger cat", ui.DEFAULT_VIEW, 0.5)


def test_duplicate_class_names_stay_distinct():
    names = ui.display_names(("crane", "goldfish", "crane"))
    assert names == ("crane (class 0)", "goldfish", "crane (class 2)")


def test_default_variant(monkeypatch, weights_dir, tmp_path):
    import huggingface_hub

    cached = {}
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda repo_id, filename: cached.get(repo_id))
    monkeypatch.setattr(ui, "model_cache", ModelCache())
    monkeypatch.setattr(ui, "demo_model_available", lambda: True)
    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(tmp_path))  # an empty folder; HF_HUB_OFFLINE=1
    assert ui.default_variant() == "shapes"

    cached["sail/poolformer_s12"] = str(tmp_path / "config.json")
    assert ui.default_variant() == "s12"
    cached.clear()

    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(weights_dir))
    assert ui.default_variant() == "s12"

    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setattr(ui, "demo_model_available", lambda: False)
    assert ui.default_variant() == "s12"  # nothing works offline: say so when s12 is tried


def test_variant_menu_and_learn_tab():
    choices = dict((value, title) for title, value in ui.variant_choices())
    assert list(choices) == ["s12", "s24", "s36", "m36", "m48", "shapes"]
    assert choices["m48"] == "m48 · 73M params · 82.5% ImageNet top-1"
    table = ui.variants_table()
    assert "| S12 | 2 · 2 · 6 · 2 | 64 · 128 · 320 · 512 | 12 M | 1.8 G | 77.2 % |" in table
    assert "| M48 | 8 · 8 · 24 · 8 | 96 · 192 · 384 · 768 | 73 M | 11.6 G | 82.5 % |" in table
    assert "AvgPool(x) − x" in ui.LEARN_INTRO
    assert "count_include_pad=False" in ui.LEARN_INTRO


def test_launch_settings(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    kwargs = ui.launch_kwargs()
    assert kwargs["server_name"] == "127.0.0.1"
    assert kwargs["max_file_size"] == "20mb"
    assert kwargs["allowed_paths"] == []
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    assert ui.launch_kwargs()["server_name"] == "0.0.0.0"
    assert ui.launch_kwargs(server_port=1234)["server_port"] == 1234


# ---------------------------------------------------------------------------------------------
# The served app
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(ui_cache):
    with serving() as served:
        yield served


@pytest.fixture(scope="module")
def client(served, tmp_path_factory):
    from gradio_client import Client

    return Client(served[1], verbose=False, download_files=str(tmp_path_factory.mktemp("downloads")))


def test_api_lists_only_analyze(served):
    info = served[0].get_api_info()
    assert list(info["named_endpoints"]) == ["/analyze"]
    assert info["unnamed_endpoints"] == {}
    parameters = [p["parameter_name"] for p in info["named_endpoints"]["/analyze"]["parameters"]]
    assert parameters[:3] == ["image", "variant", "target"]


def test_analyze_endpoint(client):
    from gradio_client import handle_file

    result = client.predict(handle_file(str(PHOTO)), "s12", api_name="/analyze")

    label, features, overlays, large = result[:4]
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
    assert isinstance(result[TARGET], str)
    assert result[TARGET] == label["label"]
    assert "Analysis took" in result[FACTS]


def test_analyze_endpoint_with_a_target(client):
    from gradio_client import handle_file

    result = client.predict(handle_file(str(PHOTO)), "s12", "tiger cat", api_name="/analyze")
    assert result[TARGET] == "tiger cat"
    assert result[TARGET_INFO].startswith("Grad-CAM for **tiger cat** · class 282 · p = ")


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

    result = client.predict(handle_file(str(PHOTO)), "s12", api_name="/analyze")
    assert len(result[LABEL]["confidences"]) == 5


def test_uploads_over_the_size_limit_are_refused(served):
    import httpx

    big = b"\0" * (20 * 1024 * 1024 + 1)
    response = httpx.post(served[1] + "gradio_api/upload", files={"files": ("big.png", big, "image/png")}, timeout=60)
    assert response.status_code == 413


def test_shapes_examples_come_with_the_demo_model(monkeypatch, tmp_path):
    shapes = []
    for name, colour in (("shapes_circle.png", (200, 40, 40)), ("shapes_star.png", (40, 40, 200))):
        Image.new("RGB", (128, 128), colour).save(tmp_path / name)
        shapes.append(str(tmp_path / name))
    monkeypatch.setattr(ui, "example_shapes", lambda: shapes)

    def example_labels(demo) -> list[str]:
        return [c["props"].get("label") for c in demo.config["components"] if c["type"] == "dataset"]

    monkeypatch.setattr(ui, "demo_model_available", lambda: False)
    assert example_labels(ui.build_demo()) == ["Photos (ImageNet models)"]
    monkeypatch.setattr(ui, "demo_model_available", lambda: True)
    assert example_labels(ui.build_demo()) == ["Photos (ImageNet models)", "Shapes (demo model)"]
