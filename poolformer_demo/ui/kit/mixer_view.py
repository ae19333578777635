"""The token mixer you can touch, as a page shows it (the lesson's mixer step and Inside the block):
the picture the model saw with the stage's tokens as a grid to click or walk with the keyboard,
one pooling window in numbers and colours, the illustrative attention of the same token, and what
both cost per token at every stage. Nothing here imports Gradio; nothing here computes a number
or a judgement (those are token_mixer's and mixer_reading's)."""

from __future__ import annotations

import html
from functools import lru_cache

import numpy as np

from ... import plots, render
from ...i18n import Messages, english
from ...mixer_reading import MixerReading, mixer_reading
from ...token_mixer import StageCost, TokenMixing
from .view import cam_scale_html, legend_html

# Enough to read a window's numbers; the table's text is exact to the third decimal.
WINDOW_DIGITS = 2
VALUE_DIGITS = 3


def _escape(text: str) -> str:
    return html.escape(text, quote=True)


def _percent_box(box: tuple[int, int, int, int], grid_size: tuple[int, int]) -> str:
    """CSS placing a (top, left, bottom, right) box of grid cells over a picture of the whole grid."""
    (top, left, bottom, right), (rows, cols) = box, grid_size
    return (
        f"top: {100 * top / rows:.4f}%; left: {100 * left / cols:.4f}%; "
        f"height: {100 * (bottom - top) / rows:.4f}%; width: {100 * (right - left) / cols:.4f}%"
    )


def token_grid_html(result: TokenMixing, t: Messages) -> str:
    """The crop with one focusable cell per token over it (an ARIA grid with one tab stop; the
    chosen token holds it), the chosen token outlined in black and its window in white."""
    rows, cols = result.grid_size
    height, width = result.input_image.height, result.input_image.width
    crop = render.data_uri(np.asarray(result.input_image), "jpeg")
    k = result.pool_size
    alt = t.text("mixer.grid_alt", stage=result.stage, rows=rows, cols=cols, y=result.y, x=result.x, size=k)
    cell_label = t.text("mixer.cell", y=result.y, x=result.x)
    cells = []
    for y in range(rows):
        row = []
        for x in range(cols):
            if (y, x) == (result.y, result.x):
                row.append(
                    f'<i role="gridcell" tabindex="0" aria-selected="true" aria-label="{_escape(cell_label)}"></i>'
                )
            else:
                # As short as a focusable cell can be: a stage-1 grid of s12 has 3,136 of them.
                row.append('<i role="gridcell" tabindex="-1"></i>')
        cells.append(f'<div role="row">{"".join(row)}</div>')
    token_box = (result.y, result.x, result.y + 1, result.x + 1)
    label = t.text("mixer.grid_label", stage=result.stage, rows=rows, cols=cols)
    return (
        f'<figure class="pf-mixer-pick"><div class="pf-mixer-frame" style="aspect-ratio: {width} / {height}">'
        f'<img class="pf-mixer-crop" alt="{_escape(alt)}" src="{crop}">'
        f'<span class="pf-mixer-window" style="{_percent_box(result.window, result.grid_size)}"></span>'
        f'<span class="pf-mixer-token" style="{_percent_box(token_box, result.grid_size)}"></span>'
        f'<div class="pf-mixer-grid" role="grid" aria-label="{_escape(label)}" data-stage="{result.stage}" '
        f'data-rows="{rows}" data-cols="{cols}">{"".join(cells)}</div></div>'
        f"<figcaption>{_escape(t.text('mixer.hint'))}</figcaption></figure>"
    )


def _cell(value: float, colours: tuple[np.ndarray, np.ndarray], digits: int, extra: str = "") -> str:
    background, text = (f"#{bytes(int(v) for v in c).hex()}" for c in colours)
    return f'<td class="pf-num{extra}" style="background: {background}; color: {text}">{value:+.{digits}f}</td>'


