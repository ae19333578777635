"""The ablation lab: every arm trains, holds the part it claims to swap and nothing else changes
(on both tasks' architectures); runs report progress, stop when asked, read their data from the
cache, and their results survive a round trip to JSON; the shipped references use the live runs'
configuration."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image
from torch import nn
from transformers.models.poolformer.modeling_poolformer import PoolFormerLayer, PoolFormerOutput

from poolformer_demo import SHAPES_VARIANT_NAME, ModelCache, analyze
from poolformer_demo.plots import figure_to_rgb
from poolformer_demo.shapes import TEST_SEED_START, make_dataset, tasks
from poolformer_demo.shapes.arms import (
    ARM_NAMES,
    ARMS,
    MAX_RANDOM_TOKENS,
    NoResidualLayer,
    PositionNorm,
    RandomMixing,
    build_arm_model,
    lab_architecture,
)
from poolformer_demo.shapes.cli import main
from poolformer_demo.shapes.lab import LAB_CONFIGS, LIVE_STEPS, REFERENCE_SEEDS, LabConfig, deepest_cams, run_lab
from poolformer_demo.shapes.lab_results import (
    load_reference,
    load_result,
    merge_results,
    plot_curves,
    reference_command,
    reference_path,
    save_result,
    summarize,
)
from poolformer_demo.shapes.train import TrainSettings, fit
from poolformer_demo.variants import PAPER_S12_ABLATIONS

pytestmark = pytest.mark.usefixtures("one_torch_thread")

STEPS = 24
SMALL = LabConfig(image_size=64, steps=STEPS, train_size=128, eval_size=40, batch_size=16)
TASK_NAMES = tuple(LAB_CONFIGS)


def _layers(model):
    return [layer for stage in model.poolformer.encoder.block for layer in stage]


def _shapes(model, without: str = "") -> dict:
    return {n: tuple(p.shape) for n, p in model.named_parameters() if not (without and f".{without}." in n)}


@pytest.fixture(scope="module", autouse=True)
def data_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        root = tmp_path_factory.mktemp("data-cache")
        patch.setenv(tasks.CACHE_ENV, str(root))
        yield root


@pytest.fixture(scope="module")
def lab(one_torch_thread, data_cache):
    reports = []
    result = run_lab(ARM_NAMES, config=SMALL, progress=reports.append)
    return result, reports


def _build(name, task, seed=0):
    config = LAB_CONFIGS[task]
    return build_arm_model(name, lab_architecture(config), config.image_size, seed=seed)


@pytest.fixture(scope="module", params=TASK_NAMES)
def models(request):
    return {name: _build(name, request.param) for name in ARM_NAMES}


@pytest.mark.slow
def test_every_arm_trains_a_few_dozen_steps_and_is_scored(lab):
    result, _ = lab
    assert [r.arm for r in result.runs] == list(ARM_NAMES)
    assert not result.stopped
    for run in result.runs:
        assert run.steps == STEPS and run.curve[-1].step == STEPS
        assert 0.0 <= run.accuracy <= 1.0 and 0.0 <= run.pointing_game <= 1.0
        assert all(np.isfinite(p.loss) for p in run.curve)
    assert 0.0 < result.centre_baseline <= 1.0


@pytest.mark.slow
def test_progress_is_reported_after_every_step_of_every_run(lab):
    result, reports = lab
    assert len(reports) == len(ARM_NAMES) * STEPS
    assert [r.step for r in reports[:STEPS]] == list(range(1, STEPS + 1))
    assert reports[-1].fraction == pytest.approx(1.0)
    assert [len(r.finished) for r in reports[::STEPS]] == list(range(len(ARM_NAMES)))
    assert reports[-1].curve == result.runs[-1].curve


@pytest.mark.slow
def test_the_stop_callable_ends_the_lab_early():
    calls = []
    result = run_lab(
        ("pooling", "identity", "conv"),
        config=SMALL,
        progress=calls.append,
        should_stop=lambda: len(calls) >= STEPS + 5,
    )
    assert result.stopped
    assert [r.arm for r in result.runs] == ["pooling"]
    assert len(calls) == STEPS + 5


def test_unknown_arms_are_refused():
    with pytest.raises(ValueError, match="known arms"):
        run_lab(("pooling", "attention"), 2, (0,), config=SMALL)


def test_identity_arm_has_no_pooling(models):
    assert not any(isinstance(m, nn.AvgPool2d) for m in models["identity"].modules())
    assert all(isinstance(layer.pooling, nn.Identity) for layer in _layers(models["identity"]))
    assert any(isinstance(m, nn.AvgPool2d) for m in models["pooling"].modules())


def test_conv_arm_mixes_tokens_with_depthwise_3x3_convolutions(models):
    config = models["conv"].config
    widths = [w for w, depth in zip(config.hidden_sizes, config.depths) for _ in range(depth)]
    for layer, channels in zip(_layers(models["conv"]), widths, strict=True):
        conv = layer.pooling
        assert isinstance(conv, nn.Conv2d)
        assert conv.groups == conv.in_channels == conv.out_channels == channels
        assert conv.kernel_size == (3, 3)
    assert not any(isinstance(m, nn.AvgPool2d) for m in models["conv"].modules())


def test_random_arm_matrix_is_frozen_and_unchanged_by_training():
    model = build_arm_model("random", lab_architecture(SMALL), SMALL.image_size, seed=0)
    mixers = [layer.pooling for layer in _layers(model)]
    assert all(isinstance(m, RandomMixing) for m in mixers)
    # 64 px through a 7x7 stride-4 stem (padding 2), then stride 2: stages of 16x16, 8x8, 4x4 and
    # 2x2 tokens, S12's depths 2, 2, 6, 2.
    assert [m.matrix.shape[0] for m in mixers] == [256] * 2 + [64] * 2 + [16] * 6 + [4] * 2
    assert all(torch.allclose(m.matrix.sum(dim=1), torch.ones(m.matrix.shape[0])) for m in mixers)
    assert not any("matrix" in name for name, _ in model.named_parameters())
    before = [m.matrix.clone() for m in mixers]
    weights = model.classifier.weight.detach().clone()
    data = make_dataset(32, seed=0)
    data = data._replace(images=data.images[:, ::2, ::2].copy())
    fit(model, data, 5, TrainSettings(batch_size=16, seg_weight=0.0))
    assert all(torch.equal(a, m.matrix) for a, m in zip(before, mixers))
    assert not torch.equal(weights, model.classifier.weight)


def test_random_mixing_averages_tokens_with_its_matrix():
    mixer = RandomMixing(2, 3, torch.Generator().manual_seed(0))
    x = torch.randn(2, 4, 2, 3)
    expected = torch.einsum("mn,bcn->bcm", mixer.matrix, x.reshape(2, 4, 6)).reshape(2, 4, 2, 3)
    assert torch.allclose(mixer(x), expected, atol=1e-6)
    with pytest.raises(ValueError, match="2x3"):
        mixer(torch.randn(1, 4, 3, 3))


def test_random_arm_mixes_every_stage_up_to_the_token_limit_of_its_task(models):
    # 128 px: stages of 32x32, 16x16, 8x8 and 4x4 tokens; the largest (1024) is within the limit,
    # so every block of the random arm mixes with its frozen matrix.
    sides = [m.height for m in models["random"].modules() if isinstance(m, RandomMixing)]
    assert MAX_RANDOM_TOKENS >= 32 * 32
    assert sides == [32] * 2 + [16] * 2 + [8] * 6 + [4] * 2


def test_no_mlp_arm_blocks_add_only_the_token_mixer(models):
    model = models["no_mlp"]
    assert not any(isinstance(m, PoolFormerOutput) for m in model.modules())
    layer = _layers(model)[0]
    x = torch.randn(2, 16, 16, 16)
    with torch.no_grad():
        mixed = x + layer.layer_scale_1[:, None, None] * layer.pooling(layer.before_norm(x))
        assert torch.allclose(layer(x)[0], mixed, atol=1e-6)


def test_no_residual_arm_output_differs_from_input_plus_branches(models):
    layer = _layers(models["no_residual"])[2]  # the first block of stage 2 (32 channels)
    assert isinstance(layer, NoResidualLayer)
    x = torch.randn(2, 32, 8, 8)
    with torch.no_grad():
        plain = layer(x)[0]
        with_residuals = PoolFormerLayer.forward(layer, x)[0]
        chained = layer.layer_scale_1[:, None, None] * layer.pooling(layer.before_norm(x))
        chained = layer.layer_scale_2[:, None, None] * layer.output(layer.after_norm(chained))
    assert torch.allclose(plain, chained, atol=1e-6)
    assert not torch.allclose(plain, with_residuals, atol=1e-2)
    assert all(isinstance(layer, NoResidualLayer) for layer in _layers(models["no_residual"]))


def test_no_residual_arm_starts_with_a_signal_that_reaches_the_classifier(models):
    # With transformers' default layer scale (1e-5) twelve chained blocks would multiply the input
    # by about 1e-120; the lab starts every arm at layer scale 1.0.
    model = models["no_residual"].eval()
    with torch.no_grad():
        logits = model(pixel_values=torch.randn(4, 3, 128, 128)).logits
    assert logits.std(dim=0).min() > 1e-4


@pytest.mark.parametrize(
    "arm, swapped",
    [
        ("identity", "pooling"),
        ("random", "pooling"),
        ("conv", "pooling"),
        ("no_mlp", "output"),
        ("no_residual", ""),
    ],
)
def test_every_other_parameter_shape_is_the_pooling_arms(models, arm, swapped):
    assert _shapes(models[arm], without=swapped) == _shapes(models["pooling"], without=swapped)


def test_arms_differ_only_in_their_part():
    assert [(a.mixer, a.mlp, a.residual) != ("pooling", True, True) for a in ARMS.values()] == [
        name != "pooling" for name in ARMS
    ]
    assert sum(1 for a in ARMS.values() if not a.mlp or not a.residual or a.mixer != "pooling") == 6
    assert all((a.mixer != "pooling") + (not a.mlp) + (not a.residual) <= 1 for a in ARMS.values())


def test_initialisation_depends_on_the_seed_only():
    torch.manual_seed(123)
    first = build_arm_model("random", lab_architecture(SMALL), SMALL.image_size, seed=4).state_dict()
    torch.manual_seed(456)
    second = build_arm_model("random", lab_architecture(SMALL), SMALL.image_size, seed=4).state_dict()
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_deepest_cams_are_the_apps_deepest_grad_cam():
    data = make_dataset(3, seed=TEST_SEED_START)
    cache = ModelCache(capacity=1)
    cams = deepest_cams(cache.get(SHAPES_VARIANT_NAME).model, data.images, data.labels, 128)
    for cam, image, label in zip(cams, data.images, data.labels):
        shown = analyze(Image.fromarray(image), SHAPES_VARIANT_NAME, target=int(label), cache=cache).stages[-1].cam
        assert np.allclose(cam / cam.max(), shown, atol=1e-5)


def test_every_arm_is_set_beside_the_papers_s12_result_for_the_same_change():
    assert {name: (ARMS[name].paper.top1, ARMS[name].paper.group) for name in ARM_NAMES} == {
        "pooling": (77.2, "token mixer"),
        "identity": (74.3, "token mixer"),
        "random": (75.8, "token mixer"),
        "conv": (78.1, "token mixer"),
        "no_mlp": (5.7, "block"),
        "no_residual": (0.1, "block"),
    }
    assert all(ARMS[name].paper in PAPER_S12_ABLATIONS for name in ARM_NAMES)


@pytest.mark.slow
def test_results_survive_a_round_trip_through_json(lab, tmp_path):
    result, _ = lab
    path = save_result(result, tmp_path / "lab.json", "a command")
    assert load_result(path) == result
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.slow
def test_summary_gives_mean_and_spread_per_arm(lab):
    result, _ = lab
    twice = dataclasses.replace(
        result,
        seeds=(0, 1),
        runs=result.runs + tuple(dataclasses.replace(r, seed=1, accuracy=r.accuracy + 0.1) for r in result.runs),
    )
    rows = summarize(twice)
    assert [row.arm for row in rows] == list(ARM_NAMES)
    for row, run in zip(rows, result.runs):
        assert row.seeds == 2
        assert row.accuracy_mean == pytest.approx(run.accuracy + 0.05)
        assert row.accuracy_std == pytest.approx(np.std([run.accuracy, run.accuracy + 0.1], ddof=1))
        assert row.pointing_std == 0.0
        assert row.paper_top1 == ARMS[row.arm].paper.top1


@pytest.mark.parametrize("task", TASK_NAMES)
def test_reference_results_hold_every_arm_with_three_seeds_in_the_live_configuration(task):
    result, rows = load_reference(reference_path(task))
    config = LAB_CONFIGS[task]
    assert result.config == config and result.task == task
    assert result.steps == config.steps and result.image_size == config.image_size
    assert result.seeds == REFERENCE_SEEDS and not result.stopped
    assert [row.arm for row in rows] == list(ARM_NAMES)
    assert all(row.seeds >= 3 for row in rows)
    assert all(len(r.curve) >= 10 and r.curve[-1].step == config.steps for r in result.runs)
    assert json.loads(reference_path(task).read_text())["command"] == reference_command(task)


@pytest.mark.parametrize("task", TASK_NAMES)
def test_a_live_runs_budget_is_a_measured_step_of_the_reference(task):
    config = LAB_CONFIGS[task]
    assert LIVE_STEPS == config.live_steps <= config.steps
    assert LIVE_STEPS % config.eval_every == 0 and config.steps % config.eval_every == 0
    result, _ = load_reference(reference_path(task))
    for run in result.runs:
        assert [step for step, _ in run.held_out] == list(range(config.eval_every, config.steps + 1, config.eval_every))
        assert run.held_out_at(LIVE_STEPS) is not None and run.held_out_at(config.steps) == run.accuracy


def test_a_shorter_run_is_the_first_steps_of_the_full_run_step_for_step():
    config = dataclasses.replace(SMALL, steps=8, eval_every=4, curve_points=4, train_size=32, eval_size=8)
    (full,) = run_lab(("pooling",), config=config).runs
    short = run_lab(("pooling",), steps=4, config=config)
    assert short.steps == 4 and short.config.steps == 8
    (part,) = short.runs
    # The same learning rate at every step, so the same losses and the same model after step 4.
    assert list(part.curve) == [p for p in full.curve if p.step <= 4] and len(part.curve) == 2
    assert part.held_out == ((4, full.held_out_at(4)),) and part.accuracy == full.held_out_at(4)
    assert full.held_out_at(8) == full.accuracy


@pytest.mark.slow
def test_a_run_uses_its_configurations_steps_and_size(lab):
    result, _ = lab
    assert result.steps == SMALL.steps and result.image_size == SMALL.image_size and result.config == SMALL


def test_a_second_run_reads_its_images_from_the_cache(data_cache, monkeypatch):
    calls = []
    task = tasks.TASKS["pairs"]
    counting = dataclasses.replace(task, generate=lambda n, s: calls.append(n) or task.generate(n, s))
    monkeypatch.setitem(tasks.TASKS, "pairs", counting)
    config = dataclasses.replace(SMALL, task="pairs", steps=2, train_size=32, eval_size=8)
    run_lab(("pooling",), config=config)
    assert calls == [32, 8]
    run_lab(("identity",), config=config)
    assert calls == [32, 8]


@pytest.mark.slow
def test_curves_render_as_an_rgb_picture(lab):
    result, _ = lab
    picture = figure_to_rgb(plot_curves(result, "test"))
    assert picture.dtype == np.uint8 and picture.ndim == 3 and picture.shape[2] == 3
    assert picture.std() > 10
    assert isinstance(plot_curves([]), Figure)


def test_lab_command_refuses_reference_with_a_custom_budget(capsys):
    with pytest.raises(SystemExit):
        main(["lab", "--reference", "--steps", "10"])
    assert "--reference fixes" in capsys.readouterr().err


def test_lab_command_names_unknown_arms(capsys):
    with pytest.raises(SystemExit):
        main(["lab", "--arms", "pooling,attention"])
    assert "unknown arms attention" in capsys.readouterr().err


@pytest.mark.slow
def test_results_of_one_seed_each_merge_into_one_result_in_seed_order(lab):
    result, _ = lab
    second = dataclasses.replace(
        result, seeds=(1,), runs=tuple(dataclasses.replace(r, seed=1) for r in result.runs), seconds=5.0
    )
    merged = merge_results([second, result])
    assert merged.seeds == (0, 1)
    assert [(r.seed, r.arm) for r in merged.runs] == [(s, a) for s in (0, 1) for a in ARM_NAMES]
    assert merged.seconds == pytest.approx(result.seconds + 5.0)
    with pytest.raises(ValueError, match="same configuration"):
        merge_results([result, dataclasses.replace(second, steps=STEPS + 1)])


def test_the_per_position_norm_control_swaps_every_norm_and_nothing_else():
    config = lab_architecture(LAB_CONFIGS["pairs"])
    grouped = build_arm_model("identity", config, 128, seed=3)
    local = build_arm_model("identity", config, 128, seed=3, norm="position")
    assert _shapes(grouped) == _shapes(local)
    norms = [m for m in local.modules() if isinstance(m, PositionNorm)]
    assert len(norms) == 2 * sum(config.depths) + 1
    assert not any(isinstance(m, torch.nn.GroupNorm) for m in local.modules())
    # Same initialisation for everything else.
    for (name, a), (_, b) in zip(grouped.named_parameters(), local.named_parameters()):
        assert torch.equal(a, b), name
    with pytest.raises(ValueError, match="unknown norm"):
        build_arm_model("identity", config, 128, norm="batch")


def test_a_per_position_norm_normalises_each_position_over_its_channels():
    norm = PositionNorm(6)
    x = torch.randn(2, 6, 4, 5) * 4 + 2
    expected = torch.nn.functional.layer_norm(x.permute(0, 2, 3, 1), (6,)).permute(0, 3, 1, 2)
    torch.testing.assert_close(norm(x), expected, rtol=1e-5, atol=1e-5)
    # Changing one position changes no other.
    y = x.clone()
    y[:, :, 0, 0] += 10
    assert torch.equal(norm(y)[:, :, 1:, :], norm(x)[:, :, 1:, :])


def test_the_shipped_grid_holds_both_norms_in_the_pairs_configuration_with_its_command():
    from poolformer_demo.shapes.lab_grid import grid_command, grid_path, load_grid

    grid = load_grid(grid_path("pairs"))
    assert grid.norms == ("group", "position") and grid.task == "pairs"
    for norm in grid.norms:
        assert grid.result(norm).config == dataclasses.replace(LAB_CONFIGS["pairs"], norm=norm)
        assert not grid.result(norm).stopped
    assert json.loads(grid_path("pairs").read_text())["command"] == grid_command("pairs")
    # Seeds 0 to 2 of the grid's one-group cells are the pairs reference's own runs, made again alike.
    reference, _ = load_reference(reference_path("pairs"))
    for run in reference.runs:
        again = [r for r in grid.runs("group", run.arm) if r.seed == run.seed] if run.arm in grid.mixers else []
        for other in again:
            assert other.accuracy == run.accuracy and other.held_out == run.held_out


def test_the_reference_cli_refuses_a_per_position_norm_and_points_to_the_grid(capsys):
    with pytest.raises(SystemExit):
        main(["lab", "--reference", "--task", "pairs", "--norm", "position"])
    assert "use --grid" in capsys.readouterr().err


def test_the_global_mixer_is_the_mean_of_all_positions_minus_the_token():
    from poolformer_demo.shapes.arms import GlobalMeanMixing

    x = torch.randn(2, 3, 4, 5)
    out = GlobalMeanMixing()(x)
    assert torch.allclose(out[0, 1, 2, 3], x[0, 1].mean() - x[0, 1, 2, 3], atol=1e-6)
    model = build_arm_model("global", lab_architecture(SMALL), SMALL.image_size, seed=0)
    assert all(isinstance(layer.pooling, GlobalMeanMixing) for layer in _layers(model))
    assert ARMS["global"].paper is None and "global" not in ARM_NAMES


@pytest.mark.slow
def test_a_grid_is_written_after_every_run_resumes_and_merges_split_seeds(tmp_path):
    from poolformer_demo.shapes.lab_grid import load_grid, merge_grids, run_grid

    small = dataclasses.replace(SMALL, task="pairs", steps=4, eval_every=2)
    reported = []
    whole = run_grid(
        "pairs",
        ("identity", "global"),
        (0, 1),
        steps=4,
        config=small,
        out=tmp_path / "whole.json",
        report=lambda *r: reported.append(r[:3]),
    )
    assert whole.complete and len(reported) == 8
    assert load_grid(tmp_path / "whole.json") == whole
    # A second call with the same file trains nothing again.
    again = run_grid(
        "pairs",
        ("identity", "global"),
        (0, 1),
        steps=4,
        config=small,
        out=tmp_path / "whole.json",
        report=lambda *r: reported.append(r),
    )
    assert len(reported) == 8 and again == whole
    for seed in (0, 1):
        run_grid("pairs", ("identity", "global"), (seed,), steps=4, config=small, out=tmp_path / f"part{seed}.json")
    merged = merge_grids([load_grid(tmp_path / f"part{seed}.json") for seed in (0, 1)])
    for norm in ("group", "position"):
        for mixer in ("identity", "global"):
            assert [r.accuracy for r in merged.runs(norm, mixer)] == [r.accuracy for r in whole.runs(norm, mixer)]
            assert [r.curve for r in merged.runs(norm, mixer)] == [r.curve for r in whole.runs(norm, mixer)]
