"""The norm × mixer grid's readings follow its per-seed numbers: the norm's path, the mixers
without it, the two scales, and the cells' own summaries."""

from __future__ import annotations

import html
from dataclasses import replace

import pytest

from poolformer_demo.readings.grid import beside_norm, grid_reading, norm_carries, two_scales, without_norm_path
from poolformer_demo.shapes.lab import LAB_CONFIGS, ArmRun, LabResult
from poolformer_demo.shapes.lab_grid import LabGrid, grid_steps_markdown, paired_differences

STEPS = 600


def run(mixer: str, seed: int, held_out: list[float]) -> ArmRun:
    steps = [100 * (i + 1) for i in range(len(held_out))]
    return ArmRun(mixer, seed, steps[-1], held_out[-1], 0.0, (), 1000, 1.0, tuple(zip(steps, held_out)))


def grid(cells: dict[tuple[str, str], list[list[float]]]) -> LabGrid:
    """A grid whose (norm, mixer) cells hold one held-out curve per seed."""
    results = {}
    for (norm, mixer), curves in cells.items():
        runs = [run(mixer, seed, curve) for seed, curve in enumerate(curves)]
        config = replace(LAB_CONFIGS["pairs"], norm=norm)
        base = results.get(norm) or LabResult((), (), STEPS, 128, config, (), False, 0.0, 0.5)
        results[norm] = replace(
            base,
            arms=tuple(dict.fromkeys((*base.arms, mixer))),
            seeds=tuple(range(len(curves))),
            runs=(*base.runs, *runs),
        )
    mixers = tuple(dict.fromkeys(mixer for _, mixer in cells))
    seeds = tuple(range(max(len(curves) for curves in cells.values())))
    return LabGrid("pairs", mixers, seeds, tuple((n, results[n]) for n in ("group", "position") if n in results))


LEARNS = [0.5, 0.9, 1.0, 1.0, 1.0, 1.0]
CHANCE = [0.5] * 6
RISING = [0.5, 0.5, 0.5, 0.5, 0.55, 0.62]


def test_the_norm_carries_the_answer_when_identity_learns_with_it_and_never_without():
    shown = grid({("group", "identity"): [LEARNS] * 4, ("position", "identity"): [CHANCE] * 4})
    reading = norm_carries(shown)
    assert reading.kind == "norm_carries"
    assert "on 4 of 4 seeds with PoolFormer's one-group norm, and on none of the same 4" in reading.text()
    assert (
        grid({("group", "identity"): [LEARNS] * 3 + [CHANCE], ("position", "identity"): [CHANCE] * 4})
        .cell("group", "identity")
        .learned
        == 3
    )


def test_the_norm_reading_turns_round_when_identity_learns_without_it_too():
    same = grid({("group", "identity"): [LEARNS] * 4, ("position", "identity"): [LEARNS] * 4})
    assert norm_carries(same).kind == "no_difference"
    assert "the norm made no difference here" in norm_carries(same).text()
    helps = grid({("group", "identity"): [LEARNS] * 4, ("position", "identity"): [LEARNS] + [CHANCE] * 3})
    assert norm_carries(helps).kind == "norm_helps"
    assert "on 1 of the same 4" in norm_carries(helps).text()


def test_without_the_norms_path_the_reading_names_the_mixer_that_learned_on_most_seeds():
    shown = grid(
        {
            ("position", "identity"): [CHANCE] * 4,
            ("position", "pooling"): [CHANCE] * 4,
            ("position", "global"): [LEARNS] * 3 + [CHANCE],
        }
    )
    reading = without_norm_path(shown)
    assert reading.kind == "a_mixer_on_most" and reading.best == "global"
    assert "the global mean learned the task on 3 of 4 seeds within 600 steps" in reading.text()
    assert "identity 0, pooling 0 and the global mean 3" in reading.text()


def test_without_the_norms_path_a_few_seeds_or_none_are_said_as_such_with_the_budget():
    few = grid({("position", "identity"): [CHANCE] * 4, ("position", "global"): [LEARNS] + [CHANCE] * 3})
    assert without_norm_path(few).kind == "some_seeds"
    assert "no mixer learned the task on most seeds within 600 steps" in without_norm_path(few).text()
    none = grid({("position", "identity"): [CHANCE] * 4, ("position", "pooling"): [CHANCE] * 4})
    assert without_norm_path(none).kind == "none"
    assert "on any of 4 seeds within 600 steps" in without_norm_path(none).text()
    assert "cannot" not in without_norm_path(none).text()


def test_seeds_still_rising_at_the_end_make_the_reading_say_speed_not_capacity():
    rising = grid({("position", "identity"): [CHANCE] * 3, ("position", "pooling"): [RISING, RISING, CHANCE]})
    reading = without_norm_path(rising)
    assert reading.rising == 2
    assert "2 runs that had not learned the task were still rising at step 600" in reading.text()
    one = grid({("position", "identity"): [CHANCE] * 3, ("position", "pooling"): [RISING, CHANCE, CHANCE]})
    assert "1 run that had not learned the task was still rising at step 600: for it," in without_norm_path(one).text()
    flat = grid({("position", "identity"): [CHANCE] * 3, ("position", "pooling"): [CHANCE] * 3})
    assert "still rising" not in without_norm_path(flat).text()


