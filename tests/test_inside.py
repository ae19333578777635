"""The "Inside the block" tab: its handlers called directly, the served `/anatomy`, `/knockout` and
`/receptive_field` endpoints through gradio_client, and the tab in a real browser."""

from __future__ import annotations

import json
import re

import gradio as gr
import numpy as np
import pytest
import torch
from browsing import ERROR_TOAST, TIMEOUT_MS, VIEWPORT, assert_no_error_toast, images_loaded, wait_until
from paths import ASSETS, PHOTO, STAR

from poolformer_demo import analyze, render
from poolformer_demo.anatomy import STEPS
from poolformer_demo.errors import SelectionError
from poolformer_demo.i18n import english
from poolformer_demo.knockouts import ZeroBranch
from poolformer_demo.readings.knockout import MANY_CHANGED, NEAR_CHANCE
from poolformer_demo.receptive_field import grid_cell
from poolformer_demo.shapes.data import IMAGE_SIZE, MAX_OBJECT_FRACTION
from poolformer_demo.testing import decode_data_uri as decode
from poolformer_demo.testing import forward_hook_count
from poolformer_demo.ui import app as ui_app
from poolformer_demo.ui.tabs.explore.view import Session
from poolformer_demo.ui.tabs.inside import view as present_inside
from poolformer_demo.ui.tabs.inside.page import InsideTab
from poolformer_demo.ui.tabs.learn.view import learn_markdown
from poolformer_demo.variants import VARIANTS

SHAPES_DEPTHS = VARIANTS["shapes"].depths


def sources(html: str, css_class: str) -> list[str]:
    return re.findall(rf'<img class="{css_class}"[^>]* src="([^"]+)"', html)


@pytest.fixture(scope="module")
def tab(app_cache, runner):
    return InsideTab(app_cache, runner)


@pytest.fixture(scope="module")
def anatomy_page(tab, star_session):
    return tab.show_anatomy(star_session, 3, 2)


# ---------------------------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------------------------


def test_anatomy_shows_the_crop_seven_steps_at_the_maps_size_and_the_branch_plot(anatomy_page):
    status, html, _ = anatomy_page
    assert status == ""
    assert re.findall(r'data-step="(\w+)"', html) == list(STEPS)
    steps = [decode(uri) for uri in sources(html, "pf-cells")]
    # Stage 3 of the shapes model is 8x8: one pixel per position, enlarged by the browser.
    assert [s.size for s in steps] == [(8, 8)] * len(STEPS)
    assert decode(sources(html, "pf-photo")[0]).size == (128, 128)
    plot = re.search(r'alt="branch ratios of every block" src="([^"]+)"', html).group(1)
    assert decode(plot).width > 300
    assert "Stage 3, block 2 of PoolFormer-SHAPES" in html
    assert "diverging colormap centred on 0" in html
    # The signed steps are drawn with the diverging colormap, the others with the feature colormap.
    diverging = {tuple(c) for c in render.colormap_table(render.DIVERGING_CMAP)}
    for name, picture in zip(STEPS, steps):
        colours = {tuple(c) for c in np.asarray(picture.convert("RGB")).reshape(-1, 3)}
        assert (colours <= diverging) == (name in ("mixer", "mlp")), name


def test_the_block_menu_follows_the_models_depth_in_the_chosen_stage(star_session, photo_session):
    assert InsideTab.blocks_for(photo_session, 3, 5) == gr.update(
        choices=present_inside.block_choices("s12", 3), value=5
    )
    assert len(present_inside.block_choices("s12", 3)) == 6
    assert InsideTab.blocks_for(photo_session, 1, 5)["value"] == 1  # stage 1 of S12 has two blocks
    assert InsideTab.blocks_for(star_session, 3, 1)["choices"] == [("block 1", 1), ("block 2", 2)]
    source, menu = InsideTab.follow(star_session, 1, 1)
    assert "shapes\\_star.png" in source and "PoolFormer-SHAPES" in source and "*star*" in source
    assert len(menu["choices"]) == SHAPES_DEPTHS[0]
    assert InsideTab.follow(None, 1, 1)[0] == english().text("inside.no_session")


def test_knockout_presets_tick_every_stage_of_one_part_and_none_of_the_other():
    every = ["1", "2", "3", "4"]
    assert [value for _, value in present_inside.knockout_stage_choices()] == every
    presets = {
        english().text(key): present_inside.preset_stages(mixer, mlp)
        for key, mixer, mlp in present_inside.KNOCKOUT_PRESETS
    }
    assert presets == {
        "Token mixer off everywhere": (every, []),
        "Channel MLP off everywhere": ([], every),
        "Nothing off": ([], []),
    }


