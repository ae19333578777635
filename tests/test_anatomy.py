import dataclasses
import json
import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from paths import STAR
from PIL import Image
from torch import nn
from transformers import PoolFormerConfig
from transformers.models.poolformer.modeling_poolformer import PoolFormerPooling

from poolformer_demo import ModelCache, analyze, block_pictures, load_model, plots, render
from poolformer_demo.anatomy import STEPS, BlockRecorder, block_anatomy
from poolformer_demo.blocks import shared_copy
from poolformer_demo.cli import main
from poolformer_demo.errors import KnockoutSpecError, SelectionError
from poolformer_demo.knockouts import Knockouts, ZeroBranch, knocked_out, parse_knockout_spec
from poolformer_demo.receptive_field import field_geometry, receptive_field, stage_grid_size
from poolformer_demo.testing import forward_hook_count
from poolformer_demo.variants import HUB_VARIANTS, PAPER_S12_ABLATIONS


@pytest.fixture(scope="module")
def s12_model(s12_cache):
    return s12_cache.get("s12").model


@pytest.fixture(scope="module")
def anatomy_3_2(s12_cache, photo):
    return block_anatomy(photo, "s12", stage=3, block=2, cache=s12_cache)


@pytest.fixture(scope="module")
def pixel_values(s12_cache, photo):
    return s12_cache.get("s12").processor(images=photo, return_tensors="pt")["pixel_values"]


# --- block anatomy ---------------------------------------------------------------------------


def test_anatomy_leaves_no_hooks_on_the_cached_model(anatomy_3_2, s12_model):
    assert anatomy_3_2.stage == 3
    assert forward_hook_count(s12_model) == 0


def test_block_recorder_removes_its_hooks_even_when_the_forward_fails(s12_model):
    model = shared_copy(s12_model)
    with pytest.raises(RuntimeError, match="boom"), BlockRecorder(model, 1, 1):
        assert forward_hook_count(model) > 0
        raise RuntimeError("boom")
    assert forward_hook_count(model) == 0


def test_block_steps_add_up_to_the_block_output(anatomy_3_2):
    a = anatomy_3_2
    ls1 = a.layer_scale_1[:, None, None]
    np.testing.assert_allclose(a.input + ls1 * a.mixer + a.mlp, a.output, rtol=0, atol=1e-5)
    np.testing.assert_allclose(a.input + ls1 * a.mixer, a.mixed, rtol=0, atol=1e-5)
    assert all(a.step(name).dtype == np.float32 and a.step(name).shape == (320, 14, 14) for name in STEPS)


def test_mixer_is_avgpool_of_the_normed_map_minus_the_normed_map(anatomy_3_2):
    normed = torch.from_numpy(anatomy_3_2.normed)[None]
    pooled = F.avg_pool2d(normed, 3, stride=1, padding=1, count_include_pad=False)[0].numpy()
    np.testing.assert_allclose(anatomy_3_2.pooled, pooled, rtol=0, atol=1e-6)
    np.testing.assert_allclose(anatomy_3_2.mixer, pooled - anatomy_3_2.normed, rtol=0, atol=1e-6)


def test_first_and_last_blocks_of_a_stage_match_the_model_own_tensors(s12_cache, s12_model, photo, pixel_values):
    with torch.no_grad():
        embedded = s12_model.poolformer.encoder.patch_embeddings[0](pixel_values)[0]
        hidden = s12_model.poolformer(pixel_values, output_hidden_states=True).hidden_states
    first = block_anatomy(photo, "s12", stage=1, block=1, cache=s12_cache)
    last = block_anatomy(photo, "s12", stage=4, block=2, cache=s12_cache)
    np.testing.assert_allclose(first.input, embedded.numpy(), rtol=0, atol=1e-6)
    np.testing.assert_allclose(last.output, hidden[3][0].numpy(), rtol=0, atol=1e-6)


def test_branch_ratios_cover_every_block_in_order_and_are_positive(anatomy_3_2):
    branches = anatomy_3_2.branches
    assert [(b.stage, b.block) for b in branches] == [
        (s, b) for s, d in enumerate((2, 2, 6, 2), 1) for b in range(1, d + 1)
    ]
    assert all(np.isfinite(b.mixer_ratio) and b.mixer_ratio > 0 for b in branches)
    assert all(np.isfinite(b.mlp_ratio) and b.mlp_ratio > 0 for b in branches)
    chosen = next(b for b in branches if (b.stage, b.block) == (3, 2))
    a = anatomy_3_2
    mixer_ratio = np.linalg.norm(a.layer_scale_1[:, None, None] * a.mixer) / np.linalg.norm(a.input)
    assert chosen.mixer_ratio == pytest.approx(mixer_ratio, rel=1e-5)
    assert chosen.mlp_ratio == pytest.approx(np.linalg.norm(a.mlp) / np.linalg.norm(a.mixed), rel=1e-5)