def test_the_two_scales_set_the_papers_norm_rows_beside_the_grid():
    shown = grid({("group", "identity"): [LEARNS] * 2, ("position", "identity"): [CHANCE] * 2})
    reading = two_scales(shown)
    assert reading.kind == "decides"
    assert "77.2 % and with a per-position LayerNorm 76.5 %, 0.7 points" in reading.text()
    assert "100.0 % against 50.0 %" in reading.text()
    level = grid({("group", "identity"): [CHANCE] * 2, ("position", "identity"): [CHANCE] * 2})
    assert two_scales(level).kind == "missing" and two_scales(level).text() == ""


def test_paired_differences_are_taken_seed_by_seed():
    shown = grid({("group", "pooling"): [LEARNS, CHANCE], ("group", "identity"): [CHANCE, LEARNS]})
    assert paired_differences(shown, "group", "pooling", "identity") == pytest.approx((0.5, -0.5))


def test_a_cell_counts_the_step_each_seed_first_reached_the_learned_level():
    shown = grid({("group", "pooling"): [LEARNS, CHANCE, [0.5, 0.5, 0.95]]})
    cell = shown.cell("group", "pooling")
    assert cell.learned_at == (200, None, 300) and cell.learned == 2
    assert [r.kind for r in grid_reading(shown)] == ["missing", "missing", "missing"]


def test_a_mixer_that_left_chance_without_learning_is_said_with_its_best_seed():
    partly = grid({("position", "identity"): [CHANCE] * 3, ("position", "global"): [[0.5, 0.8, 0.84], CHANCE, CHANCE]})
    reading = without_norm_path(partly)
    assert reading.kind == "none"
    assert "The global mean left chance without learning the task on 1 of 3 seeds (best 84.0 %)." in reading.text()


def test_the_norms_path_is_read_on_the_seeds_both_norms_have():
    uneven = grid({("group", "identity"): [LEARNS] * 5, ("position", "identity"): [CHANCE] * 2})
    assert "on 2 of 2 seeds with PoolFormer's one-group norm, and on none of the same 2" in norm_carries(uneven).text()


def test_the_grid_table_shows_each_cells_learned_seeds_and_every_seeds_accuracy_beside_the_paper():
    from poolformer_demo.ui.tabs.inside.grid_view import grid_api, grid_html

    shown = grid(
        {
            ("group", "identity"): [LEARNS, LEARNS],
            ("group", "pooling"): [LEARNS, CHANCE],
            ("position", "identity"): [CHANCE, CHANCE],
            ("position", "pooling"): [CHANCE, [0.5, 0.7, 0.84]],
        }
    )
    page = grid_html(shown, "python -m poolformer_demo.shapes lab --grid --task pairs")
    row = page.split('data-norm="group"')[1].split("</tr>")[0]
    assert '<b>2 of 2</b> learned<span class="pf-seeds"' in row and "100 · 100" in row and "77.2 %" in row
    position = page.split('data-norm="position"')[1].split("</tr>")[0]
    assert "50 · 84" in position and "76.5 %" in position
    assert "on 2 of 2 seeds with PoolFormer's one-group norm, and on none of the same 2" in html.unescape(page)
    data = grid_api(shown, "cmd")
    assert data["command"] == "cmd" and len(data["cells"]) == 4 and "one-group norm" in data["reading"]


def test_beside_the_norm_a_mixer_is_read_against_the_network_without_one_seed_by_seed():
    def read(pooling, identity):
        return beside_norm(grid({("group", "identity"): identity, ("group", "pooling"): pooling}), "pooling")

    fewer = read([LEARNS, CHANCE, LEARNS, CHANCE], [LEARNS] * 4)
    assert (fewer.kind, fewer.learned, fewer.identity_learned, fewer.only_identity) == ("fewer", 2, 4, 2)
    assert fewer.text().startswith("Pooling with the one-group norm learned the task within 600 steps on 2 of 4 seeds")
    assert "this mixer did not help on this task" in fewer.text()
    more = read([LEARNS] * 4, [LEARNS, CHANCE, LEARNS, CHANCE])
    assert more.kind == "more" and "did not help" not in more.text()
    mixed = read([LEARNS, CHANCE], [CHANCE, LEARNS])
    assert mixed.kind == "mixed" and "each learned it on seeds where the other did not (1 and 1)" in mixed.text()
    same = read([LEARNS, CHANCE], [LEARNS, CHANCE])
    assert same.kind == "same_seeds" and "on the same 1 of 2 seeds as the network without a token mixer" in same.text()
    # Only the seeds both cells have are compared.
    assert read([LEARNS, CHANCE, CHANCE], [LEARNS, CHANCE]).kind == "same_seeds"


def test_beside_the_norm_every_mixer_but_identity_is_read_in_the_grids_order():
    shown = grid(
        {("group", "identity"): [LEARNS] * 2, ("group", "pooling"): [LEARNS, CHANCE], ("group", "global"): [LEARNS] * 2}
    )
    kinds = [(r.mixer, r.kind) for r in grid_reading(shown) if hasattr(r, "mixer")]
    assert kinds == [("pooling", "fewer"), ("global", "same_seeds")]
    assert beside_norm(shown, "identity").kind == "missing"


def test_the_steps_table_gives_each_seeds_first_step_at_the_learned_level_and_a_dash_for_none():
    shown = grid({("group", "pooling"): [LEARNS, CHANCE], ("position", "pooling"): [CHANCE, [0.5, 0.95]]})
    assert grid_steps_markdown(shown).splitlines()[2:] == ["| group | 200 · – |", "| position | – · 200 |"]