def test_bundled_models_say_what_mixer_off_does_with_their_measured_numbers():
    def on(variant: str) -> Session:
        return Session(image="x.png", image_key="", variant=variant, labels=(), target=0)

    assert present_inside.knockout_note(on("s12")) == "" and present_inside.knockout_note(None) == ""
    for name, chance in (("shapes", 1 / 6), ("pairs", 1 / 2)):
        measured = json.loads((ASSETS / f"demo_{name}" / "measurement.json").read_text())
        note = present_inside.knockout_note(on(name))
        changed = round(measured["mixer_off_changed"] * measured["images"])
        assert f"changes {changed or 'none'} of {measured['images']} test answers" in note
        assert f"{100 * measured['mixer_off_accuracy']:.1f} % without" in note
        assert f"{measured['field']['theoretical_px']} px of the 128 px image" in note
        # The framing follows the numbers: a knockout the model relies on, its norms instead, or neither.
        relies_on_mixer = measured["mixer_off_changed"] >= MANY_CHANGED
        relies_on_norms = not relies_on_mixer and measured["fixed_norm_accuracy"] <= chance + NEAR_CHANCE
        assert ("relies on its token mixers" in note) == relies_on_mixer
        assert ("mixes through its norms instead" in note) == relies_on_norms
        # What the task asks is said either way, from the task's own geometry.
        assert ("The task needs mixing: its two discs lie at least 72 px apart" in note) == (name == "pairs")
        largest, field = round(MAX_OBJECT_FRACTION * IMAGE_SIZE), measured["field"]["theoretical_px"]
        assert (f"is at most {largest} px across, less than the {field} px" in note) == (name == "shapes")
        if relies_on_norms:
            fixed = round(measured["fixed_norm_changed"] * measured["images"])
            assert f"{fixed} of {measured['images']} answers change" in note


def test_failures_say_why_and_keep_the_last_pictures(tab, star_session, tmp_path):
    gone = Session(
        image=str(tmp_path / "gone.png"), image_key="", variant="shapes", labels=star_session.labels, target=3
    )
    cases = [
        (tab.show_anatomy(None, 1, 1), "Analyse an image on the **Explore** tab first"),
        (tab.show_anatomy(star_session, 3, 9), "There is no block 9 in stage 3: it has blocks 1 to 2."),
        (tab.show_knockout(star_session, [], []), english().text("error.knockout.nothing")),
        (tab.show_field(gone, 1, None), english().text("inside.image_gone")),
    ]
    for outputs, message in cases:
        status, *rest = outputs
        assert status.startswith("⚠️ ") and message in status
        assert "still the last ones" in status
        assert all(value == gr.skip() for value in rest)


def test_a_knockout_changes_top5_and_grad_cam_for_the_same_class(tab, photo_session):
    status, html, _ = tab.show_knockout(photo_session, [1, 2, 3, 4], [])
    assert status == ""
    before, after = sources(html, "pf-heat pf-before"), sources(html, "pf-heat pf-after")
    assert decode(before[0]).size == decode(after[0]).size == (7, 7)
    assert before != after
    assert "token mixing off in stages 1, 2, 3, 4" in html
    assert html.count("<tr><td>") == 5

    result = tab.knock_out_parts(str(PHOTO), "s12", [1, 2, 3, 4], [4])
    assert result["knockouts"] == {
        "mixer": [1, 2, 3, 4],
        "mlp": [4],
        "description": "token mixing off in stages 1, 2, 3, 4; channel MLP off in stage 4",
    }
    probabilities = {side: [p["probability"] for p in result[side]["top_k"]] for side in ("before", "after")}
    assert probabilities["before"] != probabilities["after"]
    assert not np.allclose(result["before"]["gradcam"], result["after"]["gradcam"])


def test_the_cached_model_is_unchanged_after_a_knockout(tab, app_cache):
    model = app_cache.get("s12").model
    state = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    plain = analyze(PHOTO, "s12", cache=app_cache)
    tab.knock_out_parts(str(PHOTO), "s12", [1, 2], [3, 4])
    again = analyze(PHOTO, "s12", cache=app_cache)

    assert again.predictions == plain.predictions
    assert np.array_equal(again.stages[-1].cam_raw, plain.stages[-1].cam_raw)
    assert app_cache.get("s12").model is model
    assert not any(isinstance(m, ZeroBranch) for m in model.modules())
    assert forward_hook_count(model) == 0
    assert all(torch.equal(state[name], tensor) for name, tensor in model.state_dict().items())


