"""The token mixer you can touch, in words: sentences filled from a TokenMixing's numbers. Each
sentence that states a measurement is a template with named placeholders, and the words that
judge (above or below, most or least, more or fewer) follow the numbers."""

from __future__ import annotations

from dataclasses import dataclass

from .token_mixer import ChannelWindow, TokenMixing

# Below this the mixer's output prints as ±0.00 at two decimals: the token is its window's average.
SAME_AS_AVERAGE = 0.005

POSITION = "Token (y={y}, x={x}) of stage {stage}'s {rows}×{cols} grid, counted from 0 at the top left: {where}."
WINDOW_BELOW = (
    "In channel {channel} the window's average is {mean:.2f} and the token is {token:.2f}, below it: "
    "the mixer passes on {output:+.2f}, which lifts the token toward its neighbours."
)
WINDOW_ABOVE = (
    "In channel {channel} the window's average is {mean:.2f} and the token is {token:.2f}, above it: "
    "the mixer passes on {output:+.2f}, which pulls the token toward its neighbours."
)
WINDOW_SAME = (
    "In channel {channel} the window's average is {mean:.2f} and the token is {token:.2f}, the same: "
    "the mixer passes on {output:+.2f}, next to nothing."
)
WINDOW_FULL = "The {size}×{size} window holds all {positions} positions around the token."
WINDOW_CUT = (
    "At the border its {size}×{size} window holds {positions} of {full} positions, and the average is over "
    "those {positions} only (positions beyond the border are not counted as zeros)."
)
ATTENTION_OUTSIDE = (
    "Attention, on the same features, spreads this token's weight over about {effective:.0f} of the stage's "
    "{tokens:,} tokens and puts most of it ({outside:.0%}) on tokens the window never reads."
)
ATTENTION_INSIDE = (
    "Attention, on the same features, spreads this token's weight over about {effective:.0f} of the stage's "
    "{tokens:,} tokens and keeps most of it ({inside:.0%}) inside the window here."
)
COST_MORE = (
    "Per token, pooling reads {reads} positions at every stage; attention reads every token: {tokens:,} at stage "
    "{stage}, {ratio:.0f}× as many."
)
COST_NOT_MORE = (
    "Per token, pooling reads {reads} positions at every stage; attention reads every token: {tokens:,} at stage "
    "{stage}, no more than pooling on a grid this small."
)
ILLUSTRATION = (
    "The attention shown is an illustration, not a trained model: softmax(n_i · n_j / √C) with the normalised "
    "features themselves as queries and keys. A trained attention layer learns its own projections."
)


@dataclass(frozen=True)
class MixerReading:
    """The sentences a page shows beside the numbers, in reading order."""

    position: str
    window: str
    channels: tuple[str, ...]
    """One sentence per shown channel, in the result's order."""
    attention: str
    cost: str
    illustration: str = ILLUSTRATION


def where_on_grid(y: int, x: int, rows: int, cols: int) -> str:
    """Where a position lies as a student looking at the picture would say it: a corner or an edge
    when it touches the border, else the part of the grid (thirds) its cell's centre falls in."""
    vertical = "top" if y == 0 else "bottom" if y == rows - 1 else ""
    horizontal = "left" if x == 0 else "right" if x == cols - 1 else ""
    if vertical and horizontal:
        return f"in the {vertical}-{horizontal} corner"
    if vertical or horizontal:
        return f"on the {vertical or horizontal} edge"
    down = _third((y + 0.5) / rows, ("top", "middle", "bottom"))
    across = _third((x + 0.5) / cols, ("left", "middle", "right"))
    if down == across == "middle":
        return "in the middle"
    if "middle" in (down, across):
        return f"towards the {across if down == 'middle' else down}"
    return f"towards the {down} {across}"


def _third(fraction: float, names: tuple[str, str, str]) -> str:
    return names[0] if fraction < 1 / 3 else names[2] if fraction > 2 / 3 else names[1]


def channel_sentence(window: ChannelWindow) -> str:
    """What the mixer does with one channel at the token, turned by the sign of its output."""
    numbers = {"channel": window.channel, "mean": window.mean, "token": window.token, "output": window.output}
    if abs(window.output) < SAME_AS_AVERAGE:
        return WINDOW_SAME.format(**numbers)
    return (WINDOW_BELOW if window.output > 0 else WINDOW_ABOVE).format(**numbers)


def mixer_reading(result: TokenMixing) -> MixerReading:
    """The words for one touched token, every judgement made from the result's numbers."""
    rows, cols = result.grid_size
    where = where_on_grid(result.y, result.x, rows, cols)
    size, full = result.pool_size, result.pool_size**2
    if result.window_positions < full:
        window = WINDOW_CUT.format(size=size, positions=result.window_positions, full=full)
    else:
        window = WINDOW_FULL.format(size=size, positions=result.window_positions)
    outside = result.attention_outside_window
    numbers = {"effective": result.attention_effective_tokens, "tokens": result.tokens}
    if outside > 0.5:
        attention = ATTENTION_OUTSIDE.format(outside=outside, **numbers)
    else:
        attention = ATTENTION_INSIDE.format(inside=1.0 - outside, **numbers)
    cost = next(c for c in result.costs if c.stage == result.stage)
    template = COST_MORE if cost.attention_reads > cost.pooling_reads else COST_NOT_MORE
    return MixerReading(
        position=POSITION.format(y=result.y, x=result.x, stage=result.stage, rows=rows, cols=cols, where=where),
        window=window,
        channels=tuple(channel_sentence(c) for c in result.channels),
        attention=attention,
        cost=template.format(
            reads=cost.pooling_reads,
            tokens=cost.attention_reads,
            stage=cost.stage,
            ratio=cost.attention_reads / cost.pooling_reads,
        ),
    )


__all__ = ["SAME_AS_AVERAGE", "MixerReading", "channel_sentence", "mixer_reading", "where_on_grid"]
