"""The core's readings turn round when their numbers do: knockouts, trust in an explanation, the
block's anatomy and the lesson's answers, each on altered numbers, at its thresholds' edges; the
mixer's high-pass step against edges measured on the image alone; and no tab importing another."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from paths import PACKAGE, STAR
from PIL import Image

from poolformer_demo.anatomy import BranchRatio, block_anatomy
from poolformer_demo.edges import edge_strength, mixer_at_edges
from poolformer_demo.faithfulness import Curves, FaithfulnessReport, FaithfulnessSettings, RandomBaseline
from poolformer_demo.labels import Prediction
from poolformer_demo.readings import block, knockout, lesson, trust
from poolformer_demo.readings.seeds import Paired
from poolformer_demo.readings.sentences import listed
from poolformer_demo.sanity import ALIKE, CHANCE_FLOOR, RandomModelBaseline, verdict
from poolformer_demo.ui.kit.view import more_html
from poolformer_demo.variants import get_variant

# ---------------------------------------------------------------------------------------------
# The shared helpers
# ---------------------------------------------------------------------------------------------


def test_a_count_of_seeds_takes_the_catalogs_singular_for_exactly_one():
    said = [Paired("alike", "identity", "pooling", (0.0,) * n).text() for n in (1, 2)]
    assert said == [
        "Against pooling, identity scored within 2.0 points on 1 of 1 seed.",
        "Against pooling, identity scored within 2.0 points on 2 of 2 seeds.",
    ]


def test_listed_joins_the_last_item_with_and():
    assert [listed(items) for items in ([], ["a"], ["a", "b"], ["a", "b", "c"])] == ["", "a", "a and b", "a, b and c"]


def test_a_long_answer_shows_two_sentences_and_keeps_the_rest_behind_more():
    shown = more_html(["One.", "Two <b>.", "Three."])
    head, rest = shown.split("<details", 1)
    assert head.strip() == "One. Two &lt;b&gt;." and "<summary>more</summary>Three.</details>" in rest
    assert more_html(["One.", "Two."]) == "One. Two."


# ---------------------------------------------------------------------------------------------
# Knockouts
# ---------------------------------------------------------------------------------------------


SHAPES_FACTS = get_variant("shapes").bundled


def test_a_knockout_that_changes_a_tenth_of_the_answers_is_one_the_model_relies_on():
    at_edge = replace(SHAPES_FACTS, mixer_off_changed=knockout.MANY_CHANGED, mixer_off_accuracy=0.9)
    below = replace(SHAPES_FACTS, mixer_off_changed=knockout.MANY_CHANGED - 1 / 300)
    assert knockout.mixer_off("shapes", at_edge).kind == "relies_on_mixer"
    assert "changes 30 of 300 test answers" in knockout.mixer_off_note("shapes", at_edge)
    assert "relies on its token mixers" in knockout.mixer_off_note("shapes", at_edge)
    assert knockout.mixer_off("shapes", below).kind != "relies_on_mixer"


def test_fixed_norm_statistics_near_chance_say_the_model_mixes_through_its_norms():
    chance = 1 / 6
    near = replace(SHAPES_FACTS, fixed_norm_changed=0.83, fixed_norm_accuracy=chance + knockout.NEAR_CHANCE)
    above = replace(near, fixed_norm_accuracy=chance + knockout.NEAR_CHANCE + 0.01)
    note = knockout.mixer_off_note("shapes", near)
    assert knockout.mixer_off("shapes", near).kind == "through_norms"
    assert "mixes through its norms instead" in note and "249 of 300 answers change (accuracy 26.7 %" in note
    assert "chance, what one answer for every image scores, 17 %" in note
    assert knockout.mixer_off("shapes", above).kind == "neither"
    assert "mixes through its norms" not in knockout.mixer_off_note("shapes", above)


def test_no_changed_answer_is_said_as_none():
    note = knockout.mixer_off_note("shapes", replace(SHAPES_FACTS, mixer_off_changed=0.0, fixed_norm_accuracy=0.9))
    assert "changes none of 300 test answers" in note


def test_the_task_geometry_compares_the_object_or_the_gap_with_what_a_position_sees():
    assert knockout.task_reach(SHAPES_FACTS).kind == "fits_view"
    assert knockout.task_reach(replace(SHAPES_FACTS, theoretical_field_px=40)).kind == "exceeds_view"
    pairs = get_variant("pairs").bundled
    assert knockout.task_reach(pairs).kind == "beyond_view"
    wide = knockout.task_reach(replace(pairs, theoretical_field_px=100))
    assert wide.kind == "within_view" and "so one position can see both" in wide.text()


def test_the_fixed_statistics_answer_and_the_swap_are_said_from_their_numbers():
    pairs = get_variant("pairs").bundled
    one = replace(pairs, fixed_norm_answer="different colour", fixed_norm_answer_share=knockout.ONE_ANSWER)
    assert knockout.fixed_norm_answer(one).kind == "one_answer"
    assert "gives one answer, “different colour”, for 99.0 % of the images" in knockout.mixer_off_note("pairs", one)
    assert knockout.fixed_norm_answer(replace(one, fixed_norm_answer_share=0.6)).kind == "leans"
    assert knockout.fixed_norm_answer(replace(one, fixed_norm_answer_share=0.5)).kind == "spread"
    decides = replace(pairs, swap_other_to_donor=knockout.DONOR_DECIDES + 0.01, swap_same_kept=0.99)
    assert "each norm's two numbers per image decide the answer" in knockout.mixer_off_note("pairs", decides)
    partly = replace(decides, swap_other_to_donor=knockout.DONOR_DECIDES)
    assert knockout.norm_swap(partly).kind == "partly" and "decide the answer" not in knockout.norm_swap(partly).text()
    unmeasured = replace(pairs, fixed_norm_answer=None, swap_other_to_donor=None, object_in_middle_window=None)
    assert "With those statistics fixed" not in knockout.mixer_off_note("pairs", unmeasured)
    assert "from a test image of another label" not in knockout.mixer_off_note("pairs", unmeasured)


def test_the_shapes_note_says_how_often_a_whole_shape_lies_in_one_positions_window():
    windows = replace(SHAPES_FACTS, object_in_middle_window=0.28, object_in_some_window=0.87)
    note = knockout.mixer_off_note("shapes", windows)
    assert "inside a middle stage-4 position's window in 28.0 % of them, and inside some" in note
    assert "87.0 %" in note
    assert "window" not in knockout.mixer_off_note("shapes", replace(windows, object_in_middle_window=None))


def _analysis(top: int, top_p: float, target_p: float, target: int = 1):
    labels = ("circle", "star", "square")
    return SimpleNamespace(
        labels=labels,
        predictions=(Prediction(top, labels[top], top_p),),
        target=Prediction(target, labels[target], target_p),
    )


def test_the_knockout_answer_turns_round_with_the_top_class_and_the_targets_change():
    before = _analysis(1, 0.9, 0.9)
    new_top = knockout.knockout_answer(before, _analysis(0, 0.6, 0.3))
    assert new_top.kind == "new_top" and "the top class is circle (60.0%) instead of star" in new_top.text()
    moved = knockout.knockout_answer(before, _analysis(1, 0.9 - knockout.BARELY, 0.9 - knockout.BARELY))
    assert moved.kind == "same_top" and "Barely" not in moved.text()
    barely = knockout.knockout_answer(before, _analysis(1, 0.895, 0.895))
    assert barely.kind == "barely" and "Other paths between positions remain" in barely.text()


# ---------------------------------------------------------------------------------------------
# Trust in an explanation
# ---------------------------------------------------------------------------------------------


def _check(to_original, between):
    ssim = (0.1,) * len(to_original)
    base = RandomModelBaseline(tuple(to_original), tuple(between), ssim, ssim, verdict(to_original, between))
    return SimpleNamespace(method="gradcam", baseline=base)


def test_the_sanity_reading_follows_the_cores_verdict_and_splits_its_inconclusive_by_the_floor():
    assert trust.sanity_reading(_check([ALIKE + 0.1] * 3, [0.1, 0.0, 0.05])).kind == "fails"
    assert trust.sanity_reading(_check([0.05, 0.0, 0.1], [0.1, 0.0, 0.05])).kind == "passes"
    at_floor = trust.sanity_reading(_check([0.3, 0.3, 0.3], [CHANCE_FLOOR] * 3))
    assert at_floor.kind == "image_driven" and "mean ρ at least 0.2" in at_floor.text()
    below_floor = trust.sanity_reading(_check([0.45, 0.4, 0.42], [0.1, -0.1, 0.0]))
    assert below_floor.kind == "inconclusive" and "not enough to fail (mean ρ up to 0.5)" in below_floor.text()
    assert "the trained map's ρ is +0.42 (from +0.40 to +0.45)" in below_floor.text()


def _report(deletion: dict, insertion: dict) -> FaithfulnessReport:
    fractions = np.linspace(0, 1, 3)
    methods = {
        n: Curves(np.zeros(3), np.zeros(3), deletion_auc=deletion[n], insertion_auc=insertion[n]) for n in deletion
    }
    random = RandomBaseline(np.zeros((2, 3)), np.zeros((2, 3)), np.array([0.5, 0.5]), np.array([0.5, 0.5]))
    return FaithfulnessReport(1, fractions, methods, random, None, FaithfulnessSettings(steps=2), 0.1)


def test_each_methods_verdict_names_the_curves_it_beats_random_on():
    report = _report({"a": 0.4, "b": 0.4, "c": 0.6, "d": 0.5}, {"a": 0.6, "b": 0.4, "c": 0.6, "d": 0.5})
    kinds = {name: trust.method_verdict(report, name).kind for name in report.methods}
    assert kinds == {"a": "both", "b": "deletion", "c": "insertion", "d": "neither"}


def test_the_faithfulness_summary_counts_its_methods_in_the_verb():
    one = trust.faithfulness_summary(_report({"gradcam": 0.4, "ig": 0.6}, {"gradcam": 0.6, "ig": 0.4}))
    assert one.text() == "Grad-CAM beats the random maps on both curves."
    two = trust.faithfulness_summary(_report({"gradcam": 0.4, "ig": 0.3}, {"gradcam": 0.6, "ig": 0.7}))
    assert two.text() == "Grad-CAM and Integrated Gradients beat the random maps on both curves."
    none = trust.faithfulness_summary(_report({"a": 0.6}, {"a": 0.4}))
    assert none.kind == "none" and none.text().startswith("No method beats")


# ---------------------------------------------------------------------------------------------
# Where on the picture (step 3)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "cells"),
    [
        (1, {0: "middle"}),
        (2, {0: "top", 1: "bottom"}),
        (3, {0: "top", 1: "middle", 2: "bottom"}),
        (4, {0: "top", 1: "middle", 2: "middle", 3: "bottom"}),
        (7, {0: "top", 1: "top", 2: "middle", 4: "middle", 5: "bottom", 6: "bottom"}),
    ],
)
def test_a_cell_is_named_by_where_its_centre_lies_on_the_picture(size, cells):
    for index, zone in cells.items():
        assert lesson.place(index, index, size, size)[0] == zone
        assert lesson.place(index, index, size, size)[1] == {"top": "left", "middle": "centre", "bottom": "right"}[zone]


def test_the_middle_cells_of_a_four_by_four_map_are_the_centre_not_the_top_left():
    cam = np.zeros((4, 4))
    cam[1, 1] = 1.0
    assert "row 2 of 4, column 2 of 4: the centre of the picture" in lesson.cam_peak("star", cam).text()
    cam[0, 3] = 2.0
    assert "row 1 of 4, column 4 of 4: the top right of the picture" in lesson.cam_peak("star", cam).text()


# ---------------------------------------------------------------------------------------------
# The block: likeness (step 5), the high-pass step (6), the branches (7)
# ---------------------------------------------------------------------------------------------


def test_the_likeness_answer_follows_the_correlation_and_names_the_half_that_changed_the_map():
    assert block.likeness(block.ALIKE_FROM, 0.9, 0.9).kind == "refines"
    assert block.likeness(block.ALIKE_FROM - 0.01, 0.9, 0.5).kind == "mlp_changes"
    mixer = block.likeness(0.3, 0.4, 0.9)
    assert mixer.kind == "mixer_changes" and "token-mixer half only 0.40" in mixer.text()
    assert block.correlation(np.arange(9.0), np.arange(9.0)) == pytest.approx(1.0)
    assert block.correlation(np.ones(4), np.arange(4.0)) == 0.0


def _square(size: int = 64, low: int = 0, high: int = 255) -> Image.Image:
    picture = np.full((size, size), low, dtype=np.uint8)
    picture[16:48, 16:48] = high
    return Image.fromarray(picture).convert("RGB")


def test_edges_are_found_on_the_image_where_a_square_has_its_border_and_nowhere_else():
    strength = edge_strength(_square(), (16, 16))
    border = np.zeros((16, 16), dtype=bool)
    border[3:5, 3:13] = border[11:13, 3:13] = border[3:13, 3:5] = border[3:13, 11:13] = True
    assert (strength[border] > 0).all() and strength[border].max() > 0.1
    assert (strength[~border] == 0).all()
    assert (edge_strength(Image.new("RGB", (64, 64), (90, 90, 90)), (16, 16)) == 0).all()


def test_a_colour_edge_of_equal_brightness_is_an_edge():
    picture = np.full((64, 64, 3), 120, dtype=np.uint8)
    picture[16:48, 16:48] = (0, 204, 0)  # as bright as the grey around it
    image = Image.fromarray(picture)
    assert np.asarray(image.convert("L"))[20, 20] == np.asarray(image.convert("L"))[0, 0]
    assert edge_strength(image, (16, 16))[4, 8] > 0.05


def test_the_mixers_size_at_edges_is_compared_on_edges_the_mixer_did_not_choose():
    image = _square()
    edges = edge_strength(image, (16, 16))
    at_edges = SimpleNamespace(mixer=np.stack([edges + 0.05, -edges - 0.05]), input_image=image)
    # The same image, a mixer large where the image is flat: the edges stay where the image has them.
    at_flat = SimpleNamespace(mixer=np.stack([edges == 0, edges == 0]).astype(float), input_image=image)
    assert block.high_pass(mixer_at_edges(at_edges), 2).kind == "at_edges"
    flat = block.high_pass(mixer_at_edges(at_flat), 2)
    assert flat.kind == "at_flat" and flat.text().startswith("Not at edges")
    plain = SimpleNamespace(mixer=np.stack([edges, -edges]), input_image=Image.new("RGB", (64, 64), (90, 90, 90)))
    assert block.high_pass(mixer_at_edges(plain), 2).kind == "no_edges"


def _edges(ratio: float, strength: float = 0.2):
    from poolformer_demo.edges import MixerAtEdges

    return MixerAtEdges(edge_mixer=ratio, flat_mixer=1.0, edge_strength=strength, flat_strength=0.0, positions=8)


def test_the_high_pass_answer_takes_a_side_only_beyond_its_margin():
    margin = block.EDGE_MARGIN
    assert block.high_pass(_edges(1 + margin + 0.01), 32).kind == "at_edges"
    assert block.high_pass(_edges(1 + margin), 32).kind == "even"
    assert block.high_pass(_edges(1 / (1 + margin)), 32).kind == "even"
    below = block.high_pass(_edges(0.5), 32)
    assert below.kind == "at_flat" and "only 0.50 of its size at the flatter half" in below.text()
    assert "At edges" not in below.text()
    assert block.high_pass(_edges(3.0, strength=block.FLAT_IMAGE - 0.001), 32).kind == "no_edges"
    assert "5.5× larger" in block.high_pass(_edges(5.5), 32).text()


@pytest.fixture(scope="module")
def star_block(shapes_model, one_torch_thread):
    cache, _ = shapes_model
    return block_anatomy(str(STAR), "shapes", stage=1, block=1, cache=cache)


def test_on_the_bundled_model_the_mixer_is_larger_at_the_stars_edges_and_silent_on_a_flat_image(
    shapes_model, star_block
):
    assert block.high_pass(mixer_at_edges(star_block), star_block.mixer.shape[0]).kind == "at_edges"
    flat = block_anatomy(Image.new("RGB", (128, 128), (120, 120, 120)), "shapes", cache=shapes_model[0])
    assert block.high_pass(mixer_at_edges(flat), flat.mixer.shape[0]).kind == "no_edges"


def test_the_mixer_branch_is_the_product_of_layer_scale_high_pass_and_norm(star_block):
    factors = block.mixer_factors(star_block)
    measured = next(b.mixer_ratio for b in star_block.branches if (b.stage, b.block) == (1, 1))
    assert factors.values()["branch"] == pytest.approx(measured, rel=1e-3)
    sizes = {"scale": factors.scale, "high_pass": factors.own, "norm": factors.norm}
    assert factors.kind == min(sizes, key=sizes.get)
    assert factors.scale_low <= factors.scale_high


def _block(stream: float, normed: float, mixer: float, scale: float):
    ones = np.ones((2, 4, 4))
    return SimpleNamespace(
        stage=1, block=1, input=stream * ones, normed=normed * ones, mixer=mixer * ones, layer_scale_1=np.full(2, scale)
    )


def test_the_factor_named_smallest_turns_round_with_the_numbers():
    norm = block.mixer_factors(_block(stream=10.0, normed=1.0, mixer=0.5, scale=1.0))
    assert norm.kind == "norm" and "the normalised map the mixer reads is 0.10 of the stream" in norm.text()
    high_pass = block.mixer_factors(_block(stream=1.0, normed=1.0, mixer=0.05, scale=1.0))
    assert high_pass.kind == "high_pass" and "the mixer's own (0.05 of the normalised map" in high_pass.text()
    scale = block.mixer_factors(_block(stream=1.0, normed=1.0, mixer=0.5, scale=0.02))
    assert scale.kind == "scale" and "the layer scale (0.02)" in scale.text()
    assert "The branch (0.01 of the stream)" in scale.text()


def test_the_branch_answer_says_smaller_or_larger_from_the_median_ratio():
    small = SimpleNamespace(branches=tuple(BranchRatio(1, i, 0.1 * i, 0.9) for i in range(1, 4)))
    large = SimpleNamespace(branches=tuple(BranchRatio(1, i, 1.0 + i, 0.9) for i in range(1, 4)))
    assert block.branch_sizes(small).text().startswith("Smaller. Over the 3 blocks")
    assert "median 0.20" in block.branch_sizes(small).text()
    assert block.branch_sizes(large).kind == "larger"


# ---------------------------------------------------------------------------------------------
# The receptive field (step 9)
# ---------------------------------------------------------------------------------------------


def _field(stage: int, size: int, inside: float):
    side = 128
    return SimpleNamespace(
        stage=stage, theoretical_size=size, mass_inside=inside, crop_size=(side, side), wider_than_crop=size >= side
    )


def test_the_field_answer_names_the_gradient_outside_the_box_as_the_norms():
    wider = lesson.field_reach([_field(1, 16, 0.948), _field(4, 244, 0.99)])
    assert wider.kind == "wider" and "244 px one, wider than the whole image" in wider.text()
    assert "94.8 % of the stage-1 position's gradient lies inside its box; the 5.2 % outside" in wider.text()
    within = lesson.field_reach([_field(1, 16, 0.999), _field(4, 100, 0.99)])
    assert within.kind == "within_sealed" and "wider than the whole image" not in within.text()


# ---------------------------------------------------------------------------------------------
# Layers
# ---------------------------------------------------------------------------------------------


def _imports(source: str, package: str) -> set[str]:
    """The modules some source imports, relative imports resolved against ``package``."""
    parts = package.split(".")
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found |= {module} | {f"{module}.{alias.name}" for alias in node.names}
    return found


def _file_imports(path: Path) -> set[str]:
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    return _imports(path.read_text(encoding="utf-8"), package)


def test_the_import_parser_resolves_relative_imports_to_modules():
    found = _imports("from ..inside import view\nfrom ...kit.view import md\nimport numpy", "poolformer_demo.ui.tabs.x")
    assert {"poolformer_demo.ui.tabs.inside.view", "poolformer_demo.ui.kit.view.md", "numpy"} <= found


def test_no_tab_imports_another_tab():
    tabs = PACKAGE / "ui" / "tabs"
    read = set()
    for tab in (d for d in tabs.iterdir() if d.is_dir() and not d.name.startswith("_")):
        for path in tab.rglob("*.py"):
            read.add(tab.name)
            others = {
                m
                for m in _file_imports(path)
                if m.startswith("poolformer_demo.ui.tabs.") and m.split(".")[3] != tab.name
            }
            assert not others, f"{path.relative_to(PACKAGE)} imports {sorted(others)}"
    assert {"explore", "explain", "compare", "inside", "lesson", "learn"} <= read


def test_the_readings_import_no_gradio_and_no_ui():
    paths = sorted((PACKAGE / "readings").glob("*.py"))
    assert len(paths) > 1
    for path in paths:
        imported = _file_imports(path)
        assert not any(m == "gradio" or m.startswith(("gradio.", "poolformer_demo.ui")) for m in imported), path.name