def test_a_click_picks_the_cell_under_it_and_a_new_stage_looks_at_the_same_place(tab, star_session):
    status, html, point, _ = tab.show_field_at(
        star_session, 2, "en", gr.SelectData(None, {"index": [0.2, 0.8], "value": 2})
    )
    assert status == "" and point == [0.2, 0.8]
    assert 'data-rows="32"' not in html and 'data-rows="16" data-cols="16"' in html
    assert "<b>Stage 2</b>, position (y=3, x=12) of its 16×16 grid" in html
    assert decode(sources(html, "pf-erf")[0]).size == (128, 128)
    sizes = [int(s) for s in re.search(r"stages 1 to 4: ([\d px→]+)\.", html).group(1).replace("px", "").split("→")]
    assert sizes == sorted(sizes) and len(set(sizes)) == 4

    _, deeper, *_ = tab.show_field(star_session, 4, point)
    assert "<b>Stage 4</b>, position (y=0, x=3) of its 4×4 grid" in deeper
    _, centre, centre_point, _ = tab.show_field(star_session, 1, None)
    assert "position (y=16, x=16) of its 32×32 grid" in centre and centre_point == [0.5, 0.5]


def test_grid_cell_maps_fractions_to_cells_and_refuses_points_off_the_picture():
    assert grid_cell((14, 14), (0.5, 0.5)) == (7, 7)
    assert grid_cell((7, 7), (1.0, 0.0)) == (6, 0)  # the far edge belongs to the last cell
    assert grid_cell((4, 8), (0.24, 0.99)) == (0, 7)
    for bad in ((1.5, 0.2), (0.2, -0.1), (float("nan"), 0.5), None, "0.5,0.5", (0.5,)):
        with pytest.raises(SelectionError, match="two fractions from 0 to 1"):
            grid_cell((7, 7), bad)


def test_the_paper_table_lists_table5s_token_mixers_and_block_ablations():
    table = present_inside.paper_table_markdown()
    for setting, top1 in (
        ("pooling (PoolFormer-S12)", "77.2"),
        ("identity mapping", "74.3"),
        ("global random matrix", "75.8"),
        ("depthwise convolution", "78.1"),
        ("no residual connection", "0.1"),
        ("no channel MLP", "5.7"),
    ):
        assert re.search(rf"\| [a-z ]+: {re.escape(setting)} \| {top1} % \|", table)
    assert "pool size" not in table and "Table 5" in table


def test_the_tab_sits_before_learn_with_its_four_sections(app_cache):
    config = ui_app.build_demo(cache=app_cache, shapes_available=True).config
    tabs = [c["props"]["label"] for c in config["components"] if c["type"] == "tabitem"]
    assert tabs == ["Explore", "Lesson", "Explain", "Compare", "Inside the block", "Learn"]
    ids = {c.get("props", {}).get("elem_id") for c in config["components"]}
    assert {"anatomy-view", "knockout-view", "field-view", "inside-lab"} <= ids
    assert "Inside the block" in learn_markdown()
    text = " ".join(str(c.get("props", {}).get("value", "")) for c in config["components"])
    assert "Fields grow from stage 1 to 4" in text and "GroupNorm's statistics" in text
    assert "A knockout removes a part from a model that was trained with it" in text


# ---------------------------------------------------------------------------------------------
# The served endpoints
# ---------------------------------------------------------------------------------------------


def test_anatomy_endpoint_returns_the_steps_and_every_blocks_branch_ratios(client):
    from gradio_client import handle_file

    result = client.predict(handle_file(str(STAR)), "shapes", 3, 2, api_name="/anatomy")
    assert (result["stage"], result["block"], result["shape"]) == (3, 2, [96, 8, 8])
    assert [s["name"] for s in result["steps"]] == list(STEPS)
    assert all(decode(s["picture"]).size == (8, 8) for s in result["steps"])
    assert [(b["stage"], b["block"]) for b in result["branches"]] == [
        (stage, block) for stage, depth in enumerate(SHAPES_DEPTHS, start=1) for block in range(1, depth + 1)
    ]
    assert all(b["mixer_ratio"] > 0 and b["mlp_ratio"] > 0 for b in result["branches"])


