import numpy as np
import pytest
import torch
from captum.attr import LayerGradCam

from poolformer_demo import UnknownTargetError, analyze, feature_views, resolve_target
from poolformer_demo.labels import Prediction, display_names, prediction_json


@pytest.fixture(scope="module")
def s12_analysis(s12_cache, photo):
    return analyze(photo, "s12", cache=s12_cache), s12_cache


def test_stage_shapes_and_strides_for_s12_at_224(s12_analysis):
    analysis, _ = s12_analysis
    assert [s.shape for s in analysis.stages] == [(64, 56, 56), (128, 28, 28), (320, 14, 14), (512, 7, 7)]
    assert [s.stride for s in analysis.stages] == [4, 8, 16, 32]
    assert analysis.stages[3].caption == "Stage 4 · 512x7x7 · stride 32"


def test_last_hidden_state_is_the_deepest_stage(s12_analysis, photo):
    _, cache = s12_analysis
    loaded = cache.get("s12")
    pixel_values = loaded.processor(images=photo, return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        outputs = loaded.model.poolformer(pixel_values, output_hidden_states=True)
    assert tuple(outputs.last_hidden_state.shape) == (1, 512, 7, 7)
    assert torch.equal(outputs.last_hidden_state, outputs.hidden_states[-1])


def test_top5_are_sorted_probabilities_from_a_softmax_over_all_classes(s12_analysis):
    analysis, _ = s12_analysis
    probabilities = [p.probability for p in analysis.predictions]
    assert len(probabilities) == 5
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0 < sum(probabilities) <= 1.0
    assert analysis.target == analysis.predictions[0]
    assert len(analysis.labels) == 1000


def test_input_image_is_the_224_crop_the_model_saw(s12_analysis, photo):
    analysis, cache = s12_analysis
    assert analysis.input_image.size == (224, 224)
    assert analysis.input_image.mode == "RGB"
    # The processor's own resize and crop, without rescaling or normalising, gives the pixels
    # the model saw; the shown crop may differ from them only by rounding.
    processor = cache.get("s12").processor
    seen = processor(images=photo, do_rescale=False, do_normalize=False, return_tensors="np")["pixel_values"][0]
    seen = np.asarray(seen, dtype=np.float32).transpose(1, 2, 0)
    shown = np.asarray(analysis.input_image, dtype=np.float32)
    assert np.abs(shown - seen).max() <= 1.0


def test_cams_are_unit_scaled_at_crop_size_and_raw_at_stage_size(s12_analysis):
    analysis, _ = s12_analysis
    for stage in analysis.stages:
        assert stage.cam.shape == (224, 224)
        assert stage.cam_raw.shape == stage.shape[1:]
        assert stage.cam.min() >= 0 and stage.cam.max() == pytest.approx(1.0)
        assert stage.cam_raw.min() >= 0


def test_grad_cam_equals_captum_layer_grad_cam_on_every_stage(s12_analysis, photo):
    analysis, cache = s12_analysis
    loaded = cache.get("s12")
    pixel_values = loaded.processor(images=photo, return_tensors="pt")["pixel_values"]
    target = analysis.predictions[1].index
    retargeted = analyze(photo, "s12", target=target, cache=cache)
    for stage, blocks in zip(retargeted.stages, loaded.model.poolformer.encoder.block):
        expected = LayerGradCam(lambda x: loaded.model(x).logits, blocks[-1]).attribute(
            pixel_values, target=target, relu_attributions=True
        )
        expected = expected[0, 0].detach().numpy()
        assert expected.max() > 0
        np.testing.assert_allclose(stage.cam_raw, expected, rtol=1e-5, atol=1e-5 * expected.max())


def test_analysis_runs_the_model_once(s12_analysis, photo, monkeypatch):
    _, cache = s12_analysis
    model = cache.get("s12").model
    calls = []
    handle = model.register_forward_hook(lambda *args: calls.append(1))
    try:
        analyze(photo, "s12", cache=cache)
    finally:
        handle.remove()
    assert len(calls) == 1


def test_target_by_label_synonym_and_index(s12_analysis, photo):
    _, cache = s12_analysis
    assert analyze(photo, "s12", target="tabby cat", cache=cache).target.index == 281
    assert analyze(photo, "s12", target="281", cache=cache).target.label == "tabby, tabby cat"


def test_different_targets_give_different_cams(s12_analysis, photo):
    _, cache = s12_analysis
    first = analyze(photo, "s12", target=0, cache=cache)
    second = analyze(photo, "s12", target=1, cache=cache)
    assert not np.allclose(first.stages[3].cam_raw, second.stages[3].cam_raw)


@pytest.mark.parametrize(
    "target, message",
    [
        (3, "Class index 3 is out of range: this model has classes 0 to 2"),
        (-1, "out of range"),
        ("tabbby", "Did you mean: tabby"),
        ("", "class name or index"),
        ("zebra crossing", "no class called 'zebra crossing'"),
    ],
    ids=["one-past-the-last-index", "negative-index", "misspelt-name", "empty", "unknown-name"],
)
def test_unknown_targets_are_clear_errors(target, message):
    labels = ("tench", "goldfish", "tabby, tabby cat")
    with pytest.raises(UnknownTargetError, match=message):
        resolve_target(target, labels)


def test_an_unknown_class_of_a_small_model_lists_every_class():
    shapes = ("circle", "square", "triangle", "star", "cross", "ring")
    with pytest.raises(UnknownTargetError) as info:
        resolve_target("tabby cat", shapes)
    assert str(info.value).endswith("It knows: circle, square, triangle, star, cross, ring.")


def test_an_unknown_class_of_imagenet_suggests_close_names_and_the_menu():
    labels = tuple(f"class {i}" for i in range(1000))[:281] + ("tabby, tabby cat",) + tuple(f"x{i}" for i in range(718))
    with pytest.raises(UnknownTargetError) as info:
        resolve_target("taby cat", labels)
    assert "Did you mean: tabby cat" in str(info.value)
    assert "It knows 1,000 classes: type part of a name" in str(info.value)


def test_feature_views_are_rgb_pictures(s12_analysis):
    analysis, _ = s12_analysis
    for stage in analysis.stages:
        views = feature_views(stage.activation)
        for view in (views.mean, views.pca, views.channels):
            assert view.dtype == np.uint8 and view.ndim == 3 and view.shape[2] == 3
            assert view.std() > 0
        # One pixel per position: the browser and the exports enlarge them.
        assert views.mean.shape[:2] == views.pca.shape[:2] == stage.shape[1:]
        assert min(views.channels.shape[:2]) >= 4 * stage.shape[1]


def test_stage_activations_are_data_that_does_not_depend_on_the_target(s12_analysis, photo):
    analysis, cache = s12_analysis
    other = analyze(photo, "s12", target=3, cache=cache)
    for a, b in zip(analysis.stages, other.stages):
        assert a.activation.shape == a.shape and a.activation.dtype == np.float32
        np.testing.assert_array_equal(a.activation, b.activation)


def test_predictions_carry_the_unique_names_every_json_output_shows(s12_analysis):
    analysis, _ = s12_analysis
    names = display_names(analysis.labels)
    for prediction in (analysis.target, *analysis.predictions):
        assert prediction_json(prediction)["label"] == prediction.name == names[prediction.index]


def test_both_cranes_are_named_apart():
    labels = ("crane", "goldfish", "crane")
    names = display_names(labels)
    bird, machine = (Prediction(i, labels[i], 0.5, names[i]) for i in (0, 2))
    assert (prediction_json(bird)["label"], prediction_json(machine)["label"]) == ("crane (class 0)", "crane (class 2)")
    assert Prediction(1, "goldfish", 0.5).name == "goldfish"


def test_the_stage_count_menus_use_is_every_variants_and_the_analysis_has_that_many(s12_analysis):
    from poolformer_demo.variants import STAGE_COUNT, VARIANTS

    analysis, _ = s12_analysis
    assert {len(v.depths) for v in VARIANTS.values()} == {STAGE_COUNT} == {len(analysis.stages)}
