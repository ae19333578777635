"""Cascading model randomisation on a copy: the cached model stays as it was, the layers go from
the top down, and Grad-CAM on the trained shapes model stops agreeing with itself."""

import numpy as np
import pytest
import torch

from poolformer_demo.errors import InvalidSettingError
from poolformer_demo.sanity import (
    cascading_randomization,
    randomization_order,
    rank_correlation,
    reinitialize,
    shared_copy,
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


def test_the_cached_model_is_unchanged_afterwards(shapes_model, checks):
    _, loaded = shapes_model
    before, _ = checks
    after = loaded.model.state_dict()
    assert set(after) == set(before)
    assert all(torch.equal(after[name], before[name]) for name in before)


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
    for name, parameter in copy.named_parameters():
        if name.startswith(path):
            assert parameter is not original[name]
            if "conv" in name and name.endswith("weight"):
                assert not torch.equal(parameter, original[name])
        else:
            assert parameter is original[name]


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


def test_pixel_methods_run_through_the_same_steps(shapes_model):
    cache, _ = shapes_model
    sample = make_sample(TEST_SEED_START)
    check = cascading_randomization(sample.image, "shapes", method="smoothgrad", granularity="stage", cache=cache)
    assert check.signed and check.original.min() < 0
    assert [s.label for s in check.steps] == ["head", "stage 4", "stage 3", "stage 2", "stage 1"]
    assert all(-1.0 <= s.spearman <= 1.0 for s in check.steps)
