"""The model-card measurements: MACs counted from the layers, the mixer-free field of a stage-4
position, knockouts on the bundled shapes model (which does not need its token mixers), and the
norms' path between positions on the bundled pairs model (which compares its discs through it)."""

import numpy as np
import pytest
import torch
from transformers import PoolFormerForImageClassification

from poolformer_demo import SHAPES_VARIANT_NAME, load_model
from poolformer_demo.knockouts import Knockouts, knocked_out
from poolformer_demo.shapes import TEST_SEED_START, VAL_SEED_START, make_dataset
from poolformer_demo.shapes.arms import build_arm_model, lab_architecture
from poolformer_demo.shapes.lab import LAB_CONFIGS
from poolformer_demo.shapes.measure import (
    FixedStatisticsNorm,
    count_macs,
    mixerless_field,
    predictions,
    with_fixed_norm_statistics,
)
from poolformer_demo.shapes.pairs import make_pair_dataset
from poolformer_demo.shapes.train import to_pixel_values
from poolformer_demo.variants import PAIRS_VARIANT_NAME

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_macs_are_counted_from_the_convolutions_and_the_classifier():
    config = lab_architecture(LAB_CONFIGS["pairs"])
    model = PoolFormerForImageClassification(config)
    # Patch embeddings (7x7 stride 4, then 3x3 stride 2): output positions x output channels x
    # (input channels x kernel area).
    embeddings = 32 * 32 * 16 * (3 * 49) + 16 * 16 * 32 * (16 * 9) + 8 * 8 * 48 * (32 * 9) + 4 * 4 * 64 * (48 * 9)
    mlps = sum(
        depth * side * side * 2 * width * 4 * width
        for depth, side, width in zip(config.depths, (32, 16, 8, 4), config.hidden_sizes)
    )
    assert count_macs(model, 128) == embeddings + mlps + 64 * 2


def test_without_mixers_a_lab_stage4_position_sees_under_half_the_image():
    config = LAB_CONFIGS["pairs"]
    model = build_arm_model("pooling", lab_architecture(config), config.image_size, seed=0)
    images = make_dataset(4, TEST_SEED_START).images
    field = mixerless_field(model, images)
    # 7 px stem, then each 3x3 embedding adds 2 steps of the stride before it (4, 8, 16).
    assert field.theoretical_px == 7 + 2 * (4 + 8 + 16) == 63 and field.image_size == 128
    assert field.half_mass_px <= 63
    assert field.share_within_theoretical > 0.9


def test_switching_the_token_mixer_off_everywhere_barely_changes_the_shapes_models_answers():
    model = load_model(SHAPES_VARIANT_NAME).model
    data = make_dataset(100, TEST_SEED_START)
    before = predictions(model, data.images)
    after = predictions(knocked_out(model, Knockouts(mixer=(1, 2, 3, 4))), data.images)
    assert float((before == data.labels).mean()) >= 0.95
    assert float((before != after).mean()) <= 0.05


def test_predictions_are_the_argmax_of_the_logits():
    model = build_arm_model("identity", lab_architecture(LAB_CONFIGS["shapes"]), 128, seed=1).eval()
    images = make_dataset(3, TEST_SEED_START).images
    with torch.no_grad():
        expected = model(pixel_values=to_pixel_values(images)).logits.argmax(-1).numpy()
    assert np.array_equal(predictions(model, images, batch_size=2), expected)


def _pairs_model():
    return load_model(PAIRS_VARIANT_NAME).model


def test_the_pairs_model_answers_through_its_norms_not_its_token_mixers():
    model = _pairs_model()
    data = make_pair_dataset(100, TEST_SEED_START)
    before = predictions(model, data.images)
    mixer_off = predictions(knocked_out(model, Knockouts(mixer=(1, 2, 3, 4))), data.images)
    fixed = with_fixed_norm_statistics(model, make_pair_dataset(40, VAL_SEED_START).images)
    assert float((before == data.labels).mean()) >= 0.95
    assert float((mixer_off != before).mean()) <= 0.05
    # With the norms' statistics fixed nothing passes between the discs: a guess (one class for all).
    assert abs(float((predictions(fixed, data.images) == data.labels).mean()) - 0.5) <= 0.1


def test_a_norm_with_fixed_statistics_is_the_group_norm_when_given_the_images_own():
    norm = torch.nn.GroupNorm(1, 8)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 2.0)
        norm.bias.uniform_(-1.0, 1.0)
    x = torch.randn(1, 8, 5, 5) * 3 + 1
    own = FixedStatisticsNorm(norm, float(x.mean()), float(x.var(unbiased=False)))
    torch.testing.assert_close(own(x), norm(x), rtol=1e-5, atol=1e-5)
    # Another image's statistics: the values move, the map's shape does not.
    other = FixedStatisticsNorm(norm, 0.0, 1.0)
    assert not torch.allclose(other(x), norm(x)) and other(x).shape == x.shape


def test_fixing_the_norm_statistics_leaves_the_model_itself_unchanged():
    model = _pairs_model()
    images = make_pair_dataset(6, TEST_SEED_START).images
    before = predictions(model, images)
    fixed = with_fixed_norm_statistics(model, images)
    norms = [m for m in fixed.modules() if isinstance(m, FixedStatisticsNorm)]
    # Two norms per block and the one before the classifier.
    assert len(norms) == 2 * sum(model.config.depths) + 1
    assert not any(isinstance(m, FixedStatisticsNorm) for m in model.modules())
    assert np.array_equal(predictions(model, images), before)
    assert all(
        n.weight is dict(model.named_parameters())[f"{name}.weight"]
        for name, n in fixed.named_modules()
        if isinstance(n, FixedStatisticsNorm)
    )