def test_anatomy_refuses_a_stage_or_block_the_model_lacks(s12_cache, photo):
    with pytest.raises(SelectionError, match="stages 1 to 4"):
        block_anatomy(photo, "s12", stage=5, block=1, cache=s12_cache)
    with pytest.raises(SelectionError, match="blocks 1 to 2"):
        block_anatomy(photo, "s12", stage=4, block=3, cache=s12_cache)
    with pytest.raises(SelectionError):
        block_anatomy(photo, "s12", stage=0, block=1, cache=s12_cache)
    with pytest.raises(SelectionError):
        block_anatomy(photo, "s12", stage=1.5, block=1, cache=s12_cache)


def test_a_forward_of_the_cached_model_during_a_recording_does_not_reach_the_recorder(s12_model, pixel_values):
    model = shared_copy(s12_model)
    with BlockRecorder(model, 1, 1) as recorder, torch.no_grad():
        s12_model(torch.zeros_like(pixel_values))  # another request, on the cached model
        assert recorder.steps == {}
        model.poolformer(pixel_values)
    assert set(recorder.steps) == set(STEPS)


def test_anatomy_captures_only_its_own_pass_while_other_threads_use_the_model(s12_cache, photo, anatomy_3_2):
    noise_image = Image.fromarray(np.random.default_rng(0).integers(0, 256, size=(300, 400, 3), dtype=np.uint8))
    stop = threading.Event()
    errors = []

    def keep_analysing():
        try:
            while not stop.is_set():
                analyze(noise_image, "s12", cache=s12_cache)
        except Exception as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    worker = threading.Thread(target=keep_analysing)
    worker.start()
    try:
        repeats = [block_anatomy(photo, "s12", stage=3, block=2, cache=s12_cache) for _ in range(2)]
    finally:
        stop.set()
        worker.join()
    assert errors == []
    for again in repeats:
        for name in STEPS:
            np.testing.assert_allclose(again.step(name), anatomy_3_2.step(name), rtol=0, atol=1e-6)
        assert len(again.branches) == 12


# --- knockouts -------------------------------------------------------------------------------


def test_knockouts_change_the_logits(s12_model, pixel_values):
    with torch.no_grad():
        normal = s12_model(pixel_values).logits
        for knockouts in (Knockouts(mixer=(1, 2, 3, 4)), Knockouts(mlp=(1, 2, 3, 4)), Knockouts(mixer=(4,))):
            changed = knocked_out(s12_model, knockouts)(pixel_values).logits
            assert (changed - normal).abs().max() > 1e-3, knockouts


@pytest.mark.slow
def test_a_knockout_then_a_normal_analysis_gives_the_unmodified_result(s12_cache, s12_model, photo):
    before = analyze(photo, "s12", cache=s12_cache)
    knocked = analyze(photo, "s12", cache=s12_cache, knockouts=Knockouts(mixer=(1, 2), mlp=(4,)))
    after = analyze(photo, "s12", cache=s12_cache)
    assert knocked.knockouts == Knockouts(mixer=(1, 2), mlp=(4,))
    assert [p.probability for p in knocked.predictions] != [p.probability for p in before.predictions]
    assert after.knockouts == Knockouts() and not after.knockouts
    assert after.predictions == before.predictions
    for stage_before, stage_after in zip(before.stages, after.stages):
        assert np.array_equal(stage_before.cam_raw, stage_after.cam_raw)
    assert all(
        isinstance(layer.pooling, PoolFormerPooling) for stage in s12_model.poolformer.encoder.block for layer in stage
    )


