"""The pairs task: its generator (deterministic, masks, balanced labels, far-apart discs), the
seed split, the dataset cache, and why it needs token mixing (through the patch embeddings alone,
no stage-4 position of the lab's architecture sees any part of both discs)."""

import numpy as np
import pytest
import torch

from poolformer_demo.shapes import TEST_SEED_START, TRAIN_SEED_START, VAL_SEED_START
from poolformer_demo.shapes import tasks as tasks_module
from poolformer_demo.shapes.arms import build_arm_model, lab_architecture
from poolformer_demo.shapes.lab import LAB_CONFIGS
from poolformer_demo.shapes.pairs import (
    COLOUR_NAMES,
    MIN_EDGE_GAP,
    PAIR_CLASS_NAMES,
    edge_gap,
    make_pair_dataset,
    make_pair_sample,
    write_pair_examples,
)
from poolformer_demo.shapes.tasks import TASKS, Task, cached_dataset

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def samples():
    return [make_pair_sample(s) for s in range(TEST_SEED_START, TEST_SEED_START + 60)]


def test_same_seed_gives_identical_pixels_masks_and_label():
    first, second = make_pair_sample(1234), make_pair_sample(1234)
    assert np.array_equal(np.asarray(first.image), np.asarray(second.image))
    assert np.array_equal(first.masks, second.masks)
    assert (first.label, first.colours) == (second.label, second.colours)
    assert not np.array_equal(np.asarray(first.image), np.asarray(make_pair_sample(1236).image))


def test_every_sample_has_two_disjoint_disc_masks_of_disc_size(samples):
    for sample in samples:
        assert sample.masks.shape == (2, 128, 128) and sample.masks.dtype == bool
        assert not (sample.masks[0] & sample.masks[1]).any()
        areas = sample.masks.sum(axis=(1, 2))
        # radius 8-10 px; the rasteriser adds up to a pixel all round
        assert np.all((areas > np.pi * 7.5**2) & (areas < np.pi * 11**2))
        assert np.array_equal(sample.mask, sample.masks[0] | sample.masks[1])


def test_disc_pixels_show_the_discs_colour(samples):
    for sample in samples:
        pixels = np.asarray(sample.image, dtype=np.float32)
        for mask, colour in zip(sample.masks, sample.colours):
            mean = pixels[mask].mean(axis=0)
            assert int(np.argmax(mean)) == colour, (sample.seed, COLOUR_NAMES[colour], mean)


def test_label_says_whether_the_colours_match(samples):
    for sample in samples:
        assert sample.label == int(sample.colours[0] != sample.colours[1])
        assert sample.label_name == PAIR_CLASS_NAMES[sample.label]


def test_labels_are_balanced_over_any_run_of_consecutive_seeds():
    for start in (TRAIN_SEED_START, TEST_SEED_START + 7):
        labels = make_pair_dataset(50, start).labels
        assert abs(int(labels.sum()) - 25) <= 1


def test_discs_are_further_apart_than_a_mixer_free_field_reaches(samples):
    assert MIN_EDGE_GAP == 72
    assert min(edge_gap(s) for s in samples) >= MIN_EDGE_GAP


def test_seed_ranges_do_not_overlap():
    assert TRAIN_SEED_START + 4000 < VAL_SEED_START < TEST_SEED_START
    assert LAB_CONFIGS["pairs"].train_size < VAL_SEED_START - TRAIN_SEED_START


def test_examples_are_written_for_both_labels(tmp_path):
    paths = write_pair_examples(tmp_path)
    assert sorted(p.name for p in paths) == [
        "pairs_different_0.png",
        "pairs_different_1.png",
        "pairs_same_0.png",
        "pairs_same_1.png",
    ]
    assert all(p.stat().st_size > 1000 for p in paths)


def _stage4_field(model, size: int) -> np.ndarray:
    """Per stage-4 position, the input pixels its value depends on (bool, (cells, cells, H, W))."""
    model.eval()
    x = torch.randn(1, 3, size, size, requires_grad=True)
    deepest = model(pixel_values=x, output_hidden_states=True).hidden_states[-1]
    cells = deepest.shape[-1]
    fields = np.zeros((cells, cells, size, size), dtype=bool)
    for i in range(cells):
        for j in range(cells):
            (grad,) = torch.autograd.grad(deepest[0, :, i, j].sum(), x, retain_graph=True)
            fields[i, j] = grad[0].abs().sum(0).numpy() > 0
    return fields