def _window_table(result: TokenMixing, index: int, limit: float, t: Messages) -> str:
    """One channel's uncut window as a small table: the positions the pool reads, coloured, and
    the ones off the grid marked as not read."""
    window = result.channels[index]
    top, left, bottom, right = result.window
    full_top, full_left, full_bottom, full_right = result.uncut_window
    off = _escape(t.text("mixer.off_grid"))
    rows = []
    for y in range(full_top, full_bottom):
        row = []
        for x in range(full_left, full_right):
            if top <= y < bottom and left <= x < right:
                value = float(window.values[y - top, x - left])
                token = " pf-mixer-self" if (y, x) == (result.y, result.x) else ""
                row.append(_cell(value, render.diverging_cells(value, limit), WINDOW_DIGITS, token))
            else:
                row.append(f'<td class="pf-mixer-off" title="{off}">·</td>')
        rows.append(f"<tr>{''.join(row)}</tr>")
    k = result.pool_size
    label = t.text("mixer.window_label", channel=window.channel, size=k, positions=result.window_positions)
    return f'<table class="pf-mixer-window-grid" aria-label="{_escape(label)}">{"".join(rows)}</table>'


def numbers_table(result: TokenMixing, t: Messages | None = None) -> str:
    """The shown channels, one row each: the window, its average, the token, the mixer's output
    computed here and the model's own, every value on one diverging scale."""
    limit = max(max(float(np.abs(c.values).max()), abs(c.mean), abs(c.token), abs(c.output)) for c in result.channels)
    t = t or english()
    k = result.pool_size
    heads = ("channel", "window", "average", "token", "output", "model")
    header = (
        "<tr>" + "".join(f"<th scope='col'>{_escape(t.text(f'mixer.head.{h}', size=k))}</th>" for h in heads) + "</tr>"
    )
    rows = []
    for index, c in enumerate(result.channels):
        rows.append(
            f"<tr><th scope='row'>{c.channel}</th><td>{_window_table(result, index, limit, t)}</td>"
            f"{_cell(c.mean, render.diverging_cells(c.mean, limit), VALUE_DIGITS)}"
            f"{_cell(c.token, render.diverging_cells(c.token, limit), VALUE_DIGITS)}"
            f"{_cell(c.output, render.diverging_cells(c.output, limit), VALUE_DIGITS)}"
            f"{_cell(c.model_output, render.diverging_cells(c.model_output, limit), VALUE_DIGITS)}</tr>"
        )
    note = t.text("mixer.note", stage=result.stage, block=result.block, choice=t.said(result.channel_choice))
    caption = t.text("mixer.token", y=result.y, x=result.x)
    scrolls = _escape(t.text("mixer.numbers_scroll"))
    return (
        f'<p class="pf-mixer-note">{_escape(note)}</p>'
        f'<div class="pf-mixer-scroll" role="region" tabindex="0" aria-label="{scrolls}">'
        f'<table class="pf-mixer-table"><caption>{_escape(caption)}</caption>'
        f"<thead>{header}</thead><tbody>{''.join(rows)}</tbody></table></div>"
        + legend_html(t.text("mixer.legend", limit=limit))
    )


def _figure(source: str, alt: str, caption: str, css: str) -> str:
    """A picture (a data URI) with its alt text and its caption (HTML)."""
    return f'<figure class="{css}"><img alt="{_escape(alt)}" src="{source}"><figcaption>{caption}</figcaption></figure>'


def channel_maps_html(result: TokenMixing, t: Messages) -> str:
    """Each shown channel of n over the whole stage with the window outlined: where the window
    sits in the channel's pattern."""
    figures = []
    for c, values in zip(result.channels, result.channel_maps):
        picture = render.window_view(
            render.apply_colormap(render.normalize(values, 1, 99)),
            result.window,
            (result.y, result.x),
            render.VIEW_SIZE,
        )
        alt = t.text("mixer.map_alt", channel=c.channel, stage=result.stage, y=result.y, x=result.x)
        caption = _escape(t.text("mixer.channel", channel=c.channel))
        figures.append(_figure(render.data_uri(picture), alt, caption, "pf-mixer-map"))
    return f'<div class="pf-mixer-maps">{"".join(figures)}</div>'


