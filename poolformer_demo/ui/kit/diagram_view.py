"""The block diagram on a page: the SVG, its formulas, and the picture of the step chosen in it.

Gradio-free. The pictures are the block anatomy's (`kit.block_views.anatomy_pictures`); choosing a box
(click, Enter or Space) shows its step's picture without a server round trip (static/page.js).
"""

from __future__ import annotations

import html

from ...diagram import FORMULAS, STEP_NAMES, block_diagram_svg, box

DEFAULT_BOX = "mixer"
NO_PICTURES = "Show a block to see each step's picture here."


def diagram_html(pictures: dict | None = None, where: str = "", chosen: str = DEFAULT_BOX) -> str:
    """The diagram beside its formulas and the chosen step's picture (all steps' pictures inlined,
    one shown). Without pictures it still shows the diagram, the formulas and what each box does."""
    first = box(chosen)
    picks = ""
    if pictures:
        picks = "".join(
            f'<figure class="pf-pick" data-pick="{step["name"]}"{"" if step["name"] == first.step else " hidden"}>'
            f'<img class="pf-pick-img" alt="{html.escape(step["title"])}, {html.escape(where)}" '
            f'src="{step["picture"]}">'
            f"<figcaption><b>{html.escape(STEP_NAMES.get(step['name'], step['name']))}</b> "
            f"(<code>{html.escape(step['title'])}</code>) {html.escape(step['caption'])}</figcaption></figure>"
            for step in pictures["steps"]
        )
    formulas = "".join(f"<li><code>{html.escape(f)}</code></li>" for f in FORMULAS)
    hint = "" if pictures else f'<p class="pf-note">{NO_PICTURES}</p>'
    return (
        '<div class="pf-diagram">'
        f'<div class="pf-diagram-figure">{block_diagram_svg(chosen)}</div>'
        '<div class="pf-diagram-side">'
        f'<ul class="pf-formulas" aria-label="The block as formulas">{formulas}</ul>'
        '<p class="pf-note">Choose a box (click, or Tab then Enter) to see that step'
        f"{' for ' + html.escape(where) if where else ''}.</p>"
        f'<p class="pf-pick-note" aria-live="polite"><b>{html.escape(first.plain)} ({html.escape(first.code)}):</b> '
        f"{html.escape(first.note)}</p>{hint}{picks}</div></div>"
    )
