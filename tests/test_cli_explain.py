"""The explain, compare and sanity subcommands, and the CAM family in analyze's cams.npz."""

import json
from pathlib import Path

import numpy as np
import pytest
from paths import PHOTO
from PIL import Image

from poolformer_demo.cams import CAM_METHODS
from poolformer_demo.cli import main
from poolformer_demo.sanity import VERDICTS, rank_correlation
from poolformer_demo.shapes import TEST_SEED_START, make_sample

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# Small settings keep the shapes model's runs to a second or two.
FAST = ["--ig-steps", "8", "--smoothgrad-samples", "4", "--steps", "8", "--random-orders", "2"]


@pytest.fixture(scope="module")
def shape_file(tmp_path_factory) -> Path:
    sample = make_sample(TEST_SEED_START + 3)
    path = tmp_path_factory.mktemp("shapes") / f"{sample.label_name}.png"
    sample.image.save(path)
    return path


def test_analyze_writes_every_cam_method_at_every_stage(use_weights_dir, tmp_path):
    assert main(["analyze", str(PHOTO), "--variant", "s12", "--out", str(tmp_path)]) == 0
    cams = np.load(tmp_path / "chelsea" / "cams.npz")
    sizes = {1: 56, 2: 28, 3: 14, 4: 7}
    assert set(cams.files) == {f"stage{s}" for s in sizes} | {f"{m}_stage{s}" for m in CAM_METHODS for s in sizes}
    for stage, size in sizes.items():
        np.testing.assert_array_equal(cams[f"gradcam_stage{stage}"], cams[f"stage{stage}"])
        for method in CAM_METHODS:
            values = cams[f"{method}_stage{stage}"]
            assert values.shape == (size, size) and values.dtype == np.float32 and values.min() >= 0


def test_explain_writes_one_map_per_method_and_every_setting(shape_file, tmp_path):
    out = tmp_path / "explained"
    argv = [
        "explain",
        str(shape_file),
        "--variant",
        "shapes",
        "--methods",
        "gradcam,ig,smoothgrad,occlusion",
        "--out",
        str(out),
    ]
    status = main([*argv, *FAST, "--occlusion-window", "32", "--occlusion-stride", "16"])
    assert status == 0
    maps = np.load(out / "attributions.npz")
    assert maps.files == ["gradcam", "ig", "smoothgrad", "occlusion"]
    for name in maps.files:
        assert maps[name].shape == (128, 128) and maps[name].dtype == np.float32
    assert maps["gradcam"].min() >= 0
    assert all(maps[name].min() < 0 < maps[name].max() for name in ("ig", "smoothgrad", "occlusion"))
    summary = json.loads((out / "explain.json").read_text())
    assert summary["target"]["label"] == shape_file.stem
    ig = summary["methods"]["ig"]["settings"]
    assert (ig["n_steps"], ig["method"], ig["baseline"]) == (8, "gausslegendre", "black")
    assert (
        summary["methods"]["occlusion"]["settings"]["window"],
        summary["methods"]["occlusion"]["settings"]["stride"],
    ) == (32, 16)
    assert summary["methods"]["gradcam"]["settings"]["stage"] == 4
    assert "faithfulness" not in summary
    assert Image.open(out / "ig.png").size[0] == 128


def test_explain_with_faithfulness_records_aucs_steps_and_substrate(shape_file, tmp_path):
    out = tmp_path / "scored"
    argv = [
        "explain",
        str(shape_file),
        "--variant",
        "shapes",
        "--methods",
        "gradcam,ig",
        "--ig-baseline",
        "zeros",
        "--faithfulness",
    ]
    assert main([*argv, "--out", str(out), *FAST]) == 0
    summary = json.loads((out / "explain.json").read_text())
    faithfulness = summary["faithfulness"]
    assert summary["methods"]["ig"]["settings"]["baseline"] == "zeros"
    for name in ("gradcam", "ig", "random"):
        assert 0 <= faithfulness[name]["deletion_auc"] <= 1 and 0 <= faithfulness[name]["insertion_auc"] <= 1
    assert faithfulness["random"]["orders"] == 2
    assert faithfulness["steps"] == 8
    assert set(faithfulness["substrate"]) == {"deletion", "insertion"}
    assert Image.open(out / "faithfulness.png").mode == "RGB"


def test_explain_refuses_unknown_methods(capsys):
    with pytest.raises(SystemExit) as info:
        main(["explain", "x.png", "--methods", "gradcam,lime", "--out", "o"])
    assert info.value.code == 2
    assert "Unknown method 'lime'" in capsys.readouterr().err


def test_compare_writes_each_variants_top5_cam_and_time(use_weights_dir, shape_file, tmp_path):
    out = tmp_path / "compared"
    assert main(["compare", str(shape_file), "--variants", "shapes,s12", "--out", str(out)]) == 0
    summary = json.loads((out / "compare.json").read_text())
    assert [v["variant"] for v in summary["variants"]] == ["shapes", "s12"]
    assert all(len(v["top_k"]) == 5 and v["seconds"] > 0 for v in summary["variants"])
    assert summary["variants"][0]["top_k"][0]["label"] == shape_file.stem
    cams = np.load(out / "cams.npz")
    assert cams["shapes"].shape == (4, 4) and cams["s12"].shape == (7, 7)
    assert (out / "s12_gradcam.png").is_file() and (out / "shapes_gradcam.png").is_file()


def test_compare_needs_two_variants(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "x.png", "--variants", "s12", "--out", "o"])
    assert "at least two" in capsys.readouterr().err


def test_sanity_writes_the_maps_and_their_rank_correlations(shape_file, tmp_path):
    out = tmp_path / "sanity"
    assert main(["sanity", str(shape_file), "--variant", "shapes", "--granularity", "stage", "--out", str(out)]) == 0
    summary = json.loads((out / "sanity.json").read_text())
    assert [s["label"] for s in summary["steps"]] == ["head", "stage 4", "stage 3", "stage 2", "stage 1"]
    maps = np.load(out / "sanity.npz")
    assert maps.files == ["original", "step1", "step2", "step3", "step4", "step5"]
    # Each step's number is the rank correlation of the maps written beside it.
    for i, step in enumerate(summary["steps"], 1):
        assert step["spearman"] == pytest.approx(rank_correlation(maps["original"], maps[f"step{i}"]))
    assert summary["baseline"]["verdict"] in VERDICTS and len(summary["baseline"]["between"]) == 15


@pytest.mark.slow
def test_sanity_of_a_pixel_method_defaults_to_the_pages_granularity(shape_file, tmp_path):
    out = tmp_path / "sanity-ig"
    assert main(["sanity", str(shape_file), "--variant", "shapes", "--method", "ig", "--out", str(out)]) == 0
    summary = json.loads((out / "sanity.json").read_text())
    assert summary["granularity"] == "stage" and len(summary["steps"]) == 5
