"""The receptive field as the "Inside the block" tab shows it: the effective field of one position
as a picture over the crop, with the theoretical field as a box, and where the field peaks.
Nothing here imports Gradio."""

from __future__ import annotations

import html

from .... import render
from ....i18n import Messages, english
from ....receptive_field import ReceptiveField

# How the effective receptive field's tail is drawn: sqrt keeps the weak edges visible.
ERF_SCALE = "sqrt"


def peak_text(field: ReceptiveField, t: Messages | None = None) -> str:
    """Where the effective field is strongest, against the position's own cell."""
    t = t or english()
    (row, col), cell = field.peak, field.crop_size[0] / field.grid_size[0]
    if field.peak_distance <= cell / 2:
        return t.text("field.peak.own_cell", y=row, x=col)
    return t.text("field.peak.away", y=row, x=col, distance=field.peak_distance)


def field_html(field: ReceptiveField | None = None, t: Messages | None = None) -> str:
    """The effective field over the crop with the theoretical box, clickable: the page's script
    turns a click into a point (fractions down and across) and a cell of the stage's grid."""
    t = t or english()
    if field is None:
        return (
            '<div class="pf-field pf-empty"><span class="pf-field-frame">'
            f'<p class="pf-hint"><span>{t.text("field.hint")}</span></p></span></div>'
        )
    rows, cols = field.grid_size
    height, width = field.crop_size
    picture = render.data_uri(render.receptive_field_view(field, ERF_SCALE), "jpeg")
    chosen = (
        f"top: {100 * field.y / rows:.4f}%; left: {100 * field.x / cols:.4f}%; "
        f"height: {100 / rows:.4f}%; width: {100 / cols:.4f}%"
    )
    sizes, stage_sizes = "", field.stage_sizes
    if stage_sizes:
        growth = " → ".join(f"{size} px" for size in stage_sizes)
        sizes = "<br>" + html.escape(t.text("field.growth", stages=len(stage_sizes), growth=growth))
    caption = t.html(
        "field.caption",
        stage=field.stage,
        y=field.y,
        x=field.x,
        rows=rows,
        cols=cols,
        size=field.theoretical_size,
        stride=field.geometry.jump,
        inside=field.mass_inside,
        peak=peak_text(field, t),
        scale=ERF_SCALE,
    )
    picker = html.escape(t.text("field.picker"))
    alt = html.escape(t.text("field.alt", y=field.y, x=field.x, stage=field.stage))
    return (
        '<div class="pf-field">'
        f'<span class="pf-field-frame" data-stage="{field.stage}" data-rows="{rows}" data-cols="{cols}" '
        f'data-y="{field.y}" data-x="{field.x}" tabindex="0" role="group" aria-label="{picker}" '
        f'style="aspect-ratio: {width} / {height}">'
        f'<img class="pf-erf" alt="{alt}" src="{picture}">'
        f'<span class="pf-cell pf-cell-chosen" style="{chosen}"></span>'
        '<span class="pf-cell pf-cell-hover"></span></span>'
        f'<p class="pf-note">{caption}{sizes}</p></div>'
    )


def field_api(field: ReceptiveField) -> dict:
    """The receptive field for programs: ReceptiveField.to_json with the picture as a data URI."""
    return {**field.to_json(), "picture": render.data_uri(render.receptive_field_view(field, ERF_SCALE), "jpeg")}


# The browser's half of the receptive field (static/page.js): the cell under the pointer is outlined,
# and a click sends the point as fractions (down, across) of the picture, which the server maps to the grid.
FIELD_JS = "PoolFormer.field(element, trigger)"
