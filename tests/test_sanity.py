"""Cascading model randomisation on a copy: the cached model stays as it was, the layers go from
the top down, and Grad-CAM on the trained shapes model stops agreeing with itself."""

import numpy as np
import pytest
import torch

from poolformer_demo.errors import InvalidSettingError
from poolformer_demo.sanity import (
    CHANCE_FLOOR,
    cascading_randomization,
    default_granularity,
    null_models,
    randomization_order,
    rank_correlation,
    reinitialize,
    shared_copy,
    step_count,
    structural_similarity,
    verdict,
)
from poolformer_demo.shapes import TEST_SEED_START, make_sample

pytestmark = pytest.mark.usefixtures("one_torch_thread")

IMAGES = 8


@pytest.fixture(scope="module")
def checks(shapes_model):
    cache, loaded = shapes_model
    before = {name: tensor.clone() for name, tensor in loaded.model.state_dict().items()}
    results = [
        cascading_randomization(
            make_sample(TEST_SEED_START + i).image, "shapes", target=make_sample(TEST_SEED_START + i).label, cache=cache
        )
        for i in range(IMAGES)
    ]
    return before, results


@pytest.mark.slow
def test_the_cached_model_is_unchanged_afterwards(shapes_model, checks):
    _, loaded = shapes_model
    before, _ = checks
    after = loaded.model.state_dict()
    assert set(after) == set(before)
    assert all(torch.equal(after[name], before[name]) for name in before)


@pytest.mark.slow
def test_steps_go_from_the_head_down_to_the_first_patch_embedding(shapes_model, checks):
    _, loaded = shapes_model
    steps = checks[1][0].steps
    depths = loaded.model.config.depths
    assert len(steps) == 1 + sum(depths) + len(depths)
    assert steps[0].label == "head" and steps[0].layers == ("classifier", "norm")
    assert steps[1].label == f"stage 4 block {depths[3]}"
    assert steps[-1].label == "stage 1 embedding" and steps[-1].layers == ("poolformer.encoder.patch_embeddings.0",)


def test_stage_granularity_has_the_head_and_one_step_per_stage(shapes_model):
    order = randomization_order(shapes_model[1].model, "stage")
    assert [label for label, _ in order] == ["head", "stage 4", "stage 3", "stage 2", "stage 1"]
    assert order[1][1][-1] == "poolformer.encoder.patch_embeddings.3"
    with pytest.raises(InvalidSettingError, match="block, stage"):
        randomization_order(shapes_model[1].model, "layer")


def test_reinitialising_gives_the_copy_new_weights_and_leaves_the_rest_shared(shapes_model):
    model = shapes_model[1].model
    copy = shared_copy(model)
    path = "poolformer.encoder.block.3.0"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        reinitialize(copy, path)
    original = dict(model.named_parameters())
    renewed = []
    for name, parameter in copy.named_parameters():
        if name.startswith(path):
            renewed.append(name)
            assert parameter is not original[name]
            if "conv" in name and name.endswith("weight"):
                assert not torch.equal(parameter, original[name])
        else:
            assert parameter is original[name]
    assert any("conv" in name and name.endswith("weight") for name in renewed)


def test_reinitialising_a_block_draws_every_parameter_anew_and_resets_norms_and_layer_scales(shapes_model):
    model = shapes_model[1].model
    copy = shared_copy(model)
    path = "poolformer.encoder.block.2.0"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        reinitialize(copy, path)
    original = dict(model.named_parameters())
    block = dict(copy.get_submodule(path).named_parameters())
    assert block
    for name, parameter in block.items():
        trained = original[f"{path}.{name}"]
        assert not torch.equal(parameter, trained), name
        if "norm" in name:
            assert torch.all(parameter == (1.0 if name.endswith("weight") else 0.0)), name
        elif name.startswith("layer_scale"):
            assert torch.all(parameter == model.config.layer_scale_init_value), name
        elif name.endswith("bias"):
            assert torch.all(parameter == 0), name
        else:  # normal(0, initializer_range), as the docstring promises
            assert parameter.std().item() == pytest.approx(model.config.initializer_range, rel=0.3), name