def test_knocking_out_one_stage_mixer_leaves_the_other_stages_untouched(s12_model, pixel_values):
    model = knocked_out(s12_model, Knockouts(mixer=(3,)))
    for index, (stage, original) in enumerate(
        zip(model.poolformer.encoder.block, s12_model.poolformer.encoder.block), 1
    ):
        for layer, layer_original in zip(stage, original):
            assert isinstance(layer.pooling, ZeroBranch if index == 3 else PoolFormerPooling)
            assert type(layer.output) is type(layer_original.output)
            assert layer is not layer_original
    # The copy shares every parameter tensor with the cached model instead of holding its own.
    assert all(p is q for p, q in zip(model.parameters(), s12_model.parameters(), strict=True))
    with torch.no_grad():
        normal = s12_model.poolformer(pixel_values, output_hidden_states=True).hidden_states
        changed = model.poolformer(pixel_values, output_hidden_states=True).hidden_states
    assert torch.equal(normal[0], changed[0]) and torch.equal(normal[1], changed[1])
    assert not torch.allclose(normal[2], changed[2])


def test_knockout_specs_parse_and_bad_ones_are_refused():
    assert parse_knockout_spec("mixer") == ("mixer", (1, 2, 3, 4))
    assert parse_knockout_spec("MLP: 2,1") == ("mlp", (1, 2))
    assert Knockouts.parse(["mixer:1", "mixer:3", "mlp"]) == Knockouts(mixer=(1, 3), mlp=(1, 2, 3, 4))
    assert Knockouts(mixer=(1, 2), mlp=(4,)).describe() == "token mixing off in stages 1, 2; channel MLP off in stage 4"
    for bad in ("attention", "mixer:", "mixer:a", "mixer:1,,2", "mixer:1:2", ""):
        with pytest.raises(KnockoutSpecError, match="expected mixer or mlp"):
            parse_knockout_spec(bad)
    with pytest.raises(KnockoutSpecError, match="no stage 5"):
        parse_knockout_spec("mlp:5")
    with pytest.raises(KnockoutSpecError, match="from 1"):
        Knockouts(mixer=(0,))


def test_paper_table_pooling_row_is_the_s12_registry_accuracy():
    pooling = [r for r in PAPER_S12_ABLATIONS if r.group == "token mixer" and r.setting.startswith("pooling")]
    assert [r.top1 for r in pooling] == [HUB_VARIANTS["s12"].top1]
    assert all(0 <= r.top1 <= 100 and r.source for r in PAPER_S12_ABLATIONS)


# --- receptive fields ------------------------------------------------------------------------


def test_theoretical_field_grows_with_the_stage_and_matches_a_hand_computation_for_s12():
    config = PoolFormerConfig(depths=[2, 2, 6, 2], hidden_sizes=[64, 128, 320, 512])
    # Patch embeddings 7/4/2 then 3/2/1 three times, pools 3/1/1: size += (k - 1) * jump.
    # Stage 1: 7 + 2 pools * 2 * 4 = 23; stage 2: 23 + 2 * 4 + 2 * 2 * 8 = 63;
    # stage 3: 63 + 2 * 8 + 6 * 2 * 16 = 271; stage 4: 271 + 2 * 16 + 2 * 2 * 32 = 431.
    geometries = [field_geometry(config, stage) for stage in (1, 2, 3, 4)]
    assert [g.size for g in geometries] == [23, 63, 271, 431]
    assert [g.jump for g in geometries] == [4, 8, 16, 32]
    assert [g.offset for g in geometries] == [-10, -30, -134, -214]
    assert [stage_grid_size(config, (224, 224), s) for s in (1, 2, 3, 4)] == [(56, 56), (28, 28), (14, 14), (7, 7)]


def _without_group_norms(variant):
    loaded = load_model(variant)
    model = shared_copy(loaded.model)
    for stage in model.poolformer.encoder.block:
        for layer in stage:
            layer.before_norm = nn.Identity()
            layer.after_norm = nn.Identity()
    return dataclasses.replace(loaded, model=model)


@pytest.mark.slow
def test_without_group_norm_the_effective_field_fills_exactly_the_theoretical_box(weights_dir, photo, monkeypatch):
    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(weights_dir))
    cache = ModelCache(loader=_without_group_norms)
    for stage, y, x in ((1, 28, 28), (1, 0, 0), (2, 3, 25), (3, 2, 9)):
        field = receptive_field(photo, "s12", stage=stage, y=y, x=x, cache=cache)
        top, left, bottom, right = field.box
        inside = np.zeros(field.erf.shape, bool)
        inside[top:bottom, left:right] = True
        assert (field.erf[inside] > 0).all() and (field.erf[~inside] == 0).all(), (stage, y, x)


