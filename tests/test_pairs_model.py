"""The bundled pairs model, checked on freshly generated images it never saw in training: does it
tell "same colour" from "different colour", does it need its token mixers for that (switching them
off in every stage changes most answers), and do its Grad-CAMs point at the discs more often than
a random pixel would?"""

import numpy as np
import pytest
from PIL import Image

from poolformer_demo import ModelCache, analyze, get_variant, load_model
from poolformer_demo.knockouts import Knockouts, knocked_out
from poolformer_demo.shapes import TEST_SEED_START, pointing_game
from poolformer_demo.shapes.arms import lab_architecture
from poolformer_demo.shapes.data import dilate
from poolformer_demo.shapes.lab import LAB_CONFIGS
from poolformer_demo.shapes.measure import predictions
from poolformer_demo.shapes.pairs import PAIR_CLASS_NAMES, make_pair_dataset
from poolformer_demo.variants import PAIRS_VARIANT_NAME

pytestmark = pytest.mark.usefixtures("one_torch_thread")

IMAGES = 200
TOLERANCE_PX = 3


@pytest.fixture(scope="module")
def test_set():
    return make_pair_dataset(IMAGES, TEST_SEED_START)


@pytest.fixture(scope="module")
def model():
    return load_model(PAIRS_VARIANT_NAME).model


def test_pairs_model_is_bundled_with_the_labs_architecture(model):
    variant = get_variant(PAIRS_VARIANT_NAME)
    assert load_model(PAIRS_VARIANT_NAME).source == "bundled with the app"
    expected = lab_architecture(LAB_CONFIGS["pairs"])
    for key in ("depths", "hidden_sizes", "patch_sizes", "strides", "padding", "pool_size"):
        assert list(getattr(model.config, key)) == list(getattr(expected, key)), key
    assert [model.config.id2label[i] for i in range(2)] == list(PAIR_CLASS_NAMES)
    assert variant.depths == (2, 2, 6, 2)


def test_accuracy_on_unseen_images(model, test_set):
    accuracy = float((predictions(model, test_set.images) == test_set.labels).mean())
    print(f"pairs model accuracy: {accuracy:.1%}")
    assert accuracy >= 0.9


def test_switching_the_token_mixer_off_everywhere_changes_most_answers(model, test_set):
    before = predictions(model, test_set.images)
    after = predictions(knocked_out(model, Knockouts(mixer=(1, 2, 3, 4))), test_set.images)
    changed = float((before != after).mean())
    accuracy_after = float((after == test_set.labels).mean())
    print(f"mixer off in every stage: {changed:.1%} of answers change, accuracy {accuracy_after:.1%}")
    assert changed > 0.5 or accuracy_after < 0.65


def test_grad_cam_points_at_the_discs_more_often_than_a_random_pixel(test_set):
    cache = ModelCache(capacity=1)
    cams = np.stack(
        [
            analyze(Image.fromarray(image), PAIRS_VARIANT_NAME, target=int(label), cache=cache).stages[-1].cam
            for image, label in zip(test_set.images[:100], test_set.labels[:100])
        ]
    )
    masks = test_set.masks[:100]
    hits = float(pointing_game(cams, masks, TOLERANCE_PX).mean())
    chance = float(np.mean([dilate(m, TOLERANCE_PX).mean() for m in masks]))
    print(f"pairs pointing game: {hits:.1%} (a random pixel: {chance:.1%})")
    assert hits > 2 * chance
