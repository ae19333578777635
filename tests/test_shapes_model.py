"""The bundled shapes model, checked on freshly generated images it never saw in training:
does it classify them, and do its Grad-CAMs point at the object (and stop doing so when its
weights are randomised)?"""

import numpy as np
import pytest
import torch
from transformers import PoolFormerForImageClassification

from poolformer_demo import SHAPES_VARIANT_NAME, LoadedModel, ModelCache, analyze, get_variant, load_model
from poolformer_demo.shapes import TEST_SEED_START, make_sample, pointing_game

IMAGES = 200
# The Grad-CAM peak may sit this many pixels outside the object's mask and still count as a hit.
TOLERANCE_PX = 3
DEFAULT_STAGE = 4  # the stage the app shows large


def _ranks(values: np.ndarray) -> np.ndarray:
    # Average ranks for ties: a ReLU'd CAM has many equal zeros.
    order = values.argsort(kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    return (np.bincount(inverse, weights=ranks) / counts)[inverse]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra, rb = _ranks(a.ravel()), _ranks(b.ravel())
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


def explain_sample(cache: ModelCache, sample):
    return analyze(sample.image, SHAPES_VARIANT_NAME, target=sample.label, cache=cache)


@pytest.fixture(scope="module")
def first_sample():
    return make_sample(TEST_SEED_START)


@pytest.fixture(scope="module")
def first_explained(shapes_model, first_sample):
    return explain_sample(shapes_model[0], first_sample)


@pytest.fixture(scope="module")
def held_out_samples(first_sample):
    return [first_sample] + [make_sample(TEST_SEED_START + i) for i in range(1, IMAGES)]


@pytest.fixture(scope="module")
def explained(shapes_model, held_out_samples, first_explained):
    return [first_explained] + [explain_sample(shapes_model[0], sample) for sample in held_out_samples[1:]]


@pytest.fixture(scope="module")
def randomized(held_out_samples):
    trained = load_model(SHAPES_VARIANT_NAME)
    torch.manual_seed(1234)
    model = PoolFormerForImageClassification(trained.model.config).eval().requires_grad_(False)
    cache = ModelCache(
        capacity=1, loader=lambda variant: LoadedModel(variant, model, trained.processor, "re-initialised")
    )
    return [analyze(sample.image, SHAPES_VARIANT_NAME, target=sample.label, cache=cache) for sample in held_out_samples]


def test_shapes_model_is_bundled_and_small():
    variant = get_variant(SHAPES_VARIANT_NAME)
    files = list(variant.bundled_dir.iterdir())
    assert {"config.json", "model.safetensors", "preprocessor_config.json"} <= {f.name for f in files}
    assert sum(f.stat().st_size for f in files) < 5 * 2**20
    loaded = load_model(SHAPES_VARIANT_NAME)
    assert loaded.source == "bundled with the app"
    assert sum(p.numel() for p in loaded.model.parameters()) / 1e6 == pytest.approx(variant.params_m, abs=0.01)


def test_the_model_sees_the_generated_image_unchanged(first_explained, first_sample):
    # Masks are only valid if the crop the model saw is the generated image, pixel for pixel.
    difference = np.abs(np.asarray(first_explained.input_image, int) - np.asarray(first_sample.image, int))
    assert difference.max() <= 2


@pytest.mark.slow
def test_accuracy_on_unseen_images(explained, held_out_samples):
    correct = sum(a.predictions[0].index == s.label for a, s in zip(explained, held_out_samples))
    print(f"shapes model accuracy: {correct}/{len(held_out_samples)} = {correct / len(held_out_samples):.1%}")
    assert correct / len(held_out_samples) >= 0.95


@pytest.mark.slow
def test_grad_cam_points_at_the_object(explained, held_out_samples):
    rates = {}
    masks = np.stack([sample.mask for sample in held_out_samples])
    for stage in range(1, 5):
        cams = np.stack([analysis.stages[stage - 1].cam for analysis in explained])
        rates[stage] = float(pointing_game(cams, masks, TOLERANCE_PX).mean())
    print("pointing game hit rate by stage: " + ", ".join(f"stage {s}: {r:.1%}" for s, r in rates.items()))
    assert rates[DEFAULT_STAGE] >= 0.85


@pytest.mark.slow
def test_grad_cam_changes_when_the_weights_are_randomized(explained, randomized):
    means = {}
    for stage in range(1, 5):
        correlations = [
            spearman(t.stages[stage - 1].cam, r.stages[stage - 1].cam) for t, r in zip(explained, randomized)
        ]
        means[stage] = float(np.mean(correlations))
    print(
        "Spearman(trained CAM, re-initialised CAM) by stage: "
        + ", ".join(f"stage {s}: {m:.2f}" for s, m in means.items())
    )
    assert means[DEFAULT_STAGE] < 0.5


def test_spearman_helper_detects_agreement_and_ties():
    a = np.array([0.0, 0.0, 1.0, 2.0, 3.0])
    assert spearman(a, a * 5 + 1) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)
    assert spearman(a, np.zeros(5)) == 0.0
