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
from ...mixer_reading import MixerReading, mixer_reading
from ...token_mixer import StageCost, TokenMixing
from .view import cam_scale_html, legend_html

MIXER_HINT = "Choose a stage, then click any token on the picture (or tab to it and use the arrow keys and Enter)."
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


def token_grid_html(result: TokenMixing) -> str:
    """The crop with one focusable cell per token over it (an ARIA grid with one tab stop; the
    chosen token holds it), the chosen token outlined in black and its window in white."""
    rows, cols = result.grid_size
    height, width = result.input_image.height, result.input_image.width
    crop = render.data_uri(np.asarray(result.input_image), "jpeg")
    k = result.pool_size
    alt = (
        f"The picture the model saw, with stage {result.stage}'s {rows}×{cols} tokens as a grid: token "
        f"(y={result.y}, x={result.x}) outlined in black, its {k}×{k} pooling window in white."
    )
    cells = []
    for y in range(rows):
        row = []
        for x in range(cols):
            if (y, x) == (result.y, result.x):
                row.append(f'<i role="gridcell" tabindex="0" aria-selected="true" aria-label="y {y}, x {x}"></i>')
            else:
                # As short as a focusable cell can be: a stage-1 grid of s12 has 3,136 of them.
                row.append('<i role="gridcell" tabindex="-1"></i>')
        cells.append(f'<div role="row">{"".join(row)}</div>')
    token_box = (result.y, result.x, result.y + 1, result.x + 1)
    label = (
        f"Tokens of stage {result.stage}, {rows} rows by {cols} columns: the arrow keys move, "
        "Enter or Space chooses the token"
    )
    return (
        f'<figure class="pf-mixer-pick"><div class="pf-mixer-frame" style="aspect-ratio: {width} / {height}">'
        f'<img class="pf-mixer-crop" alt="{_escape(alt)}" src="{crop}">'
        f'<span class="pf-mixer-window" style="{_percent_box(result.window, result.grid_size)}"></span>'
        f'<span class="pf-mixer-token" style="{_percent_box(token_box, result.grid_size)}"></span>'
        f'<div class="pf-mixer-grid" role="grid" aria-label="{_escape(label)}" data-stage="{result.stage}" '
        f'data-rows="{rows}" data-cols="{cols}">{"".join(cells)}</div></div>'
        f"<figcaption>{_escape(MIXER_HINT)}</figcaption></figure>"
    )


def _cell(value: float, colours: tuple[np.ndarray, np.ndarray], digits: int, extra: str = "") -> str:
    background, text = (f"#{bytes(int(v) for v in c).hex()}" for c in colours)
    return f'<td class="pf-num{extra}" style="background: {background}; color: {text}">{value:+.{digits}f}</td>'


def _window_table(result: TokenMixing, index: int, limit: float) -> str:
    """One channel's uncut window as a small table: the positions the pool reads, coloured, and
    the ones off the grid marked as not read."""
    window = result.channels[index]
    top, left, bottom, right = result.window
    full_top, full_left, full_bottom, full_right = result.uncut_window
    rows = []
    for y in range(full_top, full_bottom):
        row = []
        for x in range(full_left, full_right):
            if top <= y < bottom and left <= x < right:
                value = float(window.values[y - top, x - left])
                token = " pf-mixer-self" if (y, x) == (result.y, result.x) else ""
                row.append(_cell(value, render.diverging_cells(value, limit), WINDOW_DIGITS, token))
            else:
                row.append('<td class="pf-mixer-off" title="off the grid: not read">·</td>')
        rows.append(f"<tr>{''.join(row)}</tr>")
    k = result.pool_size
    label = f"channel {window.channel}: the {k}×{k} window, {result.window_positions} positions on the grid"
    return f'<table class="pf-mixer-window-grid" aria-label="{_escape(label)}">{"".join(rows)}</table>'


def numbers_table(result: TokenMixing) -> str:
    """The shown channels, one row each: the window, its average, the token, the mixer's output
    computed here and the model's own, every value on one diverging scale."""
    limit = max(max(float(np.abs(c.values).max()), abs(c.mean), abs(c.token), abs(c.output)) for c in result.channels)
    k = result.pool_size
    header = (
        "<tr><th scope='col'>Channel</th>"
        f"<th scope='col'>Window n ({k}×{k}; · off the grid)</th>"
        "<th scope='col'>Average</th><th scope='col'>Token</th>"
        "<th scope='col'>Mixer output (average − token)</th>"
        "<th scope='col'>The model's pooling module</th></tr>"
    )
    rows = []
    for index, c in enumerate(result.channels):
        rows.append(
            f"<tr><th scope='row'>{c.channel}</th><td>{_window_table(result, index, limit)}</td>"
            f"{_cell(c.mean, render.diverging_cells(c.mean, limit), VALUE_DIGITS)}"
            f"{_cell(c.token, render.diverging_cells(c.token, limit), VALUE_DIGITS)}"
            f"{_cell(c.output, render.diverging_cells(c.output, limit), VALUE_DIGITS)}"
            f"{_cell(c.model_output, render.diverging_cells(c.model_output, limit), VALUE_DIGITS)}</tr>"
        )
    note = (
        f"Stage {result.stage}, block {result.block}: {result.channel_choice}. "
        "n is the normalised map the token mixer receives."
    )
    caption = f"Token (y={result.y}, x={result.x})"
    return (
        f'<p class="pf-mixer-note">{_escape(note)}</p>'
        f'<div class="pf-mixer-scroll" role="region" tabindex="0" aria-label="The numbers, scrollable sideways">'
        f'<table class="pf-mixer-table"><caption>{_escape(caption)}</caption>'
        f"<thead>{header}</thead><tbody>{''.join(rows)}</tbody></table></div>"
        + legend_html(f"n and the mixer's output, ±{limit:.2f}: blue below 0, white at 0, red above")
    )


