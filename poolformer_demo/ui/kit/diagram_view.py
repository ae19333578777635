"""The block diagram on a page: the SVG, its formulas, and the picture of the step chosen in it.

Gradio-free. The pictures are the block anatomy's (`kit.block_views.anatomy_pictures`); choosing a box
(click, Enter or Space) shows its step's picture without a server round trip (static/page.js). The
plain names are said in the page's language; code names and formulas stay as they are, left to right.
"""

from __future__ import annotations

import html

from ...diagram import FORMULAS, block_diagram_svg, box, step_name
from ...i18n import Messages, english

DEFAULT_BOX = "mixer"


def diagram_html(
    pictures: dict | None = None, where: str = "", chosen: str = DEFAULT_BOX, t: Messages | None = None
) -> str:
    """The diagram beside its formulas and the chosen step's picture (all steps' pictures inlined,
    one shown). Without pictures it still shows the diagram, the formulas and what each box does."""
    t = t or english()
    first = box(chosen)
    picks = ""
    if pictures:
        picks = "".join(
            f'<figure class="pf-pick" data-pick="{step["name"]}"{"" if step["name"] == first.step else " hidden"}>'
            f'<img class="pf-pick-img" alt="{html.escape(step["title"])}, {html.escape(where)}" '
            f'src="{step["picture"]}">'
            f"<figcaption><b>{html.escape(step_name(step['name'], t))}</b> "
            f"(<code>{html.escape(step['title'])}</code>) {html.escape(t.said(step['caption']))}</figcaption></figure>"
            for step in pictures["steps"]
        )
    formulas = "".join(f'<li><code dir="ltr">{html.escape(f)}</code></li>' for f in FORMULAS)
    hint = "" if pictures else f'<p class="pf-note">{html.escape(t.text("diagram.no_pictures"))}</p>'
    choose = t.text("diagram.choose.where", where=where) if where else t.text("diagram.choose")
    label = t.text("diagram.box_with_code", plain=first.plain(t), code=first.code)
    return (
        '<div class="pf-diagram">'
        f'<div class="pf-diagram-figure">{block_diagram_svg(chosen, t)}</div>'
        '<div class="pf-diagram-side">'
        f'<ul class="pf-formulas" aria-label="{html.escape(t.text("diagram.formulas"))}">{formulas}</ul>'
        f'<p class="pf-note">{html.escape(choose)}</p>'
        f'<p class="pf-pick-note" aria-live="polite"><b>{html.escape(label)}:</b> '
        f"{html.escape(first.note(t))}</p>{hint}{picks}</div></div>"
    )
