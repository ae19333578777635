"""The Compare tab: its handler called directly, and the served `/compare` endpoint.

The shapes model (128 px) keeps the handler fast; s12 has seeded random weights, s24 none (its
weights are "not available").
"""

from __future__ import annotations

import html
import re

import numpy as np
from pages import images, skipped, text_of
from paths import STAR

from poolformer_demo import render
from poolformer_demo.comparison import compare
from poolformer_demo.i18n import english
from poolformer_demo.testing import decode_data_uri as decode
from poolformer_demo.ui.tabs.compare import page as compare_module
from poolformer_demo.ui.tabs.compare.page import CompareTab


def test_compare_shows_each_model_in_its_column_and_says_which_cannot_run(app_cache, runner, star_session, monkeypatch):
    made = []

    def recording(*args, **kwargs):
        made.append(compare(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(compare_module, "compare", recording)
    outputs = list(CompareTab(app_cache, runner).run_compare(star_session, None, ["shapes", "s24", "s12"]))
    status, page, _ = outputs[-1]
    assert "Done: 2 of 3 models" in status
    # The menu's order, whichever order the boxes were ticked in.
    assert re.findall(r'<section class="pf-variant[^"]*" data-variant="(\w+)"', page) == ["s12", "shapes"]
    # A model without weights gets a line above the columns, not a column of its own.
    assert "Not run: PoolFormer-S24, whose weights are not on this server" in text_of(page)
    (comparison,) = made
    assert [run.variant.name for run in comparison.runs] == ["s12", "shapes"]
    for run in comparison.runs:
        column = re.search(rf'data-variant="{run.variant.name}">(.*?)</section>', page).group(1)
        rows = re.findall(r'<tr(?: class="pf-target")?><td>(\d)</td><td>([^<]*)</td>', column)
        assert [(int(rank), html.unescape(label)) for rank, label in rows] == [
            (rank, p.label) for rank, p in enumerate(run.predictions, start=1)
        ]
        (heat,) = [src for _, src in images(column, "pf-heat")]
        np.testing.assert_array_equal(np.asarray(decode(heat)), render.heatmap(run.cam_raw))
        assert f"Analysis took {run.seconds:.2f} s" in text_of(column)


def test_compare_without_an_image_says_so(app_cache, runner):
    status, page, _ = list(CompareTab(app_cache, runner).run_compare(None, None, ["s12", "shapes"]))[-1]
    assert english().text("compare.no_image") in html.unescape(status) and skipped(page)


def test_compare_endpoint_keeps_the_order_given_and_reports_a_model_without_weights(client):
    from gradio_client import handle_file

    result = client.predict(handle_file(str(STAR)), ["shapes", "s24", "s12"], "", api_name="/compare")
    assert [v["variant"] for v in result["variants"]] == ["shapes", "s24", "s12"]
    assert "not available" in result["variants"][1]["error"]
    shapes, _, s12 = result["variants"]
    assert shapes["top_k"][0]["label"] == "star" and len(s12["top_k"]) == 5
    assert np.asarray(shapes["gradcam"]).shape == (4, 4) and np.asarray(s12["gradcam"]).shape == (7, 7)
    assert decode(s12["gradcam_picture"]).size == (7, 7) and decode(s12["crop"]).size == (224, 224)
    assert s12["seconds"] > 0
