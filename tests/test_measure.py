"""The model-card measurements: MACs counted from the layers, the mixer-free field of a stage-4
position, and knockouts on the bundled shapes model (which does not need its token mixers)."""

import numpy as np
import pytest
import torch
from transformers import PoolFormerForImageClassification

from poolformer_demo import SHAPES_VARIANT_NAME, load_model
from poolformer_demo.knockouts import Knockouts, knocked_out
from poolformer_demo.shapes import TEST_SEED_START, make_dataset
from poolformer_demo.shapes.arms import build_arm_model, lab_architecture
from poolformer_demo.shapes.lab import LAB_CONFIGS
from poolformer_demo.shapes.measure import count_macs, mixerless_field, predictions
from poolformer_demo.shapes.train import to_pixel_values

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
