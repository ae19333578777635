"""The lesson outside the app: one measurement entry point for page, handout and notebook, the
handout file from the command line and from the Lesson tab, the slide figures, and bad input."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from handout_checks import assert_is_a_whole_handout, lesson_data, pictures
from paths import EXAMPLES, STAR
from PIL import Image

from poolformer_demo import figures, i18n, render
from poolformer_demo.cli import main
from poolformer_demo.i18n import english
from poolformer_demo.lesson import MEASUREMENTS, STEPS, measure, measure_lesson
from poolformer_demo.ui.tabs.lesson import handout
from poolformer_demo.ui.tabs.lesson.page import LessonTab


@pytest.fixture(scope="module")
def star_lesson(shapes_model, one_torch_thread):
    cache, _ = shapes_model
    return measure_lesson(str(STAR), "shapes", cache=cache)


@pytest.fixture(scope="module")
def tab(shapes_model, runner, one_torch_thread):
    cache, _ = shapes_model
    return LessonTab(cache, runner, EXAMPLES)


@pytest.fixture(scope="module")
def cli_handout(tmp_path_factory, one_torch_thread) -> Path:
    out = tmp_path_factory.mktemp("handout")
    assert main(["lesson", str(STAR), "--variant", "shapes", "--out", str(out)]) == 0
    return out


def test_every_step_names_one_measurement_the_core_takes():
    assert len(STEPS) == 10 and {s.measurement for s in STEPS} == set(MEASUREMENTS)
    with pytest.raises(ValueError, match="unknown lesson measurement"):
        measure("weather", str(STAR), "shapes")


def test_the_handout_shows_every_step_as_the_lesson_tab_shows_it(tab, star_lesson):
    # The tab without an analysis measures the same star on the same model, through its runner.
    parts = handout.lesson_parts(star_lesson)
    for number in range(1, len(STEPS) + 1):
        measured = tab.measured(None, number)
        assert tab.step_parts(number, measured, "shapes", english()) == parts[number - 1], STEPS[number - 1].key


def test_the_lesson_result_says_its_steps_and_measurements_as_json(star_lesson):
    data = json.loads(json.dumps(star_lesson.to_json()))
    assert [s["key"] for s in data["steps"]] == [s.key for s in STEPS]
    assert data["image"] == "shapes_star.png" and data["variant"] == "shapes"
    assert data["analysis"]["top_k"][0]["probability"] == star_lesson.analysis.predictions[0].probability
    assert data["knockout"]["after"]["target_probability"] == star_lesson.knockout.after.target.probability
    assert [f["stage"] for f in data["fields"]] == [1, 4]
    assert {r["arm"] for r in data["lab"]["shapes"]} >= {"pooling", "identity"}


@pytest.mark.slow
def test_the_cli_writes_one_self_contained_handout_with_ten_closed_answers(cli_handout, star_lesson):
    assert sorted(p.name for p in cli_handout.iterdir()) == ["figures", "lesson.html"]
    text = (cli_handout / "lesson.html").read_text(encoding="utf-8")
    assert_is_a_whole_handout(text)
    assert text.startswith('<!doctype html><html lang="en" dir="ltr">')
    # The numbers kept in the file are the measurement's, and the training note is said.
    assert lesson_data(text)["analysis"]["top_k"] == star_lesson.to_json()["analysis"]["top_k"]
    assert star_lesson.analysis.variant.training in text.replace("&#x27;", "'")


def test_the_handouts_pictures_are_the_measured_ones(star_lesson):
    text = handout.handout_html(star_lesson)
    heat = render.heatmap(star_lesson.analysis.stages[-1].cam_raw)
    assert any(
        p.size == heat.shape[1::-1] and np.array_equal(np.asarray(p.convert("RGB")), heat) for p in pictures(text)
    )


@pytest.mark.slow
def test_the_cli_writes_each_lesson_picture_as_a_slide_and_the_diagram_as_svg(cli_handout):
    folder = cli_handout / "figures"
    names = sorted(p.name for p in folder.iterdir())
    expected = [f"step-{n:02d}-{s.key}" for n, s in enumerate(STEPS, 1) if s.key != "lab"]
    assert [Path(n).stem for n in names] == expected
    assert "step-03-gradcam.png" in names and "step-04-block.svg" in names
    for name in names:
        if name.endswith(".png"):
            with Image.open(folder / name) as picture:
                assert max(picture.size) >= figures.SLIDE_WIDTH, name
    svg = ET.parse(folder / "step-04-block.svg").getroot()
    assert svg.find("{http://www.w3.org/2000/svg}style") is not None
    assert svg.find("{http://www.w3.org/2000/svg}title").text == "The PoolFormer block"


def _has_colour_bar(picture: np.ndarray, cmap: str) -> bool:
    """Whether a row of the picture is the colormap's ramp, where the figure draws its bars (inside
    the bar's one-pixel outline)."""
    ramp = render.colormap_table(cmap)[np.linspace(0, 255, figures.BAR_WIDTH).astype(int)].astype(int)[1:-1]
    left = figures.MARGIN
    rows = picture[:, left + 1 : left + figures.BAR_WIDTH - 1].astype(int)
    return bool((np.abs(rows - ramp[None]).max(axis=(1, 2)) <= 1).any())


