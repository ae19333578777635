"""The token mixer you can touch: one token's window, average and output against AvgPool(n) - n
and the model's own pooling module; the illustrative attention; the costs; the view (its words are
tested in test_mixer_reading.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from browsing import in_ci
from serving import serving
from transformers import PoolFormerConfig, PoolFormerForImageClassification, PoolFormerImageProcessor
from transformers.models.poolformer.modeling_poolformer import PoolFormerPooling

import poolformer_demo
from poolformer_demo import ModelCache, render
from poolformer_demo.blocks import model_inputs, shared_copy, stage_layers
from poolformer_demo.errors import SelectionError, UnknownVariantError
from poolformer_demo.images import prepare_image
from poolformer_demo.receptive_field import stage_grid_size
from poolformer_demo.testing import id2label
from poolformer_demo.token_mixer import (
    CHANNEL_COUNT,
    attention_weights,
    mixer_maps,
    token_at,
    token_mixing,
)
from poolformer_demo.ui.kit.mixer_view import MIXER_JS, mixer_html
from poolformer_demo.weights import LoadedModel

ASSETS = Path(__file__).resolve().parent.parent / "assets"
STAR = ASSETS / "examples" / "shapes_star.png"


def pooling_of(loaded: LoadedModel, image, stage: int, block: int) -> tuple[torch.Tensor, torch.Tensor]:
    """What the block's own pooling module receives and returns for `image`, recorded by a hook of
    the test's own: (n, AvgPool(n) - n), each [C, H, W]."""
    model = shared_copy(loaded.model)
    seen = {}

    def hook(_module, args, output):
        seen["n"], seen["out"] = args[0][0].clone(), output[0].clone()

    handle = stage_layers(model)[stage - 1][block - 1].pooling.register_forward_hook(hook)
    try:
        with torch.no_grad():
            model(pixel_values=model_inputs(loaded, prepare_image(image)))
    finally:
        handle.remove()
    return seen["n"].float(), seen["out"].float()