def test_without_token_mixing_no_stage4_position_sees_any_part_of_both_discs(samples):
    config = LAB_CONFIGS["pairs"]
    # With PoolFormer's GroupNorm every position would depend on every pixel (the next test); the
    # control's per-position norm leaves only the patch embeddings to widen the field.
    model = build_arm_model("identity", lab_architecture(config), config.image_size, seed=0, norm="position")
    fields = _stage4_field(model, config.image_size)
    # The patch embeddings alone: 7 + 2 * (4 + 8 + 16) = 63 px, under half the 128 px image.
    rows, cols = fields.any(axis=3), fields.any(axis=2)
    assert rows.sum(axis=-1).max() <= 63 and cols.sum(axis=-1).max() <= 63
    for sample in samples:
        sees = [(fields & m).any(axis=(2, 3)) for m in sample.masks]
        assert sees[0].any() and sees[1].any(), sample.seed
        assert not (sees[0] & sees[1]).any(), sample.seed


def test_with_poolformers_group_norm_every_stage4_position_depends_on_every_pixel():
    config = LAB_CONFIGS["pairs"]
    model = build_arm_model("identity", lab_architecture(config), config.image_size, seed=0)
    fields = _stage4_field(model, config.image_size)
    # No token mixer, yet the norms' mean and variance over the whole map reach every position.
    assert fields.all()


def test_cache_generates_once_and_returns_the_same_arrays(tmp_path, monkeypatch):
    monkeypatch.setenv("POOLFORMER_CACHE_DIR", str(tmp_path))
    calls = []

    def counting(count, first_seed):
        calls.append((count, first_seed))
        return make_pair_dataset(count, first_seed)

    task = Task("pairs", "test", PAIR_CLASS_NAMES, counting, 1, needs_mixing=True)
    first = cached_dataset(task, 6, TEST_SEED_START, 64)
    second = cached_dataset(task, 6, TEST_SEED_START, 64)
    assert calls == [(6, TEST_SEED_START)]
    assert first.images.shape == (6, 64, 64, 3) and first.masks.shape == (6, 128, 128)
    for a, b in zip(first, second):
        assert np.array_equal(a, b)
    assert np.array_equal(second.masks, make_pair_dataset(6, TEST_SEED_START).masks)
    assert not list(tmp_path.glob("*.partial"))


def test_cache_keys_differ_by_task_size_and_seeds(tmp_path, monkeypatch):
    monkeypatch.setenv("POOLFORMER_CACHE_DIR", str(tmp_path))
    cached_dataset("pairs", 3, TEST_SEED_START, 64)
    cached_dataset("pairs", 3, TEST_SEED_START + 3, 64)
    cached_dataset("shapes", 3, TEST_SEED_START, 64)
    cached_dataset("pairs", 3, TEST_SEED_START, 128)
    assert len(list(tmp_path.glob("*.npz"))) == 4


def test_a_damaged_cache_file_is_regenerated(tmp_path, monkeypatch):
    monkeypatch.setenv("POOLFORMER_CACHE_DIR", str(tmp_path))
    cached_dataset("pairs", 3, TEST_SEED_START, 64)
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(b"not an npz file")
    again = cached_dataset("pairs", 3, TEST_SEED_START, 64)
    assert np.array_equal(again.labels, make_pair_dataset(3, TEST_SEED_START).labels)


def test_both_tasks_are_registered_with_their_labels():
    assert set(TASKS) == {"shapes", "pairs"}
    assert TASKS["pairs"].class_names == PAIR_CLASS_NAMES


def test_cache_lives_in_the_users_cache_unless_the_environment_says_otherwise(tmp_path, monkeypatch):
    monkeypatch.delenv("POOLFORMER_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert tasks_module.cache_dir() == tmp_path / ".cache" / "poolformer_demo"
    monkeypatch.setenv("POOLFORMER_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert tasks_module.cache_dir() == tmp_path / "elsewhere"


def test_shipped_pair_examples_are_what_the_generator_draws(tmp_path):
    from PIL import Image

    from poolformer_demo.shapes.data import EXAMPLES_DIR

    for path in write_pair_examples(tmp_path):
        shipped = np.asarray(Image.open(EXAMPLES_DIR / path.name).convert("RGB"))
        assert np.array_equal(shipped, np.asarray(Image.open(path).convert("RGB"))), path.name
