"""captum attributions as the app runs them: equal to captum called directly with the recorded
settings, with progress that reaches 1 and a stop that stops."""

import json
import threading

import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients, NoiseTunnel, Occlusion, Saliency

from poolformer_demo import ModelCache
from poolformer_demo.attributions import (
    IntegratedGradientsSettings,
    OcclusionSettings,
    SmoothGradSettings,
    baseline_values,
    integrated_gradients,
    occlusion,
    occlusion_geometry,
    smoothgrad,
)
from poolformer_demo.blocks import model_inputs
from poolformer_demo.cams import to_crop
from poolformer_demo.errors import ComputationCancelled, InvalidSettingError, SelectionError, UnknownMethodError
from poolformer_demo.explanation import explain
from poolformer_demo.images import crop_image
from poolformer_demo.shapes import TEST_SEED_START, make_sample

# The bundled shapes model (128 px) keeps these fast; the s12 timings of the default settings
# are in benchmarks/bench_explain.py.

pytestmark = pytest.mark.usefixtures("one_torch_thread")

VARIANT = "shapes"
SIZE = 128
TARGET = 2
IG = IntegratedGradientsSettings(n_steps=6, internal_batch_size=4)
SMOOTH = SmoothGradSettings(nt_samples=4, nt_samples_batch_size=2, seed=3)
OCCLUDE = OcclusionSettings(window=32, stride=32, perturbations_per_eval=6)
SMALL = {"ig": IG, "smoothgrad": SMOOTH, "occlusion": OCCLUDE}


@pytest.fixture(scope="module")
def shape_image():
    return make_sample(TEST_SEED_START).image


@pytest.fixture(scope="module")
def shapes(shape_image):
    cache = ModelCache(capacity=1)
    loaded = cache.get(VARIANT)
    return cache, loaded, model_inputs(loaded, shape_image)


def _logits(model):
    return lambda x: model(pixel_values=x).logits


def test_integrated_gradients_is_captums_with_the_recorded_settings(shapes):
    _, loaded, x = shapes
    result = integrated_gradients(loaded, x, TARGET, IG)
    black = baseline_values("black", x, loaded.processor)
    expected = IntegratedGradients(_logits(loaded.model)).attribute(
        x, baselines=black, target=TARGET, n_steps=6, method="gausslegendre", internal_batch_size=4
    )
    np.testing.assert_allclose(result.map, expected[0].sum(0).numpy(), rtol=1e-6, atol=1e-9)
    assert result.map.shape == (SIZE, SIZE) and result.map.dtype == np.float32
    assert result.signed and result.map.min() < 0 < result.map.max()
    assert {k: result.settings[k] for k in ("n_steps", "method", "baseline")} == {
        "n_steps": 6,
        "method": "gausslegendre",
        "baseline": "black",
    }


def test_integrated_gradients_reports_its_completeness_error(shapes):
    _, loaded, x = shapes
    result = integrated_gradients(loaded, x, TARGET, IG)
    with torch.no_grad():
        logits = loaded.model(pixel_values=torch.cat([x, baseline_values("black", x, loaded.processor)])).logits
    difference = float(logits[0, TARGET] - logits[1, TARGET])
    assert result.diagnostics["convergence_delta"] == pytest.approx(
        abs(float(result.map.astype(np.float64).sum()) - difference), rel=1e-3, abs=1e-4
    )


def test_black_baseline_is_a_black_image_and_zeros_the_mean_colour(shapes):
    _, loaded, x = shapes
    black = crop_image(baseline_values("black", x, loaded.processor)[0], loaded.processor)
    assert np.asarray(black).max() <= 1
    mean = crop_image(baseline_values("zeros", x, loaded.processor)[0], loaded.processor)
    expected = np.rint(np.asarray(loaded.processor.image_mean) * 255)
    assert np.abs(np.asarray(mean)[0, 0] - expected).max() <= 1
    with pytest.raises(InvalidSettingError, match="black, zeros"):
        baseline_values("white", x, loaded.processor)