def assert_matches_the_module(result, n: torch.Tensor, out: torch.Tensor) -> None:
    k = result.pool_size
    by_hand = F.avg_pool2d(n[None], k, stride=1, padding=k // 2, count_include_pad=False)[0] - n
    by_module = PoolFormerPooling(k)(n[None])[0]
    for window in result.channels:
        at = (window.channel, result.y, result.x)
        assert window.output == pytest.approx(float(by_hand[at]), abs=1e-5)
        assert window.output == pytest.approx(float(by_module[at]), abs=1e-5)
        assert window.output == pytest.approx(float(out[at]), abs=1e-5)
        assert window.model_output == pytest.approx(float(out[at]), abs=1e-6)
        assert window.token == pytest.approx(float(n[at]), abs=1e-6)
        top, left, bottom, right = result.window
        np.testing.assert_allclose(window.values, n[window.channel, top:bottom, left:right].numpy(), atol=1e-6)
    np.testing.assert_allclose(result.channel_maps, n[[c.channel for c in result.channels]].numpy(), atol=1e-6)


@pytest.fixture(scope="module")
def shapes(one_torch_thread):
    cache = ModelCache(capacity=1)
    return cache, cache.get("shapes")


@pytest.fixture(scope="module")
def shapes_stage_1(shapes):
    return pooling_of(shapes[1], STAR, 1, 1)


@pytest.mark.parametrize("y, x, positions", [(16, 16, 9), (0, 0, 4), (31, 31, 4), (0, 13, 6), (20, 31, 6)], ids=str)
def test_shapes_token_equals_avgpool_minus_n_and_the_models_pooling_module(shapes, shapes_stage_1, y, x, positions):
    cache, _ = shapes
    result = token_mixing(STAR, "shapes", 1, y, x, cache=cache)
    assert (result.y, result.x, result.grid_size) == (y, x, (32, 32))
    assert result.window_positions == positions
    assert all(c.values.size == positions for c in result.channels)
    assert_matches_the_module(result, *shapes_stage_1)


def test_shapes_second_block_of_stage_3_is_read_from_that_block(shapes):
    cache, loaded = shapes
    result = token_mixing(STAR, "shapes", 3, 7, 0, block=2, cache=cache)
    assert_matches_the_module(result, *pooling_of(loaded, STAR, 3, 2))
    first_block = pooling_of(loaded, STAR, 3, 1)[1]
    assert any(abs(c.model_output - float(first_block[c.channel, 7, 0])) > 1e-3 for c in result.channels)


@pytest.fixture(scope="module")
def s12_cache(weights_dir):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POOLFORMER_WEIGHTS_DIR", str(weights_dir))
        cache = ModelCache(capacity=1)
        cache.get("s12")
    return cache


@pytest.mark.parametrize("y, x", [(27, 0), (0, 27), (14, 9)], ids=str)
def test_s12_token_equals_avgpool_minus_n_and_the_models_pooling_module(s12_cache, photo, y, x):
    result = token_mixing(photo, "s12", 2, y, x, block=2, cache=s12_cache)
    assert result.grid_size == (28, 28)
    assert_matches_the_module(result, *pooling_of(s12_cache.get("s12"), photo, 2, 2))


def test_one_forward_pass_answers_every_token_as_the_module_does(shapes):
    cache, loaded = shapes
    maps = mixer_maps(STAR, "shapes", 3, block=2, cache=cache)
    n = torch.from_numpy(maps.normed)
    by_hand = F.avg_pool2d(n[None], 3, stride=1, padding=1, count_include_pad=False)[0] - n
    np.testing.assert_allclose(maps.mixer, by_hand.numpy(), atol=1e-5)
    n_module, out_module = pooling_of(loaded, STAR, 3, 2)
    np.testing.assert_allclose(maps.normed, n_module.numpy(), atol=1e-6)
    np.testing.assert_allclose(maps.mixer, out_module.numpy(), atol=1e-6)
    for y, x in [(0, 7), (4, 4)]:
        touched = token_at(maps, y, x)
        again = token_mixing(STAR, "shapes", 3, y, x, block=2, cache=cache)
        assert [c.output for c in touched.channels] == pytest.approx([c.output for c in again.channels], abs=1e-6)
    assert json.loads(json.dumps(maps.to_json()))["grid_size"] == [8, 8]


def _pool_five_loader(variant):
    torch.manual_seed(0)
    config = PoolFormerConfig(
        depths=[1, 1, 1, 1], hidden_sizes=[8, 16, 24, 32], pool_size=5, num_labels=4, id2label=id2label(4)
    )
    processor = PoolFormerImageProcessor(
        crop_pct=1.0, size={"shortest_edge": 64}, crop_size={"height": 64, "width": 64}
    )
    return LoadedModel(variant, PoolFormerForImageClassification(config).eval(), processor, "built by the test")


def test_pool_size_is_read_from_the_config(one_torch_thread):
    cache = ModelCache(capacity=1, loader=_pool_five_loader)
    loaded = cache.get("s12")
    inside = token_mixing(STAR, "s12", 1, 8, 8, cache=cache)
    assert inside.pool_size == 5
    assert inside.window == (6, 6, 11, 11)
    assert all(c.values.shape == (5, 5) for c in inside.channels)
    corner = token_mixing(STAR, "s12", 1, 0, 15, cache=cache)
    assert corner.window_positions == 9
    assert_matches_the_module(corner, *pooling_of(loaded, STAR, 1, 1))
    assert {c.pooling_reads for c in corner.costs} == {25}


def test_costs_are_pool_size_squared_and_the_stages_token_counts(shapes):
    cache, loaded = shapes
    result = token_mixing(STAR, "shapes", 2, 3, 3, cache=cache)
    grids = [stage_grid_size(loaded.model.config, (128, 128), s) for s in (1, 2, 3, 4)]
    assert [c.grid_size for c in result.costs] == grids
    assert [c.attention_reads for c in result.costs] == [h * w for h, w in grids] == [1024, 256, 64, 16]
    assert [c.pooling_reads for c in result.costs] == [9, 9, 9, 9]


def test_attention_weights_sum_to_one_over_every_token(shapes):
    cache, _ = shapes
    result = token_mixing(STAR, "shapes", 1, 5, 20, cache=cache)
    assert result.attention.shape == (32, 32)
    assert result.attention.min() >= 0
    assert float(result.attention.sum(dtype=np.float64)) == pytest.approx(1.0, abs=1e-5)
    assert 1.0 <= result.attention_effective_tokens <= result.tokens
    assert "illustration" in result.attention_method


def test_attention_is_softmax_of_the_features_dot_products():
    features = torch.zeros(4, 3, 5)
    features[:, 0, 0] = features[:, 2, 3] = torch.tensor([3.0, 0.0, 0.0, 0.0])
    weights = attention_weights(features, 0, 0)
    expected_peak = np.exp(9 / 2) / (2 * np.exp(9 / 2) + 13)
    assert weights[0, 0] == pytest.approx(expected_peak, rel=1e-5)
    assert weights[2, 3] == pytest.approx(expected_peak, rel=1e-5)
    assert weights[1, 1] == pytest.approx(1 / (2 * np.exp(9 / 2) + 13), rel=1e-5)


def test_default_channels_are_where_the_mixer_output_at_the_token_is_largest(shapes):
    cache, _ = shapes
    every = token_mixing(STAR, "shapes", 2, 6, 9, channels=range(64), cache=cache)
    largest = sorted(every.channels, key=lambda c: -abs(c.output))[:CHANNEL_COUNT]
    chosen = token_mixing(STAR, "shapes", 2, 6, 9, cache=cache)
    assert [c.channel for c in chosen.channels] == [c.channel for c in largest]
    assert "largest in size" in chosen.channel_choice
    assert [c.channel for c in token_mixing(STAR, "shapes", 2, 6, 9, channels=[5, 2], cache=cache).channels] == [5, 2]


@pytest.mark.parametrize(
    "arguments, error, words",
    [
        ({"stage": 5, "y": 0, "x": 0}, SelectionError, "stages 1 to 4"),
        ({"stage": 0, "y": 0, "x": 0}, SelectionError, "stages 1 to 4"),
        ({"stage": 1, "y": 0, "x": 0, "block": 2}, SelectionError, "blocks 1 to 1"),
        ({"stage": 1, "y": 32, "x": 0}, SelectionError, "32x32 grid"),
        ({"stage": 4, "y": 0, "x": -1}, SelectionError, "x from 0 to 3"),
        ({"stage": 2, "y": 1.5, "x": 0}, SelectionError, "y runs from 0 to 15"),
        ({"stage": 1, "y": 0, "x": 0, "channels": [32]}, SelectionError, "channels 0 to 31"),
        ({"stage": 1, "y": 0, "x": 0, "variant": "s13"}, UnknownVariantError, "Unknown variant 's13'"),
    ],
    ids=["stage-5", "stage-0", "block", "row", "column", "fraction", "channel", "variant"],
)
def test_bad_selection_is_refused_with_what_exists(shapes, arguments, error, words):
    cache, _ = shapes
    arguments = dict(arguments)
    with pytest.raises(error, match=re.escape(words)):
        token_mixing(STAR, arguments.pop("variant", "shapes"), cache=cache, **arguments)


def test_to_json_is_plain_json_with_the_numbers(shapes):
    cache, _ = shapes
    result = token_mixing(STAR, "shapes", 1, 0, 31, cache=cache)
    data = json.loads(json.dumps(result.to_json()))
    assert data["window"] == {"top": 0, "left": 30, "bottom": 2, "right": 32, "positions": 4}
    assert data["channels"][0]["output"] == result.channels[0].output
    assert np.asarray(data["channels"][0]["window"]).shape == (2, 2)
    assert np.asarray(data["attention"]["weights"]).shape == (32, 32)
    assert [c["attention_reads"] for c in data["costs"]] == [1024, 256, 64, 16]


# --- the pictures and the view --------------------------------------------------------------------


def test_window_view_outlines_the_window_in_white_and_the_token_in_black():
    picture = render.window_view(np.zeros((8, 8, 3), np.uint8), (2, 3, 5, 6), (3, 4), size=80)
    assert picture.shape == (80, 80, 3)
    assert (picture[20, 40] == render.WINDOW_EDGE).all()  # the window's top edge, row 2 x 10 px
    assert (picture[30, 45] == render.TOKEN_EDGE).all()  # the token's top edge, row 3 x 10 px
    assert (picture[0, 0] == 0).all() and (picture[45, 45] == 0).all()


def _contrast(first: np.ndarray, second: np.ndarray) -> float:
    def luminance(rgb):
        c = rgb / 255.0
        return float(np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4) @ [0.2126, 0.7152, 0.0722])

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_diverging_cells_are_white_at_zero_and_their_text_reads_on_every_colour():
    values = np.linspace(-2.0, 2.0, 81)
    background, text = render.diverging_cells(values, 2.0)
    assert background[40].min() > 240
    assert background[0][2] > background[0][0] and background[-1][0] > background[-1][2]
    assert (text[0] == 255).all() and (text[40] == 0).all() and (text[-1] == 255).all()
    assert min(_contrast(b, t) for b, t in zip(background, text)) >= 4.5


