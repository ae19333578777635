"""What carries information between positions: the norms' statistics swapped between images, the
positions shuffled after a patch embedding, and the windows that hold a whole object; and the
bundled models' files that quote them."""

import json
import shutil

import numpy as np
import pytest
import torch

from poolformer_demo import load_model
from poolformer_demo.shapes import TEST_SEED_START
from poolformer_demo.shapes.architecture import shapes_config
from poolformer_demo.shapes.arms import build_arm_model, lab_architecture
from poolformer_demo.shapes.lab import LAB_CONFIGS
from poolformer_demo.shapes.measure import MEASUREMENT_FILE
from poolformer_demo.shapes.pairs import make_pair_dataset
from poolformer_demo.shapes.position_paths import (
    donors,
    norm_stage,
    norm_statistics,
    object_windows,
    one_group_norms,
    statistics_swap,
    swapped_predictions,
    with_fixed_norm_statistics,
    with_norm_statistics,
    with_shuffled_positions,
)
from poolformer_demo.shapes.tasks import TASKS
from poolformer_demo.shapes.train import predictions, to_pixel_values
from poolformer_demo.variants import PAIRS_DIR, SHAPES_DIR, BundledFacts

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def pairs_model():
    return load_model("pairs").model.eval()


@pytest.fixture(scope="module")
def pairs_data():
    return make_pair_dataset(60, TEST_SEED_START)


def _logits(model, images):
    with torch.no_grad():
        return model.eval()(pixel_values=to_pixel_values(images)).logits


def test_each_donor_has_the_other_label_or_the_same_label_and_is_never_the_image_itself():
    labels = np.array([0, 1, 1, 0, 2, 0])
    other, same = donors(labels, same_label=False), donors(labels, same_label=True)
    assert all(labels[other] != labels) and all(labels[same] == labels)
    assert list(other) == [1, 3, 3, 4, 5, 1] and list(same) == [3, 2, 1, 5, 4, 0]
    # A label held by one image only has no other image to give: the image keeps its own statistics.
    assert same[4] == 4


def test_a_norm_given_each_images_own_statistics_is_the_group_norm(pairs_model, pairs_data):
    images = pairs_data.images[:8]
    own = {
        name: (torch.from_numpy(s[:, 0]), torch.from_numpy(s[:, 1]))
        for name, s in norm_statistics(pairs_model, images).items()
    }
    torch.testing.assert_close(
        _logits(with_norm_statistics(pairs_model, own), images), _logits(pairs_model, images), rtol=1e-4, atol=1e-4
    )


def test_swapping_in_each_images_own_statistics_changes_no_answer(pairs_model, pairs_data):
    statistics = norm_statistics(pairs_model, pairs_data.images)
    itself = np.arange(len(pairs_data.labels))
    swapped = swapped_predictions(
        pairs_model, pairs_data.images, statistics, itself, stages=(1, 2, 3, 4), batch_size=25
    )
    assert np.array_equal(swapped, predictions(pairs_model, pairs_data.images))


def test_the_pairs_models_answers_follow_a_donor_of_the_other_label(pairs_model, pairs_data):
    swap = statistics_swap(pairs_model, pairs_data.images, pairs_data.labels, same_label=False)
    # Two numbers per norm, from an image whose discs match where this one's do not (or the reverse),
    # turn the answer round.
    assert swap.donor == "other label" and swap.to_donor_label >= 0.9 and swap.kept <= 0.1
    assert len(swap.stage_to_donor_label) == len(swap.stage_kept) == 4


def test_the_pairs_model_keeps_most_answers_with_a_donor_of_the_same_label(pairs_model, pairs_data):
    swap = statistics_swap(pairs_model, pairs_data.images, pairs_data.labels, same_label=True)
    assert swap.donor == "same label" and swap.kept >= 0.9


def test_a_norm_belongs_to_its_blocks_stage_and_the_last_norm_to_the_last_stage(pairs_model):
    stages = [norm_stage(name, 4) for name in one_group_norms(pairs_model)]
    assert stages == [s for s, depth in zip((1, 2, 3, 4), pairs_model.config.depths) for _ in range(2 * depth)] + [4]


def test_swapping_one_stages_statistics_reads_no_other_stages_statistics(pairs_model, pairs_data):
    images = pairs_data.images[:20]
    statistics = norm_statistics(pairs_model, images)
    # Nonsense statistics everywhere but in stage 3: swapping stage 3 alone must not see them.
    nonsense = {
        name: (s if norm_stage(name, 4) == 3 else np.tile([50.0, 1e-6], (len(s), 1))) for name, s in statistics.items()
    }
    reverse = np.arange(len(images))[::-1].copy()
    stage3 = swapped_predictions(pairs_model, images, statistics, reverse, stages=(3,))
    assert np.array_equal(swapped_predictions(pairs_model, images, nonsense, reverse, stages=(3,)), stage3)
    everywhere = swapped_predictions(pairs_model, images, nonsense, reverse, stages=(1, 2, 3, 4))
    assert not np.array_equal(
        everywhere, swapped_predictions(pairs_model, images, statistics, reverse, stages=(1, 2, 3, 4))
    )


