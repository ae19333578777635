"""Views of the block that the Inside and Lesson tabs share, as plain values: the block's steps as
pictures, a knockout's before and after, and a bundled model's knockout note. Nothing here imports
Gradio."""

from __future__ import annotations

import html

import numpy as np

from ... import block_pictures, plots, render
from ...analysis import Analysis
from ...anatomy import BlockAnatomy
from ...comparison import KnockoutComparison
from ...i18n import Messages, english
from ...readings.knockout import mixer_off_note  # noqa: F401 - the note is the same on both tabs
from .view import display_names


def _native(picture: np.ndarray, height: int, width: int) -> np.ndarray:
    """A nearest-neighbour enlargement undone: one pixel per position again, for the browser to enlarge."""
    factor = picture.shape[0] // height
    if factor > 1 and picture.shape[1] // width == factor:
        return np.ascontiguousarray(picture[::factor, ::factor])
    return picture


def anatomy_pictures(anatomy: BlockAnatomy) -> dict:
    """Every step as a picture (data URIs at the map's own size), the channel shown, and the branch plot."""
    channel = block_pictures.anatomy_channel(anatomy)
    _, height, width = anatomy.input.shape
    steps = [
        {
            "name": view.name,
            "title": view.title,
            "caption": view.caption,
            "picture": render.data_uri(_native(view.picture, height, width)),
        }
        for view in block_pictures.anatomy_views(anatomy, channel)
    ]
    plot = plots.branch_ratio_plot(anatomy.branches, highlight=(anatomy.stage, anatomy.block))
    return {
        "channel": channel,
        "steps": steps,
        "crop": render.data_uri(anatomy.input_image, "jpeg"),
        "branch_plot": render.data_uri(plot),
    }


def deepest_cam_uri(analysis: Analysis) -> str:
    return render.data_uri(render.heatmap(analysis.stages[-1].cam_raw))


def knockout_html(comparison: KnockoutComparison | None = None, t: Messages | None = None) -> str:
    """The deepest Grad-CAM before and after the knockout under one slider, and the two top-5 lists.
    The comparison stays left to right in every language: the slider's left is the picture's left."""
    t = t or english()
    if comparison is None:
        hint = t.text("knockout.hint")
        return f'<div class="pf-knockout pf-empty"><p class="pf-hint"><span>{hint}</span></p></div>'
    before, after = comparison.before, comparison.after
    names = display_names(before.labels)
    target = names[before.target.index]
    knocked = t.said(after.knockouts.describe())
    deepest = before.stages[-1]
    trained_alt = t.text("knockout.alt.trained", target=target, stage=deepest.index)
    after_alt = t.text("knockout.alt.after", target=target, stage=deepest.index, knocked=knocked)
    caption = t.html(
        "knockout.caption",
        target=target,
        stage=deepest.index,
        height=deepest.shape[1],
        width=deepest.shape[2],
        knocked=knocked,
    )
    compare = (
        f'<figure class="pf-compare" dir="ltr" style="--pf-crop: url({render.data_uri(before.input_image, "jpeg")})">'
        '<span class="pf-cam pf-compare-frame">'
        f'<img class="pf-heat pf-before" alt="{html.escape(trained_alt)}" src="{deepest_cam_uri(before)}">'
        f'<img class="pf-heat pf-after" alt="{html.escape(after_alt)}" src="{deepest_cam_uri(after)}">'
        '<span class="pf-divider" aria-hidden="true"></span>'
        f'<span class="pf-tag pf-tag-before">{html.escape(t.text("knockout.tag.trained"))}</span>'
        f'<span class="pf-tag pf-tag-after">{html.escape(t.text("knockout.tag.after"))}</span>'
        "</span>"
        '<input class="pf-split" type="range" min="0" max="100" value="50" '
        f'aria-label="{html.escape(t.text("knockout.slider"))}">'
        f'<figcaption dir="auto">{caption}</figcaption></figure>'
    )

    def cell(analysis: Analysis, rank: int) -> str:
        p = analysis.predictions[rank]
        chosen = ' class="pf-target"' if p.index == before.target.index else ""
        return f"<td{chosen}>{html.escape(names[p.index])}</td><td{chosen}>{p.probability:.1%}</td>"

    rows = "".join(
        f"<tr><td>{rank + 1}</td>{cell(before, rank)}{cell(after, rank)}</tr>"
        for rank in range(min(len(before.predictions), len(after.predictions)))
    )
    target_note = t.html(
        "knockout.target", target=target, before=before.target.probability, after=after.target.probability
    )
    table = (
        f'<table class="pf-topk"><thead><tr><th>#</th><th colspan="2">{html.escape(t.text("knockout.tag.trained"))}'
        f'</th><th colspan="2">{html.escape(knocked)}</th></tr></thead><tbody>{rows}</tbody></table>'
        f'<p class="pf-note">{target_note}</p>'
    )
    return f'<div class="pf-knockout"><div class="pf-knockout-row">{compare}<div>{table}</div></div></div>'
