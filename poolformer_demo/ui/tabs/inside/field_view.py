"""The receptive field as the "Inside the block" tab shows it: the effective field of one position
as a picture over the crop, with the theoretical field as a box, and where the field peaks.
Nothing here imports Gradio."""

from __future__ import annotations

from .... import render
from ....receptive_field import ReceptiveField

# How the effective receptive field's tail is drawn: sqrt keeps the weak edges visible.
ERF_SCALE = "sqrt"


FIELD_TEXT = (
    "Fields grow from stage 1 to 4: every patch embedding and every 3×3 pool widens the theoretical field "
    "(the box), and each stage sees a larger part of the image. The effective field, where the gradient is "
    "large, is smaller than the box; where it is strongest depends on the position and the image, and the "
    "caption says where its peak lies. GroupNorm's statistics (one mean and variance "
    "over all channels and positions) reach every pixel, so the effective field is never exactly zero outside "
    "the box."
)


FIELD_HINT = "Press <b>Show the field</b>, then click any position on the picture."


def peak_text(field: ReceptiveField) -> str:
    """Where the effective field is strongest, against the position's own cell."""
    (row, col), cell = field.peak, field.crop_size[0] / field.grid_size[0]
    where = f"Its peak is at pixel (y={row}, x={col}), "
    if field.peak_distance <= cell / 2:
        return where + "in the position's own cell."
    return where + f"{field.peak_distance:.0f} px from the centre of the position's cell."


def field_html(field: ReceptiveField | None = None) -> str:
    """The effective field over the crop with the theoretical box, clickable: the page's script
    turns a click into a point (fractions down and across) and a cell of the stage's grid."""
    if field is None:
        return (
            '<div class="pf-field pf-empty"><span class="pf-field-frame">'
            f'<p class="pf-hint"><span>{FIELD_HINT}</span></p></span></div>'
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
        sizes = f"<br>Theoretical field of stages 1 to {len(stage_sizes)}: {growth}."
    caption = (
        f"<b>Stage {field.stage}</b>, position (y={field.y}, x={field.x}) of its {rows}×{cols} grid: "
        f"theoretical field {field.theoretical_size} px (the box, stride {field.geometry.jump} px), "
        f"{field.mass_inside:.1%} of the effective field inside it. {peak_text(field)} Brighter: larger |gradient| "
        f"({ERF_SCALE} scale). Click any cell, or focus the picture and use the arrow keys and Enter, to move the "
        f"position.{sizes}"
    )
    return (
        '<div class="pf-field">'
        f'<span class="pf-field-frame" data-stage="{field.stage}" data-rows="{rows}" data-cols="{cols}" '
        f'data-y="{field.y}" data-x="{field.x}" tabindex="0" role="group" '
        f'aria-label="Position picker: arrow keys move the outline, Enter shows its field" '
        f'style="aspect-ratio: {width} / {height}">'
        f'<img class="pf-erf" alt="effective receptive field of position (y={field.y}, x={field.x}) of stage '
        f'{field.stage}, theoretical field as a box" src="{picture}">'
        f'<span class="pf-cell pf-cell-chosen" style="{chosen}"></span>'
        '<span class="pf-cell pf-cell-hover"></span></span>'
        f'<p class="pf-note">{caption}</p></div>'
    )


def field_api(field: ReceptiveField) -> dict:
    """The receptive field for programs: ReceptiveField.to_json with the picture as a data URI."""
    return {**field.to_json(), "picture": render.data_uri(render.receptive_field_view(field, ERF_SCALE), "jpeg")}


# The browser's half of the receptive field (static/page.js): the cell under the pointer is outlined,
# and a click sends the point as fractions (down, across) of the picture, which the server maps to the grid.
FIELD_JS = "PoolFormer.field(element, trigger)"
