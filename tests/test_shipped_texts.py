"""The model cards and the lab's README quote the shipped files: each figure a sentence states is
rebuilt here from measurement.json or the lab's reference JSON, so a re-measured file that moves a
figure fails until the sentence is rewritten."""

import json
from pathlib import Path

import pytest
from paths import ASSETS, ROOT

from poolformer_demo.readings.grid import grid_reading
from poolformer_demo.shapes.lab_grid import grid_markdown, grid_path, grid_steps_markdown, load_grid
from poolformer_demo.shapes.lab_results import load_result, reference_path
from poolformer_demo.variants import PAIRS_DIR, PAPER_S12_ABLATIONS, SHAPES_DIR, norm_path_points


def _text(path: Path) -> str:
    # Sentences wrap across lines; compare with single spaces.
    return " ".join(path.read_text().split())


def _measured(folder: Path) -> dict:
    return json.loads((folder / "measurement.json").read_text())


def _count(share: float, images: int) -> int:
    return round(share * images)


def test_the_pairs_card_says_which_answer_fixed_statistics_give_and_how_the_swap_turns_the_answers():
    m, card = _measured(PAIRS_DIR), _text(PAIRS_DIR / "README.md")
    n = m["images"]
    assert m["fixed_norm_answer_share"] == 1.0
    assert f"answers “{m['fixed_norm_answer']}” for all {n} test images" in card
    other, same = m["swap_other_label"], m["swap_same_label"]
    assert f"{_count(other['to_donor_label'], n)} of {n} answers become that image's label" in card
    stages = [str(_count(s, n)) for s in other["stage_to_donor_label"]]
    assert f"{', '.join(stages[:-1])} and {stages[-1]} of {n} (stages 1-4" in card
    assert f"the stage-3 norms' alone turn {stages[2]} of {n}" in card
    assert f"{_count(same['kept'], n)} of {n} answers kept" in card
    shuffled = " / ".join(str(_count(s, n)) for s in m["shuffled_changed"])
    assert f"{shuffled} of {n} answers change" in card
    assert (
        _count(m["object_in_some_window"], n) == 0
        and f"both discs inside the 63 px window of one stage-4 position | 0 of {n}" in card
    )


def test_the_main_readme_quotes_the_pairs_models_fixed_statistics_answer_and_its_swap():
    m, readme = _measured(PAIRS_DIR), _text(ROOT / "README.md")
    assert m["fixed_norm_answer_share"] == 1.0 and f"answer “{m['fixed_norm_answer']}” for every image" in readme
    assert f"turn {_count(m['swap_other_label']['to_donor_label'], m['images'])} of {m['images']} answers" in readme
    assert "falls to chance" not in readme


def test_the_shapes_card_counts_the_images_whose_whole_object_one_stage4_window_holds():
    m, card = _measured(SHAPES_DIR), _text(SHAPES_DIR / "README.md")
    n = m["images"]
    middle, some = _count(m["object_in_middle_window"], n), _count(m["object_in_some_window"], n)
    assert f"the middle position (2, 2) in {middle} of the {n} test images" in card
    assert f"some stage-4 position in {some}; in the other {n - some} no position sees all of it" in card
    assert f"{middle} / {some} of {n}" in card
    other = m["swap_other_label"]
    changed = n - _count(other["kept"], n)
    assert f"changes {changed}, of which {_count(other['to_donor_label'], n)} become that shape" in card
    assert f"{_count(m['swap_same_label']['kept'], n)} of {n} answers kept" in card


def _held_out(result, arm: str, seed: int, step: int) -> float:
    run = next(r for r in result.runs if r.arm == arm and r.seed == seed)
    return 100 * dict(run.held_out)[step]


@pytest.fixture(scope="module")
def lab_readme() -> str:
    return _text(ASSETS / "lab" / "README.md")


def test_the_lab_readme_gives_each_shapes_arm_per_seed_at_steps_300_600_and_1200(lab_readme):
    shapes = load_result(reference_path("shapes"))
    for arm in ("pooling", "identity", "random", "conv"):
        for seed in shapes.seeds:
            triple = " / ".join(f"{_held_out(shapes, arm, seed, step):.0f}" for step in (300, 600, 1200))
            assert triple in lab_readme, (arm, seed, triple)
    ends = [f"{_held_out(shapes, 'no_residual', seed, 1200):.1f}" for seed in shapes.seeds]
    assert f"without residuals {ends[0]}, {ends[1]} and {ends[2]} % at the end" in lab_readme
    # The two lower no-residual seeds were still rising when the budget ended.
    rising = [(_held_out(shapes, "no_residual", s, 700), _held_out(shapes, "no_residual", s, 1200)) for s in (0, 1)]
    assert all(late > early for early, late in rising)
    assert f"({rising[0][0]:.1f} to {rising[0][1]:.1f} % and {rising[1][0]:.1f} to {rising[1][1]:.1f} %)" in lab_readme
    pooling_600 = ", ".join(f"{_held_out(shapes, 'pooling', s, 600):.1f}" for s in shapes.seeds[:2])
    assert (
        f"pooling: {pooling_600} and {_held_out(shapes, 'pooling', shapes.seeds[2], 600):.1f} % at step 600"
        in lab_readme
    )


