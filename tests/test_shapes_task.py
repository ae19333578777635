"""The shapes task's package: the generator and its scoring, the budgeted training loop, and the
recipe of the bundled model (checked against the shipped files, which are not rebuilt here)."""

import json
import threading

import numpy as np
import pytest
import torch
from paths import EXAMPLES
from PIL import Image
from transformers import PoolFormerForImageClassification
from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

from poolformer_demo.shapes import TEST_SEED_START, make_dataset, make_sample, pointing_game
from poolformer_demo.shapes.checkpoint import make_image_processor, shapes_config
from poolformer_demo.shapes.cli import main
from poolformer_demo.shapes.data import CLASS_NAMES, write_examples
from poolformer_demo.shapes.train import StepReport, TrainSettings, fit, init_weights, to_pixel_values
from poolformer_demo.variants import SHAPES_DIR

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ARCHITECTURE_KEYS = (
    "depths",
    "hidden_sizes",
    "patch_sizes",
    "strides",
    "padding",
    "pool_size",
    "mlp_ratio",
    "use_layer_scale",
    "hidden_act",
)


@pytest.fixture(scope="module")
def small_data(one_torch_thread):
    return make_dataset(96, seed=0)


def _tiny_model(seed=0):
    torch.manual_seed(seed)  # the classifier's initialisation
    config = shapes_config()
    config.hidden_sizes = [8, 16, 24, 32]
    config.depths = [1, 1, 1, 1]
    model = PoolFormerForImageClassification(config)
    init_weights(model, seed)
    return model


def test_shapes_config_is_the_shipped_architecture():
    shipped = json.loads((SHAPES_DIR / "config.json").read_text())
    built = shapes_config().to_dict()
    assert {k: built[k] for k in ARCHITECTURE_KEYS} == {k: shipped[k] for k in ARCHITECTURE_KEYS}
    assert {int(k): v for k, v in shipped["id2label"].items()} == dict(enumerate(CLASS_NAMES))
    assert built["layer_scale_init_value"] == shipped["layer_scale_init_value"]


def test_image_processor_is_the_shipped_one_with_transformers_imagenet_constants():
    shipped = json.loads((SHAPES_DIR / "preprocessor_config.json").read_text())
    built = json.loads(make_image_processor().to_json_string())
    assert {k: built[k] for k in shipped} == shipped
    assert built["image_mean"] == list(IMAGENET_DEFAULT_MEAN) and built["image_std"] == list(IMAGENET_DEFAULT_STD)


def test_pixel_values_match_the_image_processor(small_data):
    ours = to_pixel_values(small_data.images[:4])
    theirs = make_image_processor()(images=[Image.fromarray(im) for im in small_data.images[:4]], return_tensors="pt")[
        "pixel_values"
    ]
    assert torch.allclose(ours, theirs, atol=1e-5)


def test_examples_command_regenerates_the_shipped_examples(tmp_path):
    assert main(["examples", "--out", str(tmp_path)]) == 0
    for name in CLASS_NAMES:
        written = np.asarray(Image.open(tmp_path / f"shapes_{name}.png").convert("RGB"))
        shipped = np.asarray(Image.open(EXAMPLES / f"shapes_{name}.png").convert("RGB"))
        assert np.array_equal(written, shipped), name


def test_write_examples_draws_one_image_per_class(tmp_path):
    paths = write_examples(tmp_path)
    assert [p.name for p in paths] == [f"shapes_{name}.png" for name in CLASS_NAMES]


def test_pointing_game_hits_on_the_object_and_within_the_tolerance():
    sample = make_sample(TEST_SEED_START)
    ys, xs = np.nonzero(sample.mask)
    on, off = np.zeros((128, 128)), np.zeros((128, 128))
    on[ys[0], xs[0]] = 1.0
    outside = np.argwhere(~sample.mask)
    distance = np.abs(outside - [ys[0], xs[0]]).sum(axis=1)
    far = outside[distance.argmax()]
    off[far[0], far[1]] = 1.0
    masks = np.stack([sample.mask, sample.mask])
    assert pointing_game(np.stack([on, off]), masks).tolist() == [True, False]
    # One pixel beside the object: a hit with a tolerance, a miss without.
    edge = np.argwhere(~sample.mask & np.roll(sample.mask, 1, axis=1))[0]
    beside = np.zeros((128, 128))
    beside[edge[0], edge[1]] = 1.0
    assert pointing_game(beside[None], sample.mask[None], tolerance_px=1)[0]
    assert not pointing_game(beside[None], sample.mask[None], tolerance_px=0)[0]


def test_pointing_game_refuses_maps_and_masks_of_different_shapes():
    with pytest.raises(ValueError, match="must both be"):
        pointing_game(np.zeros((2, 4, 4)), np.zeros((2, 128, 128), bool))


def test_fit_trains_for_its_step_budget_and_reports_every_step(small_data):
    model = _tiny_model()
    before = [p.detach().clone() for p in model.parameters()]
    reports: list[StepReport] = []
    result = fit(model, small_data, 7, TrainSettings(batch_size=16, seg_weight=0.0), progress=reports.append)
    assert (result.steps, result.total_steps, result.stopped) == (7, 7, False)
    assert [r.step for r in reports] == list(range(1, 8))
    assert all(r.total_steps == 7 for r in reports)
    assert [r.loss for r in reports] == list(result.losses)
    assert all(np.isfinite(result.losses)) and all(0.0 <= a <= 1.0 for a in result.accuracies)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_fit_with_the_auxiliary_loss_runs_on_full_size_images(small_data):
    result = fit(_tiny_model(), small_data, 2, TrainSettings(batch_size=16, seg_weight=0.5))
    assert result.steps == 2 and all(np.isfinite(result.losses))


def test_fit_stops_when_the_callable_says_so(small_data):
    reports = []
    result = fit(
        _tiny_model(),
        small_data,
        50,
        TrainSettings(batch_size=16, seg_weight=0.0),
        progress=reports.append,
        should_stop=lambda: len(reports) >= 3,
    )
    assert (result.steps, result.stopped, len(reports)) == (3, True, 3)


def test_fit_stops_at_once_on_a_set_event(small_data):
    flag = threading.Event()
    flag.set()
    model = _tiny_model()
    before = [p.detach().clone() for p in model.parameters()]
    result = fit(model, small_data, 50, TrainSettings(batch_size=16), should_stop=flag)
    assert (result.steps, result.stopped) == (0, True)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_fit_is_reproducible_from_its_seed(small_data):
    settings = TrainSettings(batch_size=16, seg_weight=0.0, seed=3)
    first = fit(_tiny_model(), small_data, 4, settings)
    second = fit(_tiny_model(), small_data, 4, settings)
    assert first.losses == second.losses


def test_fit_refuses_fewer_images_than_one_batch(small_data):
    with pytest.raises(ValueError, match="fewer than one batch"):
        fit(_tiny_model(), small_data, 1, TrainSettings(batch_size=128))
