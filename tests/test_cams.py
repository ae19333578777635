"""The CAM family from analyze()'s one backward pass, checked against pytorch-grad-cam."""

import copy

import numpy as np
import pytest
import torch
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, HiResCAM, LayerCAM, XGradCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

from poolformer_demo import CAM_METHODS, analyze
from poolformer_demo.blocks import LogitsOnly
from poolformer_demo.cams import to_crop

REFERENCE_CLASSES = {
    "gradcam": GradCAM,
    "hirescam": HiResCAM,
    "gradcampp": GradCAMPlusPlus,
    "xgradcam": XGradCAM,
    "layercam": LayerCAM,
}
TARGET = 3  # not the top-1 class, so the target is really passed through


class _Tapped(torch.nn.Module):
    """A PoolFormerLayer returns a 1-tuple, which pytorch-grad-cam cannot hook; an identity on its
    output gives it a module whose output is the stage's tensor itself."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer
        self.tap = torch.nn.Identity()

    def forward(self, hidden_states):
        return (self.tap(self.layer(hidden_states)[0]),)


@pytest.fixture(scope="module")
def s12(s12_cache, photo):
    return s12_cache.get("s12"), analyze(photo, "s12", target=TARGET, cache=s12_cache)


@pytest.fixture(scope="module")
def tapped_copy(s12):
    model = s12[0].model
    # A copy sharing the weights: the cached model itself is never modified.
    twin = copy.deepcopy(model, memo={id(t): t for t in [*model.parameters(), *model.buffers()]})
    taps = []
    for blocks in twin.poolformer.encoder.block:
        blocks[-1] = _Tapped(blocks[-1])
        taps.append(blocks[-1].tap)
    return LogitsOnly(twin), taps


def test_the_registry_names_the_five_methods():
    assert list(CAM_METHODS) == ["gradcam", "hirescam", "gradcampp", "xgradcam", "layercam"]
    assert [m.title for m in CAM_METHODS.values()] == ["Grad-CAM", "HiResCAM", "Grad-CAM++", "XGrad-CAM", "LayerCAM"]


@pytest.mark.parametrize("method", list(REFERENCE_CLASSES))
def test_cam_method_equals_pytorch_grad_cam_at_every_stage(method, s12, tapped_copy, photo):
    loaded, analysis = s12
    model, taps = tapped_copy
    pixel_values = loaded.processor(images=photo, return_tensors="pt")["pixel_values"].requires_grad_(True)
    targets = [ClassifierOutputTarget(TARGET)]
    with REFERENCE_CLASSES[method](model, taps) as cam:
        cam(input_tensor=pixel_values, targets=targets)
        recorded = zip(taps, cam.activations_and_grads.activations, cam.activations_and_grads.gradients)
        for stage, (layer, activation, gradient) in zip(analysis.stages, recorded):
            # get_cam_image is the map at the layer's resolution; the library applies the ReLU next.
            expected = cam.get_cam_image(pixel_values, layer, targets, activation.numpy(), gradient.numpy(), False)
            expected = np.maximum(expected[0], 0)
            assert expected.max() > 0
            np.testing.assert_allclose(stage.cams[method], expected, rtol=1e-5, atol=1e-5 * expected.max())


def test_every_stage_carries_every_method_at_stage_resolution_after_relu(s12):
    _, analysis = s12
    for stage in analysis.stages:
        assert set(stage.cams) == set(CAM_METHODS)
        for values in stage.cams.values():
            assert values.shape == stage.shape[1:] and values.dtype == np.float32
            assert values.min() >= 0
        np.testing.assert_array_equal(stage.cams["gradcam"], stage.cam_raw)


def test_the_methods_give_different_maps(s12):
    stage = s12[1].stages[3]
    maps = [stage.cams[name] / stage.cams[name].max() for name in CAM_METHODS]
    for i in range(len(maps)):
        for j in range(i + 1, len(maps)):
            assert not np.allclose(maps[i], maps[j], atol=1e-3)


def test_cam_at_crop_is_the_map_resized_and_unit_scaled(s12):
    stage = s12[1].stages[2]
    np.testing.assert_array_equal(stage.cam_at_crop("gradcam"), stage.cam)
    layercam = stage.cam_at_crop("layercam")
    assert layercam.shape == (224, 224) and layercam.max() == pytest.approx(1.0) and layercam.min() >= 0
    np.testing.assert_allclose(layercam, to_crop(stage.cams["layercam"], (224, 224)))
    assert to_crop(np.zeros((7, 7)), (32, 32)).max() == 0
