"""Deletion / insertion curves and ROAD, checked piece by piece, and on 50 held-out images of the
bundled shapes model: Grad-CAM (stage 4) and Integrated Gradients must beat random orders."""

import json

import numpy as np
import pytest
import torch
from torchvision.transforms.functional import gaussian_blur

from poolformer_demo import analyze
from poolformer_demo.attributions import IntegratedGradientsSettings, integrated_gradients
from poolformer_demo.blocks import LogitsOnly, model_inputs
from poolformer_demo.errors import ComputationCancelled, InvalidSettingError
from poolformer_demo.faithfulness import (
    FaithfulnessSettings,
    area_under_curve,
    evaluate_faithfulness,
    pixel_ranks,
    road_scores,
)
from poolformer_demo.plots import faithfulness_plot
from poolformer_demo.shapes import TEST_SEED_START, make_sample

pytestmark = pytest.mark.usefixtures("one_torch_thread")

IMAGES = 50
DEFAULT_STAGE = 4
# Coarser than the app's defaults so that 50 images take seconds, not minutes; the table for the
# defaults is printed by benchmarks/bench_faithfulness.py.
SETTINGS = FaithfulnessSettings(steps=10, random_orders=3, batch_size=64)
IG_SETTINGS = IntegratedGradientsSettings(n_steps=16, internal_batch_size=16)


def scored(shapes_model, seed: int) -> tuple:
    """A held-out image: its sample, its pixel values, Grad-CAM at the default stage and IG, and their report."""
    cache, loaded = shapes_model
    sample = make_sample(seed)
    analysis = analyze(sample.image, "shapes", target=sample.label, cache=cache)
    x = model_inputs(loaded, sample.image)
    ig = integrated_gradients(loaded, x, sample.label, IG_SETTINGS)
    maps = {"gradcam": analysis.stages[DEFAULT_STAGE - 1].cam, "ig": ig.map}
    return sample, x, maps, evaluate_faithfulness(loaded.model, x, sample.label, maps, SETTINGS)


@pytest.fixture(scope="module")
def first_held_out(shapes_model):
    """The first held-out image scored (the tests of single curves need no more)."""
    return scored(shapes_model, TEST_SEED_START)


@pytest.fixture(scope="module")
def held_out(shapes_model, first_held_out):
    """Every held-out image scored, the first one first."""
    return [first_held_out] + [scored(shapes_model, TEST_SEED_START + i) for i in range(1, IMAGES)]


@pytest.fixture(scope="module")
def table(held_out):
    columns = {}
    for *_, report in held_out:
        for name, scores in report.to_json().items():
            if isinstance(scores, dict) and "deletion_auc" in scores:
                columns.setdefault(name, []).append((scores["deletion_auc"], scores["insertion_auc"]))
    table = {name: np.array(rows) for name, rows in columns.items()}
    print(f"\nfaithfulness on {IMAGES} held-out shapes (mean ± std over images)")
    for name, rows in table.items():
        deletion, insertion = rows[:, 0], rows[:, 1]
        print(
            f"  {name:8} deletion AUC {deletion.mean():.3f} ± {deletion.std():.3f}   "
            f"insertion AUC {insertion.mean():.3f} ± {insertion.std():.3f}"
        )
    return table


def test_area_under_curve_is_the_trapezoid_over_zero_to_one():
    assert area_under_curve(np.ones(7)) == pytest.approx(1.0)
    assert area_under_curve(np.linspace(1, 0, 11)) == pytest.approx(0.5)
    assert area_under_curve(np.array([0.0, 1.0, 0.0])) == pytest.approx(0.5)


def test_pixel_ranks_put_the_highest_first_and_break_ties_at_random():
    values = np.zeros((8, 8))
    values[5, 6] = 2.0
    values[0, 0] = 1.0
    ranks = pixel_ranks(values, np.random.default_rng(0))
    assert ranks[5, 6] == 0 and ranks[0, 0] == 1
    assert sorted(ranks.ravel()) == list(range(64))
    zeros = ranks[values == 0]
    assert not np.array_equal(zeros, np.sort(zeros))  # not row-major order


def test_curves_run_from_the_image_to_the_substrate_and_from_the_blur_to_the_image(shapes_model, first_held_out):
    _, loaded = shapes_model
    sample, x, _, report = first_held_out
    settings = report.settings
    blurred = gaussian_blur(x, [settings.blur_kernel] * 2, [settings.blur_sigma] * 2)
    with torch.no_grad():
        p = loaded.model(pixel_values=torch.cat([x, torch.zeros_like(x), blurred])).logits.softmax(-1)[:, sample.label]
    curves = report.methods["gradcam"]
    assert len(curves.deletion) == len(curves.insertion) == settings.steps + 1 == len(report.fractions)
    assert report.fractions[0] == 0 and report.fractions[-1] == 1
    p = p.numpy()
    np.testing.assert_allclose([curves.deletion[0], curves.deletion[-1]], p[:2], rtol=1e-5)
    np.testing.assert_allclose([curves.insertion[0], curves.insertion[-1]], [p[2], p[0]], rtol=1e-5)


