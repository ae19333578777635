"""How the app is assembled and served: defaults, menus, the Learn tab, settings read at build time."""

from __future__ import annotations

import pytest

from poolformer_demo import ModelCache, i18n
from poolformer_demo.ui import app as ui_app
from poolformer_demo.ui.kit import view as present
from poolformer_demo.ui.tabs.explore import page as explore
from poolformer_demo.ui.tabs.learn import view as learn_view


def test_default_variant_is_s12_when_its_weights_can_be_had_else_shapes(monkeypatch, weights_dir, tmp_path):
    import huggingface_hub

    cached = {}
    monkeypatch.setattr(huggingface_hub, "try_to_load_from_cache", lambda repo_id, filename: cached.get(repo_id))
    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(tmp_path))  # an empty folder; HF_HUB_OFFLINE=1
    assert explore.default_variant(ModelCache().runnable_variants(), shapes_available=True) == "shapes"

    cached["sail/poolformer_s12"] = str(tmp_path / "config.json")
    assert explore.default_variant(ModelCache().runnable_variants(), shapes_available=True) == "s12"
    cached.clear()

    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(weights_dir))
    assert explore.default_variant(ModelCache().runnable_variants(), shapes_available=True) == "s12"

    monkeypatch.setenv("POOLFORMER_WEIGHTS_DIR", str(tmp_path))
    # nothing works offline: say so when s12 is tried
    assert explore.default_variant(ModelCache().runnable_variants(), shapes_available=False) == "s12"


def test_variant_menu_and_learn_tab():
    choices = {value: title for title, value in present.variant_choices()}
    assert list(choices) == ["s12", "s24", "s36", "m36", "m48", "shapes", "pairs"]
    assert choices["m48"] == "M48 · 73M · 82.5% top-1"
    assert choices["shapes"] == "shapes · offline, six shapes"
    assert choices["pairs"] == "pairs · offline, two discs"
    marked = {value: title for title, value in present.variant_choices(runnable=("s12", "shapes"))}
    assert marked["s12"] == "S12 · 12M · 77.2% top-1"
    assert marked["s24"] == "S24 · 80.3% · weights not on this server"
    table = learn_view.variants_table()
    assert "| S12 | 2 · 2 · 6 · 2 | 64 · 128 · 320 · 512 | 12 M | 1.8 G | 77.2 % |" in table
    assert "| M48 | 8 · 8 · 24 · 8 | 96 · 192 · 384 · 768 | 73 M | 11.6 G | 82.5 % |" in table
    text = learn_view.learn_markdown()
    assert "AvgPool(x) − x" in text
    assert "count_include_pad=False" in text
    assert table in text and "{variants_table}" not in text


def test_launch_settings(monkeypatch):
    monkeypatch.delenv("GRADIO_SERVER_NAME", raising=False)
    kwargs = ui_app.launch_kwargs()
    assert kwargs["server_name"] == "127.0.0.1"
    assert kwargs["max_file_size"] == "20mb"
    assert kwargs["allowed_paths"] == []
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    assert ui_app.launch_kwargs()["server_name"] == "0.0.0.0"
    assert ui_app.launch_kwargs(server_port=1234)["server_port"] == 1234


def test_settings_are_read_when_the_app_is_built(monkeypatch):
    monkeypatch.setenv("POOLFORMER_CACHE_SIZE", "3")
    monkeypatch.setenv("POOLFORMER_CONCURRENCY", "5")
    demo = ui_app.build_demo(shapes_available=True)
    explain_fn = next(fn for fn in demo.fns.values() if fn.api_name == "explain")
    assert explain_fn.concurrency_limit == 5
    analyze_fn = next(fn for fn in demo.fns.values() if fn.api_name == "analyze")
    assert analyze_fn.concurrency_limit == max(ui_app.EXPLORE_LANE_LIMIT, 5)
    assert ui_app.concurrency_from_environment() == 5
    from poolformer_demo.weights import cache_from_environment

    assert cache_from_environment().capacity == 3


@pytest.mark.slow
def test_the_mcp_server_is_off_unless_asked_for_and_then_lists_the_endpoints_as_tools(app_cache):
    import httpx
    from serving import serving

    with serving(ui_app.build_demo(cache=app_cache, shapes_available=True)) as (_, url):
        assert httpx.get(url + "gradio_api/mcp/schema", timeout=30).status_code == 404
    with serving(ui_app.build_demo(cache=app_cache, shapes_available=True), mcp_server=True) as (_, url):
        schema = httpx.get(url + "gradio_api/mcp/schema", timeout=30).json()
    tools = sorted(tool["name"] for tool in schema)
    assert tools == [
        "ablation_lab_reference",
        "analyze_image",
        "check_sanity",
        "compare_variants",
        "explain_prediction",
        "find_receptive_field",
        "inspect_block",
        "knock_out_parts",
        "run_ablation_lab",
    ]


def test_each_concurrent_analysis_gets_its_share_of_the_cores(monkeypatch):
    import torch

    before = torch.get_num_threads()
    monkeypatch.setattr(ui_app.os, "cpu_count", lambda: 8)
    try:
        ui_app.share_cores(2)
        assert torch.get_num_threads() == 4
        ui_app.share_cores(16)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_counts_take_the_number_their_noun_needs():
    english = i18n.english()
    assert english.plural("explain.attributions.done", 1, seconds=2.0) == "Done: 1 map in 2.0 s."
    assert english.plural("explain.faithfulness.orders", 2) == "2 random orders"
    assert english.plural("compare.done", 0, done=0, seconds=1.0) == "Done: 0 of 0 models in 1.0 s."
