"""The lab's readings compare arms seed by seed and turn round on altered numbers: paired wording
("higher on k of n seeds"), chance beside accuracies, "did not ... within N steps", and speed told
apart from capacity where a budget ends while arms still learn."""

from __future__ import annotations

from dataclasses import replace

import pytest

from poolformer_demo import lesson as lesson_module
from poolformer_demo.readings import lab, lab_arms, lesson, seeds
from poolformer_demo.readings.norm import control_reading
from poolformer_demo.shapes.arms import ARMS
from poolformer_demo.shapes.lab import ArmRun
from poolformer_demo.shapes.lab_results import (
    ArmSummary,
    SeedScore,
    late_gain,
    load_reference,
    reference_path,
    summarize,
)


def arm(name: str, *accuracies: float, gains: tuple[float | None, ...] = ()) -> ArmSummary:
    """An arm's summary from its seeds' accuracies (seeds 0, 1, ...), with their late gains."""
    mean = sum(accuracies) / len(accuracies)
    per_seed = tuple(SeedScore(i, a, gains[i] if i < len(gains) else None) for i, a in enumerate(accuracies))
    paper = ARMS[name].paper
    return ArmSummary(name, ARMS[name].title, len(accuracies), mean, 0.0, 0.3, 0.0, paper and paper.top1, per_seed)


# ---------------------------------------------------------------------------------------------
# Seed by seed
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mine", "theirs", "kind"),
    [
        ((0.9, 0.9, 0.9), (0.8, 0.8, 0.8), "higher"),
        ((0.9, 0.9, 0.8), (0.8, 0.8, 0.8), "higher"),
        ((0.9, 0.8, 0.8), (0.8, 0.8, 0.8), "partly_higher"),
        ((0.7, 0.7, 0.8), (0.8, 0.8, 0.8), "lower"),
        ((0.9, 0.7, 0.8), (0.8, 0.8, 0.8), "mixed_alike"),
        ((0.9, 0.7), (0.8, 0.8), "mixed"),
        ((0.81, 0.8, 0.79), (0.8, 0.8, 0.8), "alike"),
    ],
)
def test_a_paired_comparison_counts_seeds_higher_lower_and_alike(mine, theirs, kind):
    assert seeds.paired(arm("identity", *mine), arm("pooling", *theirs)).kind == kind


def test_a_difference_of_exactly_the_margin_is_alike_and_just_above_it_is_not():
    at = seeds.paired(arm("identity", 0.52), arm("pooling", 0.5))
    assert at.kind == "alike"
    above = seeds.paired(arm("identity", 0.5 + seeds.SAME_WITHIN + 0.001), arm("pooling", 0.5))
    assert above.kind == "higher"


def test_the_paired_sentence_says_k_of_n_seeds_with_the_range_of_the_differences():
    text = seeds.paired(arm("identity", 0.993, 0.927, 0.98), arm("pooling", 0.9, 0.807, 0.903)).text()
    assert text == "Against pooling, identity scored higher on 3 of 3 seeds, by 7.7–12.0 points, and lower on none."
    one = seeds.paired(arm("identity", 0.9), arm("pooling", 0.8)).text()
    assert "on 1 of 1 seed, by 10.0 points" in one
    mixed = seeds.paired(arm("random", 0.853, 0.957), arm("pooling", 0.9, 0.807)).text()
    assert "higher on 1 and lower on 1 of 2 seeds (differences from −4.7 to +15.0 points)" in mixed


def test_arms_without_a_common_seed_are_not_compared():
    other = replace(arm("pooling", 0.5), per_seed=(SeedScore(7, 0.5),))
    assert seeds.paired(arm("identity", 0.9), other).kind == "unpaired"


def test_a_runs_late_gain_is_its_rise_over_the_last_quarter_of_its_measurements():
    run = ArmRun(
        "pooling", 0, 1200, 0.9, 0.5, (), 1, 1.0, held_out=((300, 0.5), (900, 0.82), (1000, 0.85), (1200, 0.9))
    )
    assert late_gain(run) == pytest.approx(0.08)
    assert late_gain(replace(run, held_out=((1200, 0.9),))) is None


def test_arms_still_rising_at_the_end_turn_the_reading_to_speed_not_capacity():
    threshold = seeds.STILL_RISING
    rising = seeds.still_rising([arm("pooling", 0.9, 0.8, gains=(threshold, 0.05))], 1200)
    assert rising.kind == "still_learning"
    assert "pooling (2 of 2 seeds, up 3.0–5.0 points)" in rising.text() and "how fast they learn" in rising.text()
    assert "last 300 steps" in rising.text()
    settled = seeds.still_rising([arm("pooling", 0.9, 0.8, gains=(threshold - 0.001, 0.0))], 1200)
    assert settled.kind == "settled" and "let every arm settle" in settled.text()