def test_knockout_endpoint_gives_before_and_after(client):
    from gradio_client import handle_file

    # Stages as the API page describes them: strings.
    result = client.predict(handle_file(str(PHOTO)), "s12", ["1", "2", "3", "4"], [], "tiger cat", api_name="/knockout")
    # The one prediction JSON: the class as trained, with its probability then.
    target = result["target"]
    assert (target["index"], target["label"]) == (282, "tiger cat")
    assert target["probability"] == result["before"]["target_probability"]
    assert result["knockouts"]["mixer"] == [1, 2, 3, 4] and result["knockouts"]["mlp"] == []
    for side in ("before", "after"):
        assert len(result[side]["top_k"]) == 5
        assert np.asarray(result[side]["gradcam"]).shape == (7, 7)
    assert result["before"]["target_probability"] != result["after"]["target_probability"]


def test_receptive_field_endpoint_gives_the_box_and_the_picture(client):
    from gradio_client import handle_file

    result = client.predict(handle_file(str(PHOTO)), "s12", 2, 3, 4, api_name="/receptive_field")
    assert result["position"] == {"y": 3, "x": 4} and result["grid_size"] == [28, 28]
    box = result["box"]
    assert 0 <= box["top"] < box["bottom"] <= 224 and 0 <= box["left"] < box["right"] <= 224
    assert decode(result["picture"]).size == (224, 224)
    assert result["theoretical_size_px"] == result["theoretical_size_px_by_stage"][1]
    assert 0 < result["erf_share_inside_box"] <= 1


def test_endpoint_errors_are_clear(client):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    star = handle_file(str(STAR))
    with pytest.raises(AppError, match="There is no stage 9"):
        client.predict(star, "shapes", 9, 1, api_name="/anatomy")
    with pytest.raises(AppError, match="Nothing is switched off"):
        client.predict(star, "shapes", [], [], api_name="/knockout")
    with pytest.raises(AppError, match="outside stage 4's 4x4 grid"):
        client.predict(star, "shapes", 4, 0, 7, api_name="/receptive_field")


# ---------------------------------------------------------------------------------------------
# In a browser
# ---------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_tab_shows_a_block_and_a_knockout_in_the_browser(browser, served):  # noqa: F811 - the fixture
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(served[1])
    page.locator("#shapes-examples img[src$='shapes_star.png']").first.click(timeout=TIMEOUT_MS)
    wait_until(page, "document.querySelectorAll('#predictions button.confidence-set').length === 5", "the analysis")
    page.get_by_role("tab", name="Inside the block").click()
    wait_until(page, "document.querySelector('#inside-source').innerText.includes('shapes_star')", "the source line")
    wait_until(page, "document.querySelector('#knockout-note').innerText.includes('none of 300')", "the model's note")
    boxes = "Array.from(document.querySelectorAll('#knockout-mixer input'))"
    page.locator("#knockout-preset-0").click()
    wait_until(page, f"{boxes}.every(i => i.checked)", "the token-mixer-off preset")
    page.locator("#knockout-preset-2").click()
    wait_until(page, f"!{boxes}.some(i => i.checked)", "the nothing-off preset")

    page.locator("#anatomy-button").click()
    wait_until(page, images_loaded("#anatomy-view", 1 + len(STEPS) + 1), "the block's pictures")
    assert page.locator("#anatomy-view .pf-step").count() == 1 + len(STEPS)

    page.locator("#knockout-mlp").get_by_label("stage 4").check()
    page.locator("#knockout-button").click()
    wait_until(page, images_loaded("#knockout-view", 2), "the knockout's pictures")
    heat = page.locator("#knockout-view .pf-heat")
    assert heat.nth(0).get_attribute("src") != heat.nth(1).get_attribute("src")
    assert page.locator("#knockout-view table.pf-topk tbody tr").count() == 5
    assert "channel MLP off in stage 4" in page.locator("#knockout-view").inner_text()

    page.locator("#field-button").click()
    wait_until(page, images_loaded("#field-view", 1), "the receptive field")
    frame = page.locator("#field-view .pf-field-frame").bounding_box()
    page.mouse.click(frame["x"] + 0.1 * frame["width"], frame["y"] + 0.9 * frame["height"])
    wait_until(page, "document.querySelector('#field-view').innerText.includes('(y=28, x=3)')", "a clicked field")
    assert page.locator(ERROR_TOAST).count() == 0
    assert [page.locator(s).inner_text() for s in ("#anatomy-status", "#knockout-status", "#field-status")] == [""] * 3
    assert_no_error_toast(page, "at the end")
    page.close()