def test_view_has_the_table_the_alt_texts_and_focusable_tokens(shapes):
    cache, _ = shapes
    result = token_mixing(STAR, "shapes", 2, 0, 5, cache=cache)
    page = mixer_html(result)
    assert '<table class="pf-mixer-table">' in page and "<th scope='col'>Average</th>" in page
    for c in result.channels:
        assert f"{c.output:+.3f}" in page and f"{c.model_output:+.3f}" in page
    images = re.findall(r"<img [^>]*>", page)
    assert len(images) == 3 + len(result.channels)
    assert all(re.search(r'alt="[^"]{40,}"', img) for img in images)
    assert 'role="grid"' in page and page.count('role="row"') == 16
    assert page.count('role="gridcell"') == 256 and page.count('tabindex="-1"') == 255
    assert '<i role="gridcell" tabindex="0" aria-selected="true" aria-label="y 0, x 5"></i>' in page
    assert 'role="region" tabindex="0"' in page
    assert "illustration" in page
    assert "pf-hint" in mixer_html(None)


def test_the_views_script_is_page_js_sending_the_token_as_a_select_event():
    script = (Path(poolformer_demo.__file__).parent / "ui" / "static" / "page.js").read_text()
    assert MIXER_JS == "PoolFormer.mixer(element, trigger, watch)"
    assert "const mixer = (element, trigger, watch) =>" in script
    assert "trigger('select', {index: [y, x], value: Number(grid.dataset.stage)})" in script