def _figure(source: str, alt: str, caption: str, css: str) -> str:
    """A picture (a data URI) with its alt text and its caption (HTML)."""
    return f'<figure class="{css}"><img alt="{_escape(alt)}" src="{source}"><figcaption>{caption}</figcaption></figure>'


def channel_maps_html(result: TokenMixing) -> str:
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
        alt = (
            f"Channel {c.channel} of n over stage {result.stage}'s whole grid (yellow high, purple low), "
            f"the window outlined in white and token (y={result.y}, x={result.x}) in black."
        )
        figures.append(_figure(render.data_uri(picture), alt, f"channel {c.channel}", "pf-mixer-map"))
    return f'<div class="pf-mixer-maps">{"".join(figures)}</div>'


def attention_html(result: TokenMixing, reading: MixerReading) -> str:
    peak = float(result.attention.max())
    py, px = (int(i) for i in np.unravel_index(int(np.argmax(result.attention)), result.attention.shape))
    picture = render.window_view(render.heatmap(result.attention), result.window, (result.y, result.x))
    alt = (
        f"Illustrative attention of token (y={result.y}, x={result.x}) over all {result.tokens} tokens of stage "
        f"{result.stage}: {result.attention_outside_window:.0%} of the weight outside the pooling window; "
        f"the largest weight, {peak:.1%}, at (y={py}, x={px})."
    )
    caption = f"{_escape(reading.attention)} <i>{_escape(reading.illustration)}</i>"
    legend = cam_scale_html(f"attention weight, from 0 to the largest, {peak:.1%}")
    figure = _figure(render.data_uri(picture), alt, caption, "pf-mixer-figure")
    return f'<div class="pf-mixer-attention">{figure}{legend}</div>'


@lru_cache(maxsize=32)
def _cost_picture(costs: tuple[StageCost, ...], stage: int, plot_scale: float) -> str:
    # The plot changes with the model, the crop and the stage, not with the token: drawn once for all clicks.
    return render.data_uri(plots.mixing_cost_plot(costs, highlight=stage, scale=plot_scale))


def cost_html(result: TokenMixing, reading: MixerReading, plot_scale: float = 1.0) -> str:
    stages = ", ".join(f"{c.attention_reads:,}" for c in result.costs)
    alt = (
        f"Reads per token at stages 1 to {len(result.costs)} on a log scale: pooling {result.pool_size**2} "
        f"at every stage; attention {stages}."
    )
    source = _cost_picture(result.costs, result.stage, plot_scale)
    return _figure(source, alt, _escape(reading.cost), "pf-mixer-figure pf-mixer-cost")


def mixer_html(result: TokenMixing | None = None, plot_scale: float = 1.0) -> str:
    """The whole view for one touched token (or, without one, what to do). `plot_scale` enlarges
    the cost plot's type (1.6 for presenter mode)."""
    if result is None:
        return f'<div class="pf-mixer pf-empty"><p class="pf-hint">{_escape(MIXER_HINT)}</p></div>'
    reading = mixer_reading(result)
    first, *others = reading.channels
    more = ""
    if others:
        items = "".join(f"<li>{_escape(sentence)}</li>" for sentence in others)
        more = f"<details class='pf-mixer-more'><summary>The other channels</summary><ul>{items}</ul></details>"
    return (
        f'<div class="pf-mixer" data-stage="{result.stage}" data-y="{result.y}" data-x="{result.x}" '
        # The outlines over the crop take render's colours, so the crop and the stage maps outline alike.
        f'style="--pf-window-edge: {_rgb(render.WINDOW_EDGE)}; --pf-token-edge: {_rgb(render.TOKEN_EDGE)}">'
        f'<div class="pf-mixer-row">{token_grid_html(result)}'
        f'<div class="pf-mixer-side"><p class="pf-mixer-reading">{_escape(reading.position)} '
        f"{_escape(reading.window)}</p><p class='pf-mixer-reading'><b>{_escape(first)}</b></p>{more}"
        f"{numbers_table(result)}</div></div>"
        f"{channel_maps_html(result)}"
        f'<div class="pf-mixer-row">{attention_html(result, reading)}{cost_html(result, reading, plot_scale)}</div>'
        "</div>"
    )


def _rgb(colour: tuple[int, int, int]) -> str:
    return f"rgb({colour[0]}, {colour[1]}, {colour[2]})"


# The browser's half (page.js: PoolFormer.mixer): one tab stop in the grid of tokens (the chosen
# token); the arrow keys, Home and End move it, Enter, Space or a click chooses. A choice moves the
# token's outline at once and sends the token to the server as the view's select event: index [y, x],
# value the stage.
MIXER_JS = "PoolFormer.mixer(element, trigger, watch)"