def test_effective_field_concentrates_in_the_box_though_group_norm_reaches_every_pixel(s12_cache, photo):
    for stage, y, x in ((1, 28, 28), (2, 14, 14)):
        field = receptive_field(photo, "s12", stage=stage, y=y, x=x, cache=s12_cache)
        top, left, bottom, right = field.box
        inside = np.zeros(field.erf.shape, bool)
        inside[top:bottom, left:right] = True
        assert field.mass_inside > 0.9
        # GroupNorm's statistics are taken over all positions: no pixel is exactly without influence.
        assert (field.erf[~inside] > 0).all()
        assert field.erf[~inside].max() < 0.01 * field.erf[inside].max()


def test_effective_field_is_the_summed_absolute_gradient_of_the_position(s12_cache, s12_model, photo, pixel_values):
    field = receptive_field(photo, "s12", stage=2, y=5, x=20, cache=s12_cache)
    pixels = pixel_values.clone().requires_grad_(True)
    with torch.enable_grad():
        activation = s12_model.poolformer(pixels, output_hidden_states=True).hidden_states[1][0, :, 5, 20].sum()
        (gradient,) = torch.autograd.grad(activation, pixels)
    np.testing.assert_allclose(field.erf, gradient[0].abs().sum(dim=0).numpy(), rtol=1e-5, atol=1e-9)
    assert field.crop_size == (224, 224) and field.grid_size == (28, 28)


def test_receptive_field_refuses_positions_outside_the_grid(s12_cache, photo):
    with pytest.raises(SelectionError, match="y runs from 0 to 55"):
        receptive_field(photo, "s12", stage=1, y=56, x=0, cache=s12_cache)
    with pytest.raises(SelectionError, match="x from 0 to 6"):
        receptive_field(photo, "s12", stage=4, y=0, x=-1, cache=s12_cache)
    with pytest.raises(SelectionError, match="stages 1 to 4"):
        receptive_field(photo, "s12", stage=5, y=0, x=0, cache=s12_cache)


# --- pictures --------------------------------------------------------------------------------


