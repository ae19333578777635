"""The token mixer you can touch, in words: sentences filled from a TokenMixing's numbers, in the
language asked for (catalog messages ``mixer.*``). Each sentence that states a measurement is a
whole message with named placeholders, and the words that judge (above or below, most or least,
more or fewer) follow the numbers: each judgement is a message of its own."""

from __future__ import annotations

from dataclasses import dataclass

from .i18n import Messages, english
from .token_mixer import ChannelWindow, TokenMixing

# Below this the mixer's output prints as ±0.00 at two decimals: the token is its window's average.
SAME_AS_AVERAGE = 0.005


@dataclass(frozen=True)
class MixerReading:
    """The sentences a page shows beside the numbers, in reading order."""

    position: str
    window: str
    channels: tuple[str, ...]
    """One sentence per shown channel, in the result's order."""
    attention: str
    cost: str
    illustration: str


def where_on_grid(y: int, x: int, rows: int, cols: int, t: Messages | None = None) -> str:
    """Where a position lies as a student looking at the picture would say it: a corner or an edge
    when it touches the border, else the part of the grid (thirds) its cell's centre falls in."""
    t = t or english()
    vertical = "top" if y == 0 else "bottom" if y == rows - 1 else ""
    horizontal = "left" if x == 0 else "right" if x == cols - 1 else ""
    if vertical and horizontal:
        return t.text(f"mixer.where.corner.{vertical}_{horizontal}")
    if vertical or horizontal:
        return t.text(f"mixer.where.edge.{vertical or horizontal}")
    down = _third((y + 0.5) / rows, ("top", "middle", "bottom"))
    across = _third((x + 0.5) / cols, ("left", "middle", "right"))
    if down == across == "middle":
        return t.text("mixer.where.middle")
    if "middle" in (down, across):
        return t.text(f"mixer.where.towards.{across if down == 'middle' else down}")
    return t.text(f"mixer.where.towards.{down}_{across}")


def _third(fraction: float, names: tuple[str, str, str]) -> str:
    return names[0] if fraction < 1 / 3 else names[2] if fraction > 2 / 3 else names[1]


def channel_sentence(window: ChannelWindow, t: Messages | None = None) -> str:
    """What the mixer does with one channel at the token, turned by the sign of its output."""
    t = t or english()
    numbers = {"channel": window.channel, "mean": window.mean, "token": window.token, "output": window.output}
    if abs(window.output) < SAME_AS_AVERAGE:
        return t.text("mixer.window.same", **numbers)
    return t.text("mixer.window.below" if window.output > 0 else "mixer.window.above", **numbers)


def mixer_reading(result: TokenMixing, t: Messages | None = None) -> MixerReading:
    """The words for one touched token, every judgement made from the result's numbers."""
    t = t or english()
    rows, cols = result.grid_size
    where = where_on_grid(result.y, result.x, rows, cols, t)
    size, full = result.pool_size, result.pool_size**2
    if result.window_positions < full:
        window = t.text("mixer.window.cut", size=size, positions=result.window_positions, full=full)
    else:
        window = t.text("mixer.window.full", size=size, positions=result.window_positions)
    outside = result.attention_outside_window
    numbers = {"effective": result.attention_effective_tokens, "tokens": result.tokens}
    if outside > 0.5:
        attention = t.text("mixer.attention.outside", outside=outside, **numbers)
    else:
        attention = t.text("mixer.attention.inside", inside=1.0 - outside, **numbers)
    cost = next(c for c in result.costs if c.stage == result.stage)
    numbers = {"reads": cost.pooling_reads, "tokens": cost.attention_reads, "stage": cost.stage}
    if cost.attention_reads > cost.pooling_reads:
        said_cost = t.text("mixer.cost.more", ratio=cost.attention_reads / cost.pooling_reads, **numbers)
    else:
        said_cost = t.text("mixer.cost.not_more", **numbers)
    return MixerReading(
        position=t.text(
            "mixer.position", y=result.y, x=result.x, stage=result.stage, rows=rows, cols=cols, where=where
        ),
        window=window,
        channels=tuple(channel_sentence(c, t) for c in result.channels),
        attention=attention,
        cost=said_cost,
        illustration=t.text("mixer.illustration"),
    )


__all__ = ["SAME_AS_AVERAGE", "MixerReading", "channel_sentence", "mixer_reading", "where_on_grid"]