# --- in a browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixer_app(shapes):
    """The view alone in a Gradio page, wired as a tab would wire it: one forward pass per stage kept,
    and the view's select event (index [y, x], value the stage) answered with that token's view."""
    cache, _ = shapes
    stored = {}

    def maps_for(stage: int):
        if stage not in stored:
            stored[stage] = mixer_maps(STAR, "shapes", stage, cache=cache)
        return stored[stage]

    def pick(evt: gr.SelectData):
        y, x = evt.index
        return mixer_html(token_at(maps_for(evt.value), y, x))

    with gr.Blocks() as demo:
        view = gr.HTML(mixer_html(token_at(maps_for(2), 0, 0)), js_on_load=MIXER_JS, elem_id="mixer-view")
        view.select(pick, outputs=view, trigger_mode="always_last")
    with serving(demo) as served:
        yield served[1]


def _shown(page) -> tuple[tuple[int, int], list[float]]:
    """The token the view shows and its mixer-output column, read from the page."""
    mixer = page.locator("#mixer-view .pf-mixer")
    position = (int(mixer.get_attribute("data-y")), int(mixer.get_attribute("data-x")))
    outputs = page.locator("#mixer-view .pf-mixer-table > tbody > tr > td:nth-last-child(2)").all_inner_texts()
    return position, [float(v.replace("−", "-")) for v in outputs]


def _expected(shapes, y, x) -> dict[int, float]:
    n, _ = pooling_of(shapes[1], STAR, 2, 1)
    by_hand = F.avg_pool2d(n[None], 3, stride=1, padding=1, count_include_pad=False)[0] - n
    return {c: float(by_hand[c, y, x]) for c in range(n.shape[0])}


@pytest.mark.browser
def test_a_token_chosen_by_mouse_and_by_keyboard_shows_avgpool_minus_n(browser, mixer_app, shapes):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(mixer_app, timeout=60_000)
    page.wait_for_selector("#mixer-view .pf-mixer-grid", timeout=60_000)
    cells = "#mixer-view .pf-mixer-grid [role=row]:nth-child({}) [role=gridcell]:nth-child({})"
    page.locator(cells.format(6, 8)).click()
    page.wait_for_selector('#mixer-view .pf-mixer[data-y="5"][data-x="7"]', timeout=60_000)
    (y, x), outputs = _shown(page)
    channels = [int(t) for t in page.locator("#mixer-view .pf-mixer-table > tbody > tr > th").all_inner_texts()]
    expected = _expected(shapes, 5, 7)
    assert (y, x) == (5, 7)
    assert outputs == pytest.approx([expected[c] for c in channels], abs=6e-4)

    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector('#mixer-view .pf-mixer[data-y="6"][data-x="9"]', timeout=60_000)
    (y, x), outputs = _shown(page)
    channels = [int(t) for t in page.locator("#mixer-view .pf-mixer-table > tbody > tr > th").all_inner_texts()]
    expected = _expected(shapes, 6, 9)
    assert outputs == pytest.approx([expected[c] for c in channels], abs=6e-4)
    focused = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert focused == "y 6, x 9"
    page.close()


@pytest.mark.browser
def test_on_a_phone_only_the_numbers_scroll_sideways(browser, mixer_app):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(mixer_app, timeout=60_000)
    page.wait_for_selector("#mixer-view .pf-mixer-scroll", timeout=60_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    scroll = page.locator("#mixer-view .pf-mixer-scroll")
    assert scroll.evaluate("e => e.scrollWidth > e.clientWidth")
    assert scroll.get_attribute("tabindex") == "0"
    page.close()


AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.browser
def test_the_view_has_no_serious_accessibility_violation(browser, mixer_app):
    if not AXE.is_file():
        message = f"axe-core is not installed at {AXE}; run `npm ci` at the repository root."
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(mixer_app, timeout=60_000)
    page.wait_for_selector("#mixer-view .pf-mixer-grid", timeout=60_000)
    page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        "axe.run(document.querySelector('#mixer-view'), {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => ['serious', 'critical'].includes(v.impact)).map(v => v.id))"
    )
    assert found == []
    page.close()
