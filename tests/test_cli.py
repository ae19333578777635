import json
from pathlib import Path

import numpy as np
import pytest
from paths import COFFEE, PHOTO, ROCKET
from PIL import Image

from poolformer_demo.cli import main


def test_cli_writes_pictures_predictions_and_raw_cams(use_weights_dir, tmp_path):
    out = tmp_path / "out"
    status = main(
        [
            "analyze",
            str(PHOTO),
            "--variant",
            "s12",
            "--target",
            "tabby cat",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    folder = out / "chelsea"
    summary = json.loads((folder / "predictions.json").read_text())
    assert summary["variant"] == "s12"
    assert summary["target"]["index"] == 281
    assert len(summary["top_k"]) == 5
    assert [s["shape"] for s in summary["stages"]] == [[64, 56, 56], [128, 28, 28], [320, 14, 14], [512, 7, 7]]
    cams = np.load(folder / "cams.npz")
    assert [cams[f"stage{i}"].shape for i in range(1, 5)] == [(56, 56), (28, 28), (14, 14), (7, 7)]
    for i in range(1, 5):
        assert Image.open(folder / f"gradcam_stage{i}.png").width == 224
        for view in ("mean", "pca", "channels"):
            assert (folder / f"features_stage{i}_{view}.png").is_file()


def test_cli_reports_a_bad_file_and_goes_on(use_weights_dir, tmp_path, capsys):
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    good = COFFEE
    status = main(["analyze", str(bad), str(good), "--out", str(tmp_path / "out")])
    assert status == 1
    err = capsys.readouterr().err
    assert "notes.jpg" in err and "not an image format" in err
    assert (tmp_path / "out" / "coffee" / "predictions.json").is_file()
    assert not (tmp_path / "out" / "notes").exists()


def test_cli_keeps_images_with_the_same_name_apart(use_weights_dir, tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        Image.open(ROCKET).save(tmp_path / name / "rocket.png")
    status = main(
        [
            "analyze",
            str(tmp_path / "a" / "rocket.png"),
            str(tmp_path / "b" / "rocket.png"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    assert status == 0
    assert (tmp_path / "out" / "rocket" / "cams.npz").is_file()
    assert (tmp_path / "out" / "rocket-2" / "cams.npz").is_file()


def test_cli_folders_stay_apart_when_a_stem_looks_like_a_suffix(tmp_path):
    from poolformer_demo.cli_support import output_folders

    images = [Path("a/cat.jpg"), Path("b/cat.jpg"), Path("cat-2.jpg")]
    assert [f.name for f in output_folders(images, tmp_path)] == ["cat", "cat-2", "cat-2-2"]


def test_cli_refuses_nonsense_options(capsys):
    cases = [
        (["--top-k", "0"], "expected a whole number of at least 1, got '0'"),
        (["--opacity", "2"], "expected a number from 0 to 1, got '2'"),
        (["--variant", "s99"], "Unknown variant 's99'"),
    ]
    for option, message in cases:
        with pytest.raises(SystemExit) as info:
            main(["analyze", "x.jpg", "--out", "o", *option])
        assert info.value.code == 2
        assert message in capsys.readouterr().err


def test_cli_knockout_writes_both_analyses_for_the_same_class(use_weights_dir, tmp_path):
    out = tmp_path / "out"
    image = str(PHOTO)
    assert main(["knockout", image, "--variant", "s12", "--knockout", "mixer:1,2", "--out", str(out)]) == 0
    summary = json.loads((out / "knockout.json").read_text())
    assert summary["knockouts"]["mixer"] == [1, 2] and summary["knockouts"]["mlp"] == []
    before = json.loads((out / "as_trained" / "predictions.json").read_text())
    after = json.loads((out / "knocked_out" / "predictions.json").read_text())
    assert before["target"]["index"] == after["target"]["index"] == summary["target"]["index"]
    assert after["target"]["probability"] == summary["after"]["target_probability"]
    assert after["top_k"] == summary["after"]["top_k"] and before["top_k"] == summary["before"]["top_k"]
    assert after["knockouts"]["mixer"] == [1, 2] and before["knockouts"]["mixer"] == []