def test_diverging_view_is_centred_on_zero():
    table = render.colormap_table(render.DIVERGING_CMAP)
    picture = render.diverging_view(np.array([[-1.0, 0.0, 1.0]]), limit=1.0)
    assert np.array_equal(picture[0, 0], table[0])
    assert np.abs(picture[0, picture.shape[1] // 2].astype(int) - table[128]).max() <= 1
    assert np.array_equal(picture[0, -1], table[255])
    red, _, blue = picture[0, -1].astype(int)
    assert red > blue


def test_anatomy_views_show_every_step_with_a_one_line_caption(anatomy_3_2):
    views = block_pictures.anatomy_views(anatomy_3_2)
    assert [v.name for v in views] == list(STEPS)
    assert all(v.caption and "\n" not in v.caption and v.picture.shape == (224, 224, 3) for v in views)
    assert all(v.picture.dtype == np.uint8 for v in views)
    with pytest.raises(SelectionError, match="channels 0 to 319"):
        block_pictures.anatomy_views(anatomy_3_2, channel=320)


def test_branch_plot_and_receptive_field_view_are_rgb_pictures(anatomy_3_2, s12_cache, photo):
    plot = plots.branch_ratio_plot(anatomy_3_2.branches, highlight=(3, 2))
    assert plot.ndim == 3 and plot.shape[2] == 3 and plot.dtype == np.uint8 and plot.std() > 0
    field = receptive_field(photo, "s12", stage=1, y=28, x=28, cache=s12_cache)
    picture = render.receptive_field_view(field)
    top, left, _, _ = field.box
    assert picture.shape == (224, 224, 3)
    assert tuple(picture[top + 5, left]) == (0, 230, 255)


def test_long_captions_wrap_onto_more_lines():
    one = render.with_caption(np.zeros((50, 120, 3), np.uint8), "short")
    two = render.with_caption(np.zeros((50, 120, 3), np.uint8), "a caption far too long for one line of this picture")
    assert one.height == 72 and two.height > one.height


# --- command line ----------------------------------------------------------------------------


def test_cli_analyze_records_knockouts_and_the_knocked_out_top_k(tmp_path):
    out = tmp_path / "out"
    status = main(
        [
            "analyze",
            str(STAR),
            "--variant",
            "shapes",
            "--knockout",
            "mlp:1,2",
            "--knockout",
            "mixer",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    summary = json.loads((out / "shapes_star" / "predictions.json").read_text())
    assert summary["knockouts"]["mixer"] == [1, 2, 3, 4] and summary["knockouts"]["mlp"] == [1, 2]
    expected = analyze(str(STAR), "shapes", knockouts=Knockouts(mixer=(1, 2, 3, 4), mlp=(1, 2)))
    assert [p["label"] for p in summary["top_k"]] == [p.label for p in expected.predictions]
    assert [p["probability"] for p in summary["top_k"]] == pytest.approx(
        [p.probability for p in expected.predictions], abs=1e-6
    )


def test_cli_refuses_bad_knockout_specs(capsys):
    for spec in ("attention", "mixer:9", "mlp:one"):
        with pytest.raises(SystemExit) as info:
            main(["analyze", str(STAR), "--variant", "shapes", "--knockout", spec, "--out", "o"])
        assert info.value.code == 2
    err = capsys.readouterr().err
    assert "expected mixer or mlp" in err and "no stage 9" in err


def test_cli_anatomy_writes_steps_branches_and_pictures(tmp_path):
    out = tmp_path / "anatomy"
    assert main(["anatomy", str(STAR), "--variant", "shapes", "--stage", "3", "--block", "2", "--out", str(out)]) == 0
    arrays = np.load(out / "anatomy.npz")
    for name in ("input", "normed", "mixer", "mixed", "mlp", "output"):
        assert arrays[name].dtype == np.float32 and arrays[name].shape == (96, 8, 8)
    branches = json.loads((out / "branches.json").read_text())
    assert [(b["stage"], b["block"]) for b in branches] == [(1, 1), (2, 1), (3, 1), (3, 2), (4, 1)]
    assert all(b["mixer_ratio"] > 0 and b["mlp_ratio"] > 0 for b in branches)
    for number, name in enumerate(STEPS, start=1):
        assert Image.open(out / f"step{number}_{name}.png").width == 224
    assert Image.open(out / "branches.png").mode == "RGB"


def field_command(out, y: int, x: int) -> int:
    """`python -m poolformer_demo receptive-field` on the star, stage 2 of the shapes model."""
    return main(
        ["receptive-field", str(STAR), "--variant", "shapes", "--stage", "2", "--y", str(y), "--x", str(x)]
        + ["--out", str(out)]
    )


def test_cli_receptive_field_writes_the_map_and_the_theoretical_box(tmp_path, capsys):
    out = tmp_path / "field"
    assert field_command(out, y=8, x=3) == 0
    erf = np.load(out / "erf.npy")
    summary = json.loads((out / "erf.json").read_text())
    assert erf.shape == (128, 128) and erf.dtype == np.float32
    assert summary["crop_size"] == [128, 128] and summary["stage"] == 2 and summary["position"] == {"y": 8, "x": 3}
    # The shapes model's embeddings are 8/4/2 then 4/2/1, with one 3x3 pool in stage 1 and 2:
    # 8 + 2 * 4 = 16, then 16 + 3 * 4 + 2 * 8 = 44 pixels.
    assert summary["theoretical_size_px"] == 44
    assert summary["box"] == {"top": 46, "left": 6, "bottom": 90, "right": 50}
    assert Image.open(out / "erf.png").width == 128
    assert field_command(out, y=16, x=0) == 1
    assert "y runs from 0 to 15" in capsys.readouterr().err


def test_the_field_says_where_its_peak_is_not_that_it_peaks_at_its_centre(shapes_model):
    from poolformer_demo.ui.tabs.inside import field_view as field_present

    cache, _ = shapes_model
    field = receptive_field(str(STAR), "shapes", stage=4, y=0, x=0, cache=cache)
    row, col = field.peak
    assert field.erf[row, col] == field.erf.max()
    assert field.centre == (16.0, 16.0)  # a 4x4 grid on a 128 px crop
    said = field_present.peak_text(field)
    assert said.startswith(f"Its peak is at pixel (y={row}, x={col}), ")
    print(f"\nstage 4 corner cell: peak at {field.peak}, {field.peak_distance:.0f} px from its centre")
    # On the trained shapes model this corner cell peaks on the star, far from its own cell.
    if field.peak_distance > 16:
        assert said.endswith(f"{field.peak_distance:.0f} px from the centre of the position's cell.")
    else:
        assert said.endswith("in the position's own cell.")
    from poolformer_demo.i18n import english

    assert "strongest at its centre" not in english().text("field.text")