def test_each_point_is_the_image_with_the_top_ranked_pixels_replaced(shapes_model, first_held_out):
    _, loaded = shapes_model
    sample, x, maps, report = first_held_out
    settings = report.settings
    # Recompute one point alone: the ranks depend on the seed, drawn in the same order as inside.
    ranks = pixel_ranks(maps["gradcam"], np.random.default_rng(settings.seed))
    step = 3
    count = round(step * x.shape[-1] * x.shape[-2] / settings.steps)
    mask = torch.from_numpy(ranks < count).to(x.dtype)
    with torch.no_grad():
        deleted = loaded.model(pixel_values=x * (1 - mask)).logits.softmax(-1)[0, sample.label].item()
    assert report.methods["gradcam"].deletion[step] == pytest.approx(deleted, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("method", ["gradcam", "ig"])
@pytest.mark.slow
def test_method_beats_random_orders_on_deletion(table, method):
    assert table[method][:, 0].mean() < table["random"][:, 0].mean()


@pytest.mark.parametrize("method", ["gradcam", "ig"])
@pytest.mark.slow
def test_method_beats_random_orders_on_insertion(table, method):
    assert table[method][:, 1].mean() > table["random"][:, 1].mean()


def test_random_baseline_spread_is_reported_over_its_orders(first_held_out):
    summary = first_held_out[3].to_json()
    assert summary["random"]["orders"] == SETTINGS.random_orders
    assert summary["random"]["deletion_auc_std"] > 0
    assert summary["steps"] == SETTINGS.steps
    assert "blur" in summary["substrate"]["insertion"] and "zeros" in summary["substrate"]["deletion"]
    json.dumps(summary)


@pytest.mark.slow
def test_road_scores_grad_cam_above_a_random_map(shapes_model, held_out):
    _, loaded = shapes_model
    wins = 0
    for sample, x, maps, _ in held_out[:3]:
        random_map = np.random.default_rng(sample.seed).random(maps["gradcam"].shape)
        scores = road_scores(
            loaded.model, x, sample.label, {"gradcam": maps["gradcam"], "random": random_map}, (20, 80)
        )
        assert all(np.isfinite(list(scores.values())))
        wins += scores["gradcam"] > scores["random"]
    assert wins == 3


# pytorch-grad-cam's ROAD hands torch tensors to numpy, which NumPy 2 warns about.
@pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning")
def test_road_is_pytorch_grad_cams_road_combined_under_the_same_seed(shapes_model, first_held_out):
    from pytorch_grad_cam.metrics.road import ROADCombined
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget

    _, loaded = shapes_model
    sample, x, maps, _ = first_held_out
    score = road_scores(loaded.model, x, sample.label, {"gradcam": maps["gradcam"]}, (20, 80), seed=5)["gradcam"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        targets = [ClassifierOutputSoftmaxTarget(sample.label)]
        expected = ROADCombined([20, 80])(x, np.float32(maps["gradcam"])[None], targets, LogitsOnly(loaded.model))
    assert score == pytest.approx(float(np.ravel(expected)[0]), abs=1e-7)


def test_progress_counts_every_perturbed_image_up_to_one(shapes_model, first_held_out):
    _, loaded = shapes_model
    sample, x, maps, _ = first_held_out
    fractions = []
    settings = FaithfulnessSettings(steps=4, random_orders=1, batch_size=4)
    evaluate_faithfulness(loaded.model, x, sample.label, maps, settings, progress=lambda f, t: fractions.append(f))
    # 3 end-point images, then (2 maps + 1 random order) x (deletion, insertion) x 3 inner steps.
    assert len(fractions) == 1 + 3 * 2
    assert fractions == sorted(fractions) and fractions[-1] == 1.0


def test_faithfulness_stops_on_request_and_refuses_wrong_maps(shapes_model, first_held_out):
    _, loaded = shapes_model
    sample, x, maps, _ = first_held_out
    with pytest.raises(ComputationCancelled):
        evaluate_faithfulness(loaded.model, x, sample.label, maps, should_stop=lambda: True)
    with pytest.raises(InvalidSettingError, match="not the crop's"):
        evaluate_faithfulness(loaded.model, x, sample.label, {"gradcam": np.zeros((7, 7))})


def test_curves_plot_as_an_rgb_picture(first_held_out):
    picture = faithfulness_plot(first_held_out[3], {"gradcam": "Grad-CAM", "ig": "Integrated Gradients"})
    assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[2] == 3
    assert picture.shape[1] >= 800 and picture.std() > 0