def test_seeds_that_did_not_leave_chance_beside_seeds_that_learned_are_named_within_the_budget():
    stuck = seeds.stuck_seeds([arm("random", 0.5, 1.0, 0.52), arm("pooling", 1.0, 1.0, 1.0)], 0.5, 600)
    assert stuck.kind == "split"
    assert "did not leave chance within 600 steps" in stuck.text()
    assert "the frozen random matrix (2 of 3 seeds: seed 0 at 50.0 %)" in stuck.text()
    all_stuck = seeds.stuck_seeds([arm("random", 0.5, 0.5, 0.5)], 0.5, 600)
    assert all_stuck.kind == "none" and all_stuck.text() == ""


# ---------------------------------------------------------------------------------------------
# The lab's sentences
# ---------------------------------------------------------------------------------------------


def mixers(pooling, identity, random, conv):
    return [arm("pooling", *pooling), arm("identity", *identity), arm("random", *random), arm("conv", *conv)]


@pytest.mark.parametrize(
    ("rows", "kind"),
    [
        (((0.8, 0.8), (0.9, 0.9), (0.7, 0.7), (0.9, 0.9)), "free_ahead"),
        (((0.8, 0.8), (0.7, 0.7), (0.7, 0.7), (0.9, 0.9)), "only_conv"),
        (((0.8, 0.8), (0.9, 0.7), (0.7, 0.7), (0.8, 0.8)), "not_clearly"),
        (((0.8, 0.8), (0.8, 0.8), (0.7, 0.7), (0.7, 0.7)), "shares_lead"),
        (((0.8, 0.8), (0.7, 0.7), (0.7, 0.7), (0.7, 0.7)), "wins"),
        (((0.8, 0.8), (0.8, 0.8), (0.8, 0.8), (0.8, 0.8)), "tie"),
    ],
)
def test_the_mixers_headline_follows_the_seed_by_seed_comparisons(rows, kind):
    lead = lab.mixers_lead(mixers(*rows), 600)
    assert lead.kind == kind and "with pooling at 80.0 % after 600 steps" in lead.text()


def test_identity_against_pooling_is_said_beside_the_paper_and_turns_round():
    reverse = lab.against_paper(mixers((0.8, 0.8), (0.9, 0.95), (0.8, 0.8), (0.8, 0.8)), "shapes", 1200)
    assert reverse.kind == "reverse"
    assert "identity scored higher than pooling on 2 of 2 seeds, by 10.0–15.0 points: the reverse of the paper" in (
        reverse.text()
    )
    agrees = lab.against_paper(mixers((0.8, 0.8), (0.7, 0.7), (0.8, 0.8), (0.8, 0.8)), "shapes", 1200)
    assert agrees.kind == "agrees" and "as in the paper, whose S12 lost 2.9 points" in agrees.text()
    level = lab.against_paper(mixers((1.0, 1.0), (1.0, 1.0), (0.8, 0.8), (0.8, 0.8)), "pairs", 600)
    assert level.kind == "level" and "identity (100.0 %) and pooling (100.0 %) scored within 2.0 points" in level.text()


def test_without_the_mlp_the_reading_says_carries_only_when_it_is_lowest_and_below_pooling_on_most_seeds():
    rows = [*mixers((0.9, 0.9), (0.9, 0.9), (0.9, 0.9), (0.9, 0.9)), arm("no_mlp", 0.27, 0.27)]
    reading, comparison = lab_arms.without_mlp(rows, 1 / 6)
    assert reading.kind == "carries" and "(chance: 16.7 %)" in reading.text() and comparison.kind == "lower"
    rows[-1] = arm("no_mlp", 0.5, 0.98)
    assert lab_arms.without_mlp(rows, 0.5)[0].kind == "not_lower"
    rows += [arm("no_residual", 0.3, 0.3)]
    rows[-2] = arm("no_mlp", 0.6, 0.6)
    assert lab_arms.without_mlp(rows, 0.5)[0].kind == "lower"