def test_smoothgrad_is_captums_noise_tunnel_and_reproducible(shapes):
    _, loaded, x = shapes
    result = smoothgrad(loaded, x, TARGET, SMOOTH)
    stdev = 0.15 * float(x.max() - x.min())
    assert result.settings["stdev"] == pytest.approx(stdev)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        expected = NoiseTunnel(Saliency(_logits(loaded.model))).attribute(
            x, nt_type="smoothgrad", nt_samples=4, nt_samples_batch_size=2, stdevs=stdev, target=TARGET, abs=False
        )
    np.testing.assert_allclose(result.map, expected[0].sum(0).numpy(), rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(smoothgrad(loaded, x, TARGET, SMOOTH).map, result.map)
    other_seed = smoothgrad(loaded, x, TARGET, SmoothGradSettings(nt_samples=4, nt_samples_batch_size=2, seed=4))
    assert not np.allclose(other_seed.map, result.map)


def test_smoothgrad_with_a_last_smaller_batch_draws_its_noise_in_captums_order(shapes):
    _, loaded, x = shapes
    settings = SmoothGradSettings(nt_samples=5, nt_samples_batch_size=2, seed=7)
    result = smoothgrad(loaded, x, TARGET, settings)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(7)
        expected = NoiseTunnel(Saliency(_logits(loaded.model))).attribute(
            x,
            nt_type="smoothgrad",
            nt_samples=5,
            nt_samples_batch_size=2,
            stdevs=result.settings["stdev"],
            target=TARGET,
            abs=False,
        )
    np.testing.assert_allclose(result.map, expected[0].sum(0).numpy(), rtol=1e-6, atol=1e-9)


def test_smoothgrads_in_two_threads_give_the_maps_they_give_one_after_the_other(shapes):
    _, loaded, x = shapes
    seeds = (3, 4)
    settings = [SmoothGradSettings(nt_samples=4, nt_samples_batch_size=2, seed=seed) for seed in seeds]
    alone = [smoothgrad(loaded, x, TARGET, s).map for s in settings]
    together: dict[int, np.ndarray] = {}
    start = threading.Barrier(3)

    def run(index):
        start.wait()
        together[index] = smoothgrad(loaded, x, TARGET, settings[index]).map

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    start.wait()
    # Reseeding torch's global generator meanwhile changes nothing: each run draws from its own.
    for seed in range(50):
        torch.manual_seed(seed)
    for thread in threads:
        thread.join()
    for index in range(2):
        np.testing.assert_array_equal(together[index], alone[index])


def test_occlusion_is_captums_with_the_recorded_window(shapes):
    _, loaded, x = shapes
    result = occlusion(loaded, x, TARGET, OCCLUDE)
    with torch.no_grad():
        expected = Occlusion(_logits(loaded.model)).attribute(
            x,
            sliding_window_shapes=(3, 32, 32),
            strides=(3, 32, 32),
            baselines=0.0,
            target=TARGET,
            perturbations_per_eval=6,
        )
    np.testing.assert_allclose(result.map, expected[0].sum(0).numpy(), rtol=1e-5, atol=1e-6)
    assert (result.settings["window"], result.settings["stride"], result.settings["positions"]) == (32, 32, 16)


def test_default_occlusion_window_scales_with_the_crop():
    assert occlusion_geometry(OcclusionSettings(), (224, 224)) == (32, 16)
    assert occlusion_geometry(OcclusionSettings(), (128, 128)) == (18, 9)
    with pytest.raises(InvalidSettingError, match="stride"):
        occlusion_geometry(OcclusionSettings(window=8, stride=16), (224, 224))


@pytest.mark.parametrize(
    "method, settings, calls",
    [(integrated_gradients, IG, 2 + 2), (smoothgrad, SMOOTH, 2), (occlusion, OCCLUDE, 1 + 3)],
    ids=["ig", "smoothgrad", "occlusion"],
)
def test_progress_rises_to_one_once_per_captum_batch(shapes, method, settings, calls):
    _, loaded, x = shapes
    fractions = []
    method(loaded, x, TARGET, settings, progress=lambda fraction, title: fractions.append(fraction))
    assert len(fractions) == calls
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and fractions[0] < 1.0


@pytest.mark.parametrize("method, settings", [(integrated_gradients, IG), (smoothgrad, SMOOTH), (occlusion, OCCLUDE)])
def test_should_stop_cancels_after_the_current_batch(shapes, method, settings):
    _, loaded, x = shapes
    fractions = []
    with pytest.raises(ComputationCancelled, match="stopped"):
        method(
            loaded,
            x,
            TARGET,
            settings,
            progress=lambda f, t: fractions.append(f),
            should_stop=lambda: len(fractions) >= 1,
        )
    assert len(fractions) == 1


def test_explain_gives_one_crop_size_map_per_method_in_order(shapes, shape_image):
    cache, _, _ = shapes
    result = explain(
        shape_image,
        VARIANT,
        target=TARGET,
        methods="occlusion,gradcam,ig,smoothgrad,layercam",
        stage=3,
        settings=SMALL,
        cache=cache,
    )
    assert list(result.attributions) == ["occlusion", "gradcam", "ig", "smoothgrad", "layercam"]
    for attribution in result.attributions.values():
        assert attribution.map.shape == (SIZE, SIZE) and attribution.map.dtype == np.float32
        json.dumps(attribution.settings)
    for name in ("gradcam", "layercam"):
        cam = result.attributions[name]
        assert not cam.signed and cam.settings["stage"] == 3
        np.testing.assert_allclose(cam.map, to_crop(result.analysis.stages[2].cams[name], (SIZE, SIZE), unit=False))
    for name in ("ig", "smoothgrad", "occlusion"):
        assert result.attributions[name].signed and result.attributions[name].map.min() < 0
    assert result.analysis.target.index == TARGET and result.faithfulness is None


def test_explain_progress_covers_every_method_and_stops_on_request(shapes, shape_image):
    cache, _, _ = shapes
    fractions = []
    explain(
        shape_image,
        VARIANT,
        methods="gradcam,ig",
        settings=SMALL,
        cache=cache,
        progress=lambda f, t: fractions.append(f),
    )
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    with pytest.raises(ComputationCancelled):
        explain(shape_image, VARIANT, methods="ig", settings=SMALL, cache=cache, should_stop=lambda: True)


def test_explain_refuses_unknown_methods_stages_and_settings(shapes, shape_image):
    cache, _, _ = shapes
    with pytest.raises(UnknownMethodError, match="Unknown method 'gradcam\\+\\+'"):
        explain(shape_image, VARIANT, methods="gradcam++", cache=cache)
    with pytest.raises(SelectionError, match="There is no stage 5: this model has stages 1 to 4"):
        explain(shape_image, VARIANT, methods="gradcam", stage=5, cache=cache)
    with pytest.raises(InvalidSettingError, match="IntegratedGradientsSettings"):
        explain(shape_image, VARIANT, methods="ig", settings={"ig": SMOOTH}, cache=cache)
    with pytest.raises(InvalidSettingError, match="n_steps must be positive"):
        explain(
            shape_image, VARIANT, methods="ig", settings={"ig": IntegratedGradientsSettings(n_steps=0)}, cache=cache
        )
