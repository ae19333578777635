"""What the page shows, as plain values: Markdown, label dicts and picture lists from an Analysis.

Nothing here imports Gradio, so formatting is tested without a server, and every tab formats
the same way.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from ...errors import without_paths
from ...labels import display_names  # noqa: F401 - the tabs name classes as the core does
from ...variants import STAGE_COUNT, VARIANTS

DEEPEST_STAGE = STAGE_COUNT
STAGES = tuple(range(1, STAGE_COUNT + 1))


@dataclass(frozen=True)
class Session:
    """What one browser tab remembers between events: which image, which model, which class.

    The pictures themselves live in the tab's bounded stores, so a session costs a few
    kilobytes however many people keep the page open.
    """

    image: str
    image_key: str
    variant: str
    labels: tuple[str, ...]
    target: int


def joined(values) -> str:
    return " · ".join(str(v) for v in values)


NOT_HERE = "weights not on this server"


def variant_choices(runnable=None) -> list[tuple[str, str]]:
    """The model menus' entries: (short label, variant name). A variant not in `runnable` (when
    given) stays in the menu, marked, so nobody takes its accuracy for something it can show here."""
    choices = []
    for name, variant in VARIANTS.items():
        label = variant.menu_label
        if runnable is not None and name not in runnable:
            accuracy = f" · {variant.top1:g}%" if variant.top1 is not None else ""
            label = f"{name.upper() if variant.top1 is not None else name}{accuracy} · {NOT_HERE}"
        choices.append((label, name))
    return choices


def mean_spread(mean: float, std: float, seeds: int) -> str:
    """79.0 % ± 0.5 (the spread in percentage points); no spread for one seed."""
    return f"{100 * mean:.1f} %" if seeds < 2 else f"{100 * mean:.1f} % ± {100 * std:.1f}"


def chance_row(*cells: str) -> str:
    """The row under a table of accuracies that says what a guess scores, column by column."""
    scores = "".join(f'<td class="pf-num">{c}</td>' if c else "<td></td>" for c in cells)
    return f'<tr data-arm="chance" class="pf-chance"><td>chance (a guess)</td>{scores}</tr>'


def more_html(sentences, shown: int = 2) -> str:
    """Sentences for a class to read: the first ``shown`` in full, the rest behind a "more"
    disclosure. The sentences are plain text; they are escaped here."""
    first, rest = list(sentences[:shown]), list(sentences[shown:])
    head = html.escape(" ".join(first))
    if not rest:
        return head
    return f'{head} <details class="pf-more"><summary>more</summary>{html.escape(" ".join(rest))}</details>'


def counted(count: int, noun: str) -> str:
    """ "1 map", "2 maps": a count with its noun in the number it needs."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def stage_choices() -> list[tuple[str, int]]:
    return [(f"stage {i}", i) for i in STAGES]


def status_html(text: str, fraction: float | None = None) -> str:
    """A long run's progress bar (moving without a share when `fraction` is None) and a line of text."""
    bar = "<progress></progress>" if fraction is None else f'<progress max="1" value="{fraction:.4f}"></progress>'
    return f'<div class="pf-run-status">{bar}<span>{html.escape(text)}</span></div>'


def message_html(text: str) -> str:
    """A line without a bar where a long run's progress shows: done, stopped, or what went wrong."""
    return f'<div class="pf-run-status pf-idle"><span>{html.escape(text)}</span></div>'


def md(text: str) -> str:
    """Text from a model or a user, made inert in Markdown."""
    return re.sub(r"([\\`*_{}\[\]<>|#])", r"\\\1", str(text))


def public_message(exc: BaseException) -> str:
    """An error message fit for the page: folder names instead of absolute paths, HTML escaped
    (Gradio renders error messages as HTML)."""
    return html.escape(without_paths(str(exc)), quote=False)


def legend_html(note: str) -> str:
    return (
        '<p class="pf-legend"><span class="pf-legend-end">−</span>'
        '<span class="pf-diverging-bar" aria-hidden="true"></span><span class="pf-legend-end">+</span>'
        f"<span>{html.escape(note)}</span></p>"
    )


def progress_html(fraction: float, title: str, seconds: float) -> str:
    return status_html(f"{title}… {fraction:.0%} · {seconds:.0f} s", fraction)


def failure_html(message: str) -> str:
    """A failed request, said above the pictures it left in place. `message` is already fit for a
    page (ui.errors.failure_message escapes it), so it is not escaped again."""
    return (
        f'<div class="pf-run-status pf-idle"><span>⚠️ {message} '
        "The pictures below, if any, are still the last ones.</span></div>"
    )


STOPPED = "Stopped. The pictures below, if any, are still the last ones."


def cam_scale_html(note: str = "each map is scaled to its own peak") -> str:
    """The colour scale of a CAM heatmap (render.CAM_CMAP, jet) from 0 to the map's own peak."""
    return (
        '<p class="pf-legend"><span class="pf-legend-end">0</span>'
        '<span class="pf-jet-bar" aria-hidden="true"></span><span class="pf-legend-end">peak</span>'
        f"<span>{html.escape(note)}</span></p>"
    )


def plot_images(screen: str, room: str | None, alt: str) -> str:
    """A plot as drawn for a screen and, where given, as drawn again with larger type for a projector
    (`plots.PRESENTER_SCALE`): presenter mode shows the second in place of the first (style.css)."""
    alt = html.escape(alt)
    if room is None:
        return f'<img alt="{alt}" src="{screen}">'
    return f'<img class="pf-for-screen" alt="{alt}" src="{screen}"><img class="pf-for-room" alt="{alt}" src="{room}">'


# The browser's half of a view with tables (static/page.js): a table box that scrolls sideways is
# reachable and scrollable from the keyboard.
SCROLLABLE_JS = "PoolFormer.scrollable(element, watch)"