def test_fixed_statistics_make_the_pairs_model_give_one_answer_for_almost_every_image(pairs_model, pairs_data):
    fixed = with_fixed_norm_statistics(pairs_model, make_pair_dataset(40, 10_000_000).images)
    answers = predictions(fixed, pairs_data.images)
    assert np.bincount(answers, minlength=2).max() / len(answers) >= 0.95


def test_shuffling_positions_after_the_last_patch_embedding_leaves_a_mixerless_network_unchanged():
    # With the identity as token mixer nothing after the stage-4 embedding depends on where a value is
    # (per-position MLPs, norms over the whole map, a mean over positions); the stage-2 embedding is a
    # convolution over neighbours, so a shuffle before it changes the logits.
    config = LAB_CONFIGS["pairs"]
    model = build_arm_model("identity", lab_architecture(config), config.image_size, seed=0).eval()
    images = make_pair_dataset(4, TEST_SEED_START).images
    before = _logits(model, images)
    torch.testing.assert_close(_logits(with_shuffled_positions(model, 4), images), before, rtol=1e-4, atol=1e-4)
    assert not torch.allclose(_logits(with_shuffled_positions(model, 1), images), before, atol=1e-4)
    torch.testing.assert_close(_logits(model, images), before)  # the model itself is not changed


def _square_masks(boxes, size=128):
    masks = np.zeros((len(boxes), size, size), dtype=bool)
    for mask, (top, left, side) in zip(masks, boxes):
        mask[top : top + side, left : left + side] = True
    return masks


def test_an_object_counts_as_in_view_only_when_every_pixel_is_inside_a_window():
    # The shapes model's stage 4: windows of 92 px every 32 px from -30 (clipped to the image), the
    # middle position (2, 2) seeing rows and columns 34 to 125.
    config = shapes_config()
    inside_middle = (40, 40, 80)
    inside_a_corner_window_only = (0, 0, 40)
    wider_than_any_window = (10, 10, 100)
    masks = _square_masks([inside_middle, inside_a_corner_window_only, wider_than_any_window])
    assert object_windows(masks[:1], config) == (1.0, 1.0)
    assert object_windows(masks[1:2], config) == (0.0, 1.0)
    assert object_windows(masks[2:], config) == (0.0, 0.0)
    assert object_windows(masks, config) == pytest.approx((1 / 3, 2 / 3))


@pytest.mark.parametrize("task, folder", [("shapes", SHAPES_DIR), ("pairs", PAIRS_DIR)])
def test_the_shipped_window_counts_are_those_of_the_test_images(task, folder):
    measured = json.loads((folder / MEASUREMENT_FILE).read_text())
    data = TASKS[task].generate(measured["images"], TEST_SEED_START)
    config = load_model(task).model.config
    assert object_windows(data.masks, config) == (
        measured["object_in_middle_window"],
        measured["object_in_some_window"],
    )


def test_bundled_facts_read_the_swap_the_shuffle_and_the_windows(tmp_path):
    for name in ("training.json", MEASUREMENT_FILE):
        shutil.copy(PAIRS_DIR / name, tmp_path / name)
    facts = BundledFacts.read(tmp_path)
    measured = json.loads((PAIRS_DIR / MEASUREMENT_FILE).read_text())
    assert facts.swap_other_to_donor == measured["swap_other_label"]["to_donor_label"]
    assert facts.swap_same_kept == measured["swap_same_label"]["kept"]
    assert facts.swap_other_stage_to_donor == tuple(measured["swap_other_label"]["stage_to_donor_label"])
    assert facts.shuffled_changed == tuple(measured["shuffled_changed"])
    assert (facts.fixed_norm_answer, facts.fixed_norm_answer_share) == (
        measured["fixed_norm_answer"],
        measured["fixed_norm_answer_share"],
    )
    # Altered data: the facts follow the file.
    measured["swap_other_label"]["to_donor_label"] = 0.25
    measured["fixed_norm_answer"] = "same colour"
    (tmp_path / MEASUREMENT_FILE).write_text(json.dumps(measured))
    altered = BundledFacts.read(tmp_path)
    assert (altered.swap_other_to_donor, altered.fixed_norm_answer) == (0.25, "same colour")


def test_an_older_measurement_file_without_the_new_fields_still_gives_the_models_facts(tmp_path):
    shutil.copy(PAIRS_DIR / "training.json", tmp_path / "training.json")
    measured = json.loads((PAIRS_DIR / MEASUREMENT_FILE).read_text())
    for key in (
        "fixed_norm_answer",
        "fixed_norm_answer_share",
        "swap_other_label",
        "swap_same_label",
        "shuffled_changed",
        "object_in_middle_window",
        "object_in_some_window",
    ):
        measured.pop(key, None)
    (tmp_path / MEASUREMENT_FILE).write_text(json.dumps(measured))
    facts = BundledFacts.read(tmp_path)
    assert facts is not None and facts.accuracy == measured["accuracy"]
    assert facts.swap_other_to_donor is None and facts.shuffled_changed is None and facts.fixed_norm_answer is None