def test_without_residuals_the_reading_names_which_arm_it_is_below_seed_by_seed():
    rows = [*mixers((0.9, 0.8, 0.9), (0.9, 0.9, 0.9), (0.9, 0.9, 0.9), (1.0, 1.0, 1.0))]
    falls, _ = lab_arms.without_residuals([*rows, arm("no_residual", 0.5, 0.5, 0.5)], 1 / 6, 12)
    assert falls.kind == "falls" and "falls to 50.0 % (per seed 50.0, 50.0 and 50.0 %; chance: 16.7 %)" in falls.text()
    below, said = lab_arms.without_residuals([*rows, arm("no_residual", 0.38, 0.443, 0.927)], 1 / 6, 12)
    assert below.kind == "below_best" and "lower than the depthwise convolution with them on most seeds" in below.text()
    assert [c.kind for c in said] == ["lower", "mixed"]
    trains, _ = lab_arms.without_residuals([*rows, arm("no_residual", 1.0, 1.0, 1.0)], 1 / 6, 12)
    assert trains.kind == "trains" and "this 12-block network trains as well as with them" in trains.text()


def _pointing(best: float, centre: float, random: float):
    result, _ = load_reference(reference_path("shapes"))
    runs = tuple(replace(r, pointing_game=best if r.arm == "conv" else 0.0) for r in result.runs)
    result = replace(result, runs=runs, centre_baseline=centre, chance_pointing=random)
    rows = [replace(s, pointing_mean=best if s.arm == "conv" else 0.0) for s in summarize(result)]
    return lab_arms.pointing(result, rows)


def test_the_pointing_reading_measures_the_best_arm_against_the_stronger_baseline():
    below = _pointing(0.67, 0.887, 0.179)
    assert below.kind == "below_centre" and "none of these models beats the prior" in below.text()
    assert "above a map that peaks at a random pixel (17.9 %)" in below.text()
    assert _pointing(0.9, 0.887, 0.179).kind == "above_centre"
    assert _pointing(0.1, 0.887, 0.179).kind == "below_random"
    assert _pointing(0.3, 0.0, 0.058).kind == "above_random"


def test_the_norm_control_says_did_not_within_the_budget_not_cannot():
    grouped = [arm("pooling", 1.0, 1.0, 1.0), arm("identity", 1.0, 1.0, 1.0)]
    local = [arm("pooling", 0.5, 0.5, 0.53), arm("identity", 0.5, 0.5, 0.5)]
    text = " ".join(control_reading(grouped, local, 600, 0.5))
    assert "neither arm learned the task within 600 steps on any of 3 seeds" in text and "cannot" not in text
    assert "two numbers per norm that reach every position" in text
    one_learns = [arm("pooling", 0.5, 0.5, 0.56), arm("identity", 0.5, 0.5, 0.5)]
    assert "neither" not in " ".join(control_reading(grouped, one_learns, 600, 0.5))


def test_the_papers_norm_rows_stand_beside_the_norm_control_and_turn_with_it():
    grouped = [arm("pooling", 1.0, 1.0, 1.0), arm("identity", 1.0, 1.0, 1.0)]
    stuck = " ".join(control_reading(grouped, [arm("pooling", 0.5, 0.5), arm("identity", 0.5, 0.5)], 600, 0.5))
    assert (
        "worth 0.7 points there; on the pairs task, within 600 steps, it was the only path through which the "
        "pooling and identity networks learned the task" in stuck
    )
    learns = [arm("pooling", 1.0, 1.0), arm("identity", 1.0, 1.0)]
    said = " ".join(control_reading(grouped, learns, 600, 0.5))
    assert "worth 0.7 points there." in said and "the only path through which" not in said


def test_the_shipped_shapes_reference_says_identity_beat_pooling_on_every_seed_and_pooling_still_rose():
    result, rows = load_reference(reference_path("shapes"))
    accuracy = {(r.arm, r.seed): r.accuracy for r in result.runs}
    higher = sum(accuracy["identity", s] - accuracy["pooling", s] > seeds.SAME_WITHIN for s in result.seeds)
    text = " ".join(lab.reading(result, rows))
    assert (f"identity scored higher than pooling on {higher} of 3 seeds" in text) == (higher >= 2)
    rising = sum((late_gain(r) or 0) >= seeds.STILL_RISING for r in result.runs_of("pooling"))
    assert (f"pooling ({rising} of 3 seeds, up" in text) == (rising > 0)
    assert "beat" not in text.replace("beats the prior", "")


def test_the_lessons_lab_answer_leads_with_identity_against_pooling():
    result, shapes = load_reference(reference_path("shapes"))
    _, pairs = load_reference(reference_path("pairs"))
    lab = lesson_module.lab_reference()
    said = lesson.lab_step(shapes, pairs, lab.control, lab.control_steps, lab.grid)
    assert said[0].startswith("On the one-shape task after 1,200 steps, identity")
    assert any("with a per-position norm" in s for s in said)
