"""The lesson's handlers called directly on the bundled shapes model, and the block diagram."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import pytest
from paths import STAR

from poolformer_demo import lesson as lesson_module
from poolformer_demo.diagram import BOXES, FORMULAS, block_diagram_svg
from poolformer_demo.readings.knockout import mixer_off_note
from poolformer_demo.readings.seeds import LEARNED
from poolformer_demo.shapes.lab_results import load_reference, reference_path
from poolformer_demo.ui.kit.diagram_view import diagram_html
from poolformer_demo.ui.tabs.explore.page import EXAMPLES_DIR
from poolformer_demo.ui.tabs.lesson import view
from poolformer_demo.ui.tabs.lesson.page import LessonTab
from poolformer_demo.variants import get_variant


@pytest.fixture(scope="module")
def lesson(shapes_model, runner, one_torch_thread):
    cache, _ = shapes_model
    return LessonTab(cache, runner, EXAMPLES_DIR)


def answer_of(card: str) -> str:
    return re.sub(r"<[^>]+>", "", re.search(r'<div class="pf-answer">(.*?)</div>', card, re.S).group(1))


def test_the_lesson_has_ten_steps_each_a_claim_and_a_question():
    assert view.STEP_COUNT == 10
    assert len({s.key for s in view.STEPS}) == 10
    assert all(s.question.endswith("?") for s in view.STEPS)


@pytest.mark.parametrize("number", range(1, view.STEP_COUNT + 1))
def test_every_step_shows_its_view_and_a_measured_answer_without_an_analysis_yet(lesson, number):
    progress, card, _, shown = lesson.show_step(None, number)
    assert shown == number and f"Step {number} of 10" in progress
    assert f'data-step="{view.STEPS[number - 1].key}"' in card
    assert "⚠️" not in card
    assert "bundled example" in card and "shapes_star.png" in card
    view_html = card.split('<div class="pf-lesson-view">', 1)[1]
    assert re.search(r"<img |<table|<svg", view_html)
    assert all('alt="' in tag for tag in re.findall(r"<img [^>]*>", card))
    # Every answer but the diagram's states a number measured on this image or read from the lab.
    if view.STEPS[number - 1].key != "block":
        assert re.search(r"\d", answer_of(card)), number


def test_steps_out_of_range_are_clamped(lesson):
    assert lesson.show_step(None, 0)[-1] == 1
    assert lesson.forward(None, view.STEP_COUNT)[-1] == view.STEP_COUNT
    assert lesson.back(None, "not a number")[-1] == 1


def test_the_lab_step_reads_both_tasks_and_the_grids_per_position_row_from_the_shipped_files():
    shapes_result, shapes = load_reference(reference_path("shapes"))
    _, pairs = load_reference(reference_path("pairs"))
    lab = lesson_module.lab_reference()
    control_rows = lab.control
    table, answer = view.lab(shapes, pairs, control_rows, lab.control_steps, lab.grid)
    shown = {s.arm for s in shapes}  # the table's rows are the lab's arms (the grid's global mean is not one)
    for rows in (shapes, pairs, control_rows):
        for row in (r for r in rows if r.arm in shown):
            assert f"{100 * row.accuracy_mean:.1f} % ± {100 * row.accuracy_std:.1f}" in table
    assert 'chance (a guess)</td><td class="pf-num">16.7 %</td><td class="pf-num">50.0 %</td>' in table
    # Identity against pooling, seed by seed, from the shipped runs themselves.
    accuracy = {(r.arm, r.seed): r.accuracy for r in shapes_result.runs}
    gaps = [accuracy["identity", seed] - accuracy["pooling", seed] for seed in shapes_result.seeds]
    higher = sum(g > 0.02 for g in gaps)
    said = answer.split("<details", 1)[0]
    assert ("the reverse of the paper" in said) == (higher == len(gaps))
    if higher == len(gaps):
        assert f"identity scored higher than pooling on {higher} of {len(gaps)} seeds" in said
    assert "with a per-position norm, identity reaches" in answer


def test_the_diagram_is_svg_with_one_focusable_button_per_step_plain_names_first():
    svg = block_diagram_svg("norm1")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    buttons = [g for g in root.iter(f"{ns}g") if g.get("role") == "button"]
    assert len(buttons) == len(BOXES)
    assert all(g.get("tabindex") == "0" for g in buttons)
    assert [g.get("aria-pressed") for g in buttons].count("true") == 1
    first_lines = [[t.text for t in g.iter(f"{ns}text")] for g in buttons]
    assert ["normalise", "before_norm"] in first_lines and ["scale each channel", "layer_scale_1"] in first_lines
    assert root.find(f"{ns}title").text and "skip connections" in root.find(f"{ns}desc").text
    page = diagram_html()
    assert all(f in page.replace("&#x27;", "'") for f in FORMULAS)


def test_the_branch_plot_takes_a_scale_for_a_projector():
    from poolformer_demo import plots
    from poolformer_demo.anatomy import BranchRatio

    branches = tuple(BranchRatio(stage, block, 0.05 * block, 0.5) for stage in range(1, 5) for block in (1, 2))
    small, large = plots.branch_ratio_plot(branches), plots.branch_ratio_plot(branches, scale=1.6)
    assert large.shape[0] > small.shape[0] and large.shape[1] == small.shape[1]


def test_the_knockout_step_on_a_bundled_model_adds_its_measured_note(lesson):
    _, card, *_ = lesson.show_step(None, next(i + 1 for i, s in enumerate(view.STEPS) if s.key == "knockout"))
    measured = mixer_off_note("shapes", get_variant("shapes").bundled)
    assert html.escape(measured) in card


def test_the_lab_steps_norm_reading_compares_the_grids_two_rows_on_the_same_seeds():
    lab = lesson_module.lab_reference()
    group = lab.grid.cell("group", "identity")
    _, answer = view.lab(lab.shapes, lab.pairs, lab.control, lab.control_steps, lab.grid)
    learned = sum(a > 0.5 + LEARNED for a in group.accuracies)
    assert f"identity learned on {learned} of {len(group.seeds)} seeds" in answer
    # The table's caption counts the network the pooling and identity arms share, not the convolution's.
    pooling = next(s for s in lab.shapes if s.arm == "pooling")
    table, _ = view.lab(lab.shapes, lab.pairs, lab.control, lab.control_steps, lab.grid)
    assert f"about {pooling.parameters / 1e6:.2f} M parameters" in table


def test_a_box_wider_than_the_image_is_captioned_by_its_width_not_by_the_gradient_it_holds(shapes_model):
    from poolformer_demo.lesson import CENTRE
    from poolformer_demo.receptive_field import receptive_field

    cache, _ = shapes_model
    fields = tuple(receptive_field(STAR, "shapes", stage=s, cache=cache, at=CENTRE) for s in (1, 4))
    pictures, _ = view.field(fields)
    assert fields[0].theoretical_size < 128 <= fields[1].theoretical_size
    assert "of the gradient inside it" in pictures.split("Stage 4")[0]
    assert f"Stage 4: box {fields[1].theoretical_size} px wide, wider than the 128 px image" in pictures