def test_the_lab_readme_compares_the_shapes_mixers_with_pooling_seed_by_seed(lab_readme):
    shapes = load_result(reference_path("shapes"))
    for arm, phrase in (("conv", "depthwise convolution is above pooling"), ("identity", "and identity")):
        gaps = [_held_out(shapes, arm, s, 1200) - _held_out(shapes, "pooling", s, 1200) for s in shapes.seeds]
        above = sum(g > 0 for g in gaps)
        assert f"{phrase} on {above} of {len(gaps)} seeds (by {min(gaps):.1f} to {max(gaps):.1f} points)" in lab_readme
    gaps = [_held_out(shapes, "random", s, 1200) - _held_out(shapes, "pooling", s, 1200) for s in shapes.seeds]
    assert sum(g > 0 for g in gaps) == 2 and "above pooling on 2 of 3 seeds" in lab_readme
    assert "three seeds do not separate pooling from the random matrix" in lab_readme


def test_the_lab_readme_says_which_pairs_arm_is_first_with_the_files_figures(lab_readme):
    pairs = load_result(reference_path("pairs"))
    for arm, name in (("conv", "the convolution"), ("identity", "identity"), ("pooling", "pooling")):
        at_100 = [f"{_held_out(pairs, arm, s, 100):.1f}" for s in pairs.seeds]
        assert f"{name} at {at_100[0]}, {at_100[1]} and {at_100[2]} %" in lab_readme, (arm, at_100)
    conv_200 = [f"{_held_out(pairs, 'conv', s, 200):.1f}" for s in pairs.seeds]
    assert (
        f"the convolution gets there first (at step 200: {conv_200[0]}, {conv_200[1]} and {conv_200[2]} %)"
        in lab_readme
    )


def test_the_lab_readme_lists_the_papers_normalisation_rows_and_what_they_are_worth(lab_readme):
    for row in (r for r in PAPER_S12_ABLATIONS if r.group == "normalisation"):
        assert f"| {row.setting} | {row.norm} | {row.top1:g} % |" in lab_readme
    assert f"worth {norm_path_points():g} points" in lab_readme
    assert "<!-- grid:pairs -->" in lab_readme and "grid_pairs.json" in lab_readme


def test_the_lab_readme_shows_the_shipped_grid_its_steps_and_its_reading(lab_readme):
    grid = load_grid(grid_path("pairs"))
    section = lab_readme.split("<!-- grid:pairs -->")[1].split("<!-- /grid:pairs -->")[0]
    assert " ".join(grid_markdown(grid).split()) in section
    assert " ".join(grid_steps_markdown(grid).split()) in section
    for reading in grid_reading(grid):
        for sentence in reading.sentences():
            assert " ".join(sentence.split()) in section, sentence
    runs = sum(len(cell.seeds) for cell in grid.all_cells())
    assert f"{runs} runs of {grid.cells[0][1].steps} steps" in section
    learned = {(cell.norm, cell.mixer): cell.learned for cell in grid.all_cells()}
    n = len(grid.seeds)
    assert (
        f"with PoolFormer's norm, the network without a mixer learned it on {learned['group', 'identity']} of {n} "
        f"seeds, the global mean on {learned['group', 'global']}, pooling on {learned['group', 'pooling']} and the "
        f"frozen random matrix on {learned['group', 'random']}" in lab_readme
    )
    assert f"only the global mean learned it, on {learned['position', 'global']} of {n} seeds" in lab_readme
    assert sum(learned[("position", m)] for m in grid.mixers) == learned["position", "global"]
    card = _text(PAIRS_DIR / "README.md")
    assert (
        f"the identity learns this task on {learned['group', 'identity']} of {n} seeds "
        f"(pooling on {learned['group', 'pooling']})" in card
    )
    assert f"only the global mean, the longest reach, learned it on {learned['position', 'global']}" in card


def test_the_shapes_card_sets_the_aided_models_pointing_game_beside_the_centre_map():
    m, card = _measured(SHAPES_DIR), _text(SHAPES_DIR / "README.md")
    pointing, centre = 100 * m["pointing_game"], 100 * m["centre_baseline"]
    assert f"pointing game ({pointing:.1f} %) is {pointing - centre:.1f} points above" in card
    assert f"peaks at the image centre ({centre:.1f} %): no evidence" in card