def test_the_default_granularity_and_step_count_are_the_cores(shapes_model):
    model = shapes_model[1].model
    assert default_granularity("gradcam") == "block" and default_granularity("ig") == "stage"
    for granularity in ("block", "stage"):
        assert step_count(model.config.depths, granularity) == len(randomization_order(model, granularity))
    assert step_count((2, 2, 6, 2), "block") == 17


def test_the_verdict_reads_the_trained_map_against_random_models_maps():
    assert verdict([0.9, 0.8, 0.85], [0.9, 0.9, 0.9]) == "fails"
    assert verdict([0.1, 0.0, -0.1], [0.15, -0.2, 0.0]) == "passes"
    # Random models' maps agree with each other through the image: nothing to tell apart.
    assert verdict([0.33, 0.33, 0.33], [0.36, 0.36, 0.35]) == "inconclusive"
    # More alike to the trained map than random maps are to each other, short of failing.
    assert verdict([0.45, 0.4, 0.42], [0.1, -0.1, 0.0]) == "inconclusive"


def test_structural_similarity_of_maps():
    a = np.random.default_rng(0).random((32, 32))
    assert structural_similarity(a, 3 * a + 1) == pytest.approx(1.0)
    assert structural_similarity(a, 1 - a) < 0
    assert abs(structural_similarity(a, np.random.default_rng(1).random((32, 32)))) < 0.1


@pytest.mark.slow
def test_the_baseline_compares_with_independently_randomised_models(checks):
    _, results = checks
    for check in results:
        base = check.baseline
        assert len(base.to_original) == null_models("gradcam") == 6
        assert len(base.between) == len(base.ssim_between) == 15
        # The cascade's last step is the first of the random models.
        assert base.to_original[0] == pytest.approx(check.steps[-1].spearman)
        # Independent draws: the random models' maps are not copies of one another.
        assert max(base.between) < 0.99
        assert base.verdict == verdict(base.to_original, base.between)
    verdicts = [check.baseline.verdict for check in results]
    print("\nGrad-CAM verdicts on the shapes test images: " + ", ".join(verdicts))
    assert "fails" not in verdicts


@pytest.mark.slow
def test_grad_cam_stops_agreeing_with_the_trained_model(checks):
    _, results = checks
    for check in results:
        assert check.original.shape == (128, 128) and check.original.max() == pytest.approx(1.0)
        assert all(step.map.shape == (128, 128) for step in check.steps)
    # Mean over images of each step's rank correlation with the trained model's map.
    means = np.mean([[step.spearman for step in check.steps] for check in results], axis=0)
    print("\nmean Spearman with the trained Grad-CAM by step: " + ", ".join(f"{m:+.2f}" for m in means))
    assert means.max() < 0.5


def test_rank_correlation_of_maps():
    a = np.arange(16.0).reshape(4, 4)
    assert rank_correlation(a, a**3) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert rank_correlation(a, np.zeros((4, 4))) == 0.0


@pytest.mark.slow
def test_integrated_gradients_on_the_star_is_inconclusive_because_random_models_share_the_outline(shapes_model):
    """IG multiplies by the input, so any model's map outlines the star: the trained map's resemblance
    to a destroyed model's is as large as two destroyed models' to each other."""
    cache, _ = shapes_model
    sample = make_sample(TEST_SEED_START)
    check = cascading_randomization(sample.image, "shapes", method="ig", cache=cache)
    assert check.signed and check.original.min() < 0
    assert check.granularity == "stage"
    assert [s.label for s in check.steps] == ["head", "stage 4", "stage 3", "stage 2", "stage 1"]
    base = check.baseline
    print(f"\nIG: rho to the trained map {base.to_original}, between random models {base.between}")
    assert len(base.to_original) == 3 and len(base.between) == 3
    assert np.mean(base.between) >= CHANCE_FLOOR
    assert base.verdict == "inconclusive"