def attention_html(result: TokenMixing, reading: MixerReading, t: Messages) -> str:
    peak = float(result.attention.max())
    py, px = (int(i) for i in np.unravel_index(int(np.argmax(result.attention)), result.attention.shape))
    picture = render.window_view(render.heatmap(result.attention), result.window, (result.y, result.x))
    alt = t.text(
        "mixer.attention_alt",
        y=result.y,
        x=result.x,
        tokens=result.tokens,
        stage=result.stage,
        outside=result.attention_outside_window,
        peak=peak,
        peak_y=py,
        peak_x=px,
    )
    caption = f"{_escape(reading.attention)} <i>{_escape(reading.illustration)}</i>"
    legend = cam_scale_html(t.text("mixer.attention_scale", peak=peak), t)
    figure = _figure(render.data_uri(picture), alt, caption, "pf-mixer-figure")
    return f'<div class="pf-mixer-attention">{figure}{legend}</div>'


@lru_cache(maxsize=32)
def _cost_picture(costs: tuple[StageCost, ...], stage: int, plot_scale: float) -> str:
    # The plot changes with the model, the crop and the stage, not with the token: drawn once for all clicks.
    return render.data_uri(plots.mixing_cost_plot(costs, highlight=stage, scale=plot_scale))


def cost_html(result: TokenMixing, reading: MixerReading, t: Messages, plot_scale: float = 1.0) -> str:
    stages = ", ".join(f"{c.attention_reads:,}" for c in result.costs)
    alt = t.text("mixer.cost_alt", stages=len(result.costs), reads=result.pool_size**2, attention=stages)
    source = _cost_picture(result.costs, result.stage, plot_scale)
    return _figure(source, alt, _escape(reading.cost), "pf-mixer-figure pf-mixer-cost")


def mixer_html(result: TokenMixing | None = None, plot_scale: float = 1.0, t: Messages | None = None) -> str:
    """The whole view for one touched token (or, without one, what to do) in language `t`.
    `plot_scale` enlarges the cost plot's type (1.6 for presenter mode)."""
    t = t or english()
    if result is None:
        return f'<div class="pf-mixer pf-empty"><p class="pf-hint">{_escape(t.text("mixer.hint"))}</p></div>'
    reading = mixer_reading(result, t)
    first, *others = reading.channels
    more = ""
    if others:
        items = "".join(f"<li>{_escape(sentence)}</li>" for sentence in others)
        others_title = _escape(t.text("mixer.other_channels"))
        more = f"<details class='pf-mixer-more'><summary>{others_title}</summary><ul>{items}</ul></details>"
    return (
        f'<div class="pf-mixer" data-stage="{result.stage}" data-y="{result.y}" data-x="{result.x}" '
        # The outlines over the crop take render's colours, so the crop and the stage maps outline alike.
        f'style="--pf-window-edge: {_rgb(render.WINDOW_EDGE)}; --pf-token-edge: {_rgb(render.TOKEN_EDGE)}">'
        f'<div class="pf-mixer-row">{token_grid_html(result, t)}'
        f'<div class="pf-mixer-side"><p class="pf-mixer-reading">{_escape(reading.position)} '
        f"{_escape(reading.window)}</p><p class='pf-mixer-reading'><b>{_escape(first)}</b></p>{more}"
        f"{numbers_table(result, t)}</div></div>"
        f"{channel_maps_html(result, t)}"
        f'<div class="pf-mixer-row">{attention_html(result, reading, t)}'
        f"{cost_html(result, reading, t, plot_scale)}</div>"
        "</div>"
    )


def _rgb(colour: tuple[int, int, int]) -> str:
    return f"rgb({colour[0]}, {colour[1]}, {colour[2]})"


# The browser's half (page.js: PoolFormer.mixer): one tab stop in the grid of tokens (the chosen
# token); the arrow keys, Home and End move it, Enter, Space or a click chooses. A choice moves the
# token's outline at once and sends the token to the server as the view's select event: index [y, x],
# value the stage.
MIXER_JS = "PoolFormer.mixer(element, trigger, watch)"
