"""What the page shows, as plain values: Markdown, label dicts and picture lists from an Analysis.

Nothing here imports Gradio, so formatting is tested without a server, and every tab formats
the same way.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from ...errors import without_paths
from ...i18n import Messages, english
from ...labels import display_names  # noqa: F401 - the tabs name classes as the core does
from ...variants import STAGE_COUNT, VARIANTS, get_variant

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


def variant_label(name: str, t: Messages, runnable=None) -> str:
    """A model's entry in a menu: short, with its accuracy; marked when its weights are not here."""
    variant = get_variant(name)
    imagenet = variant.top1 is not None
    if runnable is not None and name not in runnable:
        if imagenet:
            return t.text("variant.menu.imagenet_missing", name=name.upper(), top1=variant.top1)
        return t.text("variant.menu.bundled_missing", name=name)
    if imagenet:
        return t.text("variant.menu.imagenet", name=name.upper(), params=variant.params_m, top1=variant.top1)
    return t.text(f"variant.menu.{name}")


def variant_choices(runnable=None, t: Messages | None = None) -> list[tuple[str, str]]:
    """The model menus' entries: (short label, variant name). A variant not in `runnable` (when
    given) stays in the menu, marked, so nobody takes its accuracy for something it can show here."""
    t = t or english()
    return [(variant_label(name, t, runnable), name) for name in VARIANTS]


def model_name(name: str, t: Messages) -> str:
    """PoolFormer-S12 for an ImageNet model, "the shapes model" for a bundled one."""
    variant = get_variant(name)
    if variant.top1 is not None:
        return t.text("variant.name.imagenet", name=variant.name.upper())
    return t.text(f"variant.name.{variant.name}")


def mean_spread(mean: float, std: float, seeds: int) -> str:
    """79.0 % ± 0.5 (the spread in percentage points); no spread for one seed."""
    return f"{100 * mean:.1f} %" if seeds < 2 else f"{100 * mean:.1f} % ± {100 * std:.1f}"


def chance_row(*cells: str, t: Messages | None = None) -> str:
    """The row under a table of accuracies that says what a guess scores, column by column."""
    t = t or english()
    scores = "".join(f'<td class="pf-num">{c}</td>' if c else "<td></td>" for c in cells)
    return f'<tr data-arm="chance" class="pf-chance"><td>{html.escape(t.text("table.chance_row"))}</td>{scores}</tr>'


def more_html(sentences, shown: int = 2, t: Messages | None = None) -> str:
    """Sentences for a class to read: the first ``shown`` in full, the rest behind a "more"
    disclosure. The sentences are plain text; they are escaped here."""
    first, rest = list(sentences[:shown]), list(sentences[shown:])
    head = html.escape(" ".join(first))
    if not rest:
        return head
    more = html.escape((t or english()).text("page.more"))
    return f'{head} <details class="pf-more"><summary>{more}</summary>{html.escape(" ".join(rest))}</details>'


def stage_choices(t: Messages | None = None) -> list[tuple[str, int]]:
    t = t or english()
    return [(t.text("stage.choice", stage=i), i) for i in STAGES]


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


def failure_text(said: str, t: Messages | None = None) -> str:
    """A failure as `kit.errors.failure_said` keeps it, in language `t`, fit for a page (no folder
    names, HTML escaped)."""
    return public_message((t or english()).said(said))


def legend_html(note: str) -> str:
    return (
        '<p class="pf-legend" dir="ltr"><span class="pf-legend-end">−</span>'
        '<span class="pf-diverging-bar" aria-hidden="true"></span><span class="pf-legend-end">+</span>'
        f'<span dir="auto">{html.escape(note)}</span></p>'
    )


def progress_html(fraction: float, title: str, seconds: float, t: Messages | None = None) -> str:
    text = (t or english()).text("run.progress", title=title, fraction=fraction, seconds=seconds)
    return status_html(text, fraction)


def failure_html(message: str, t: Messages | None = None) -> str:
    """A failed request, said above the pictures it left in place. `message` is already fit for a
    page (ui.errors.failure_text escapes it), so it is not escaped again."""
    kept = html.escape((t or english()).text("run.pictures_kept"))
    return f'<div class="pf-run-status pf-idle"><span>⚠️ {message} {kept}</span></div>'


def stopped_html(t: Messages | None = None) -> str:
    return message_html((t or english()).text("run.stopped"))


def cam_scale_html(note: str | None = None, t: Messages | None = None) -> str:
    """The colour scale of a CAM heatmap (render.CAM_CMAP, jet) from 0 to the map's own peak."""
    t = t or english()
    note = t.text("scale.cam_own_peak") if note is None else note
    return (
        '<p class="pf-legend" dir="ltr"><span class="pf-legend-end">0</span>'
        '<span class="pf-jet-bar" aria-hidden="true"></span>'
        f'<span class="pf-legend-end" dir="auto">{html.escape(t.text("scale.peak"))}</span>'
        f'<span dir="auto">{html.escape(note)}</span></p>'
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