def test_a_slide_figure_draws_its_caption_panels_and_colour_bar(star_lesson):
    gradcam = next(f for f in figures.lesson_figures(star_lesson) if f.name == "step-03-gradcam")
    picture = np.asarray(figures.slide_picture(gradcam))
    assert picture.shape[1] >= figures.SLIDE_WIDTH
    assert _has_colour_bar(picture, "jet") and not _has_colour_bar(picture, "inferno")
    caption_strip = picture[figures.MARGIN : figures.MARGIN + figures.CAPTION_PX]
    assert (caption_strip.min(axis=2) < 60).any(), "the caption is drawn in dark text above the panels"
    # Four panels, each the stage's overlay enlarged: its centre pixel is the overlay's.
    assert len(gradcam.panels) == 4
    assert np.array_equal(gradcam.panels[0].picture, render.overlay(star_lesson.analysis.input_image,
                                                                   star_lesson.analysis.stages[0].cam))  # fmt: skip


def test_explores_pictures_save_at_slide_resolution(star_lesson):
    made = figures.explore_figures(star_lesson.analysis)
    assert [f.name for f in made] == [
        "explore-gradcam",
        "explore-features-pca",
        "explore-features-mean",
        "explore-features-channels",
    ]
    for figure in made:
        assert figures.slide_picture(figure).width >= figures.SLIDE_WIDTH


BAD_INPUTS = ("unreadable image", "unknown variant", "variant without weights")


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_to_lesson_gets_analyzes_message_and_writes_nothing(case, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("POOLFORMER_WEIGHTS_DIR", raising=False)
    image, variant = str(STAR), "shapes"
    if case == "unreadable image":
        image = str(tmp_path / "notes.jpg")
        Path(image).write_text("not an image")
    elif case == "unknown variant":
        variant = "s99"
    else:
        # m48 is never in the session's offline caches.
        variant = "m48"

    def error_line(command: str) -> tuple[int, str]:
        try:
            status = main([command, image, "--variant", variant, "--out", str(tmp_path / command)])
        except SystemExit as exit_:
            status = exit_.code
        lines = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
        return status, lines[0].replace(f"python -m poolformer_demo {command}: ", "")

    analyze_status, analyze_says = error_line("analyze")
    lesson_status, lesson_says = error_line("lesson")
    assert lesson_says == analyze_says and lesson_status == analyze_status != 0
    assert not (tmp_path / "lesson").exists()


def test_the_lang_option_takes_the_catalogs_languages(capsys):
    with pytest.raises(SystemExit):
        main(["lesson", str(STAR), "--lang", "xx", "--out", "unused"])
    said = capsys.readouterr().err
    assert "invalid choice: 'xx'" in said
    assert all(f"'{lang.code}'" in said for lang in i18n.languages()) and len(i18n.languages()) > 1


def test_the_handout_is_written_in_the_language_asked_for(star_lesson, tmp_path, monkeypatch):
    english = (i18n.CATALOG_DIR / "en.po").read_text(encoding="utf-8")
    (tmp_path / "en.po").write_text(english, encoding="utf-8")
    arabic = english.replace('"Language: en\\n"', '"Language: ar\\n"').replace(
        "The MetaFormer lesson on {image}", "درس ميتافورمر على {image}"
    )
    (tmp_path / "ar.po").write_text(arabic.replace("X-Language-Name: English", "X-Language-Name: العربية"), "utf-8")
    shipped = i18n.use_catalog_folder(tmp_path)
    try:
        text = handout.handout_html(star_lesson, "ar")
    finally:
        i18n.use_catalog_folder(shipped)
    assert text.startswith('<!doctype html><html lang="ar" dir="rtl">')
    assert "<h1>درس ميتافورمر على shapes_star.png</h1>" in text


def test_the_tabs_download_reuses_its_stored_measurements_and_one_file(tab, runner):
    for number in range(1, len(STEPS) + 1):
        tab.show_step(None, number)
    started = runner.started
    first = Path(tab.download(None)["value"])
    # The lab's reference is the one measurement the page's steps do not store.
    assert runner.started - started <= 1
    started = runner.started
    second = Path(tab.download(None)["value"])
    assert runner.started == started and second == first
    assert_is_a_whole_handout(first.read_text(encoding="utf-8"))
    assert not list(first.parent.glob(".*.tmp")), "no temporary file is left behind"
