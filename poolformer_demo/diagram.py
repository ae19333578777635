"""The MetaFormer block as an SVG diagram: one box per step, plain name first and code name second.

    Y = X + layer_scale_1 · TokenMixer(Norm(X)),   TokenMixer(x) = AvgPool(x) − x
    Z = Y + layer_scale_2 · MLP(Norm(Y))

(Yu et al., "MetaFormer is Actually What You Need for Vision", CVPR 2022, Eq. 1-3.) Code names
are those of transformers' `PoolFormerLayer`; the plain names are the catalog's (``diagram.*``), in
the language asked for. A box whose step `anatomy.STEPS` records carries
that step's name, so a page can show the step's picture when the box is chosen; the boxes are
focusable buttons, and the SVG carries a title and a description for readers who cannot see it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from .i18n import Messages, english


@dataclass(frozen=True)
class Box:
    key: str
    code: str
    step: str | None
    """The `anatomy.STEPS` entry whose picture this box shows; None for a step not recorded."""
    kind: str = "box"
    """"box" for a layer, "add" for a residual sum, "end" for the block's input or output."""

    def plain(self, t: Messages | None = None) -> str:
        """The step in plain words (catalog ``diagram.box.<key>``), in language `t`."""
        return (t or english()).text(f"diagram.box.{self.key}")

    def note(self, t: Messages | None = None) -> str:
        """What the step does, in one sentence (catalog ``diagram.note.<key>``)."""
        return (t or english()).text(f"diagram.note.{self.key}")


BOXES = (
    Box("input", "hidden_states", "input", "end"),
    Box("norm1", "before_norm", "normed"),
    Box("pool", "pooling.pool", "pooled"),
    Box("mixer", "pooling", "mixer"),
    Box("scale1", "layer_scale_1", None),
    Box("add1", "Y = X + …", "mixed", "add"),
    Box("norm2", "after_norm", None),
    Box("mlp", "mlp: fc1 → GELU → fc2", "mlp"),
    Box("scale2", "layer_scale_2", "mlp"),
    Box("add2", "Z = Y + …", "output", "add"),
)


def step_name(step: str, t: Messages | None = None) -> str:
    """A recorded step (anatomy.STEPS) in plain words, shown before its formula."""
    t = t or english()
    key = f"diagram.step.{step}"
    return t.text(key) if key in english() else step


FORMULAS = (
    "Y = X + ls1 · Mixer(Norm(X))",
    "Z = Y + ls2 · MLP(Norm(Y))",
    "Mixer(x) = AvgPool(x) − x",
)


def title(t: Messages | None = None) -> str:
    return (t or english()).text("diagram.title")


def description(t: Messages | None = None) -> str:
    """What the diagram shows, for readers who cannot see it."""
    t = t or english()
    steps = "; ".join(t.text("diagram.box_with_code", plain=b.plain(t), code=b.code) for b in BOXES)
    return t.text("diagram.description", count=len(BOXES), steps=steps)


WIDTH = 400
ROW = 46
BOX_LEFT = 78
BOX_WIDTH = 300
BOX_HEIGHT = 36
SKIP_X = 34


def _row_top(index: int) -> int:
    return 10 + index * ROW


def _box_svg(index: int, box: Box, chosen: str | None, t: Messages) -> str:
    top = _row_top(index)
    plain = box.plain(t)
    label = t.text("diagram.box_with_code", plain=plain, code=box.code)
    pressed = "true" if box.key == chosen else "false"
    attributes = (
        f'class="pf-box pf-box-{box.kind}" role="button" tabindex="0" aria-pressed="{pressed}" '
        f'data-key="{box.key}" data-shows="{box.step or ""}" data-note="{html.escape(box.note(t))}" '
        f'data-label="{html.escape(label)}"'
    )
    middle = top + BOX_HEIGHT // 2
    if box.kind == "add":
        shape = (
            f'<circle cx="{BOX_LEFT + 18}" cy="{middle}" r="14" class="pf-box-shape"/>'
            f'<text x="{BOX_LEFT + 18}" y="{middle + 6}" text-anchor="middle" class="pf-box-plus">+</text>'
        )
        words = (
            f'<text x="{BOX_LEFT + 42}" y="{middle - 3}" class="pf-box-plain">{html.escape(plain)}</text>'
            f'<text x="{BOX_LEFT + 42}" y="{middle + 13}" class="pf-box-code">{html.escape(box.code)}</text>'
        )
    else:
        shape = (
            f'<rect x="{BOX_LEFT}" y="{top}" width="{BOX_WIDTH}" height="{BOX_HEIGHT}" rx="7" class="pf-box-shape"/>'
        )
        words = (
            f'<text x="{BOX_LEFT + 12}" y="{middle - 3}" class="pf-box-plain">{html.escape(plain)}</text>'
            f'<text x="{BOX_LEFT + 12}" y="{middle + 13}" class="pf-box-code">{html.escape(box.code)}</text>'
        )
    return f"<g {attributes}>{shape}{words}</g>"


def _arrows() -> str:
    lines = []
    for index in range(len(BOXES) - 1):
        x = BOX_LEFT + (18 if BOXES[index + 1].kind == "add" else 40)
        start = _row_top(index) + BOX_HEIGHT
        lines.append(f'<line x1="{x}" y1="{start}" x2="{x}" y2="{_row_top(index + 1) - 1}" class="pf-arrow"/>')
    skips = []
    keys = [b.key for b in BOXES]
    for source, target in (("input", "add1"), ("add1", "add2")):
        top = _row_top(keys.index(source)) + BOX_HEIGHT // 2
        bottom = _row_top(keys.index(target)) + BOX_HEIGHT // 2
        skips.append(
            f'<path d="M {BOX_LEFT} {top} H {SKIP_X} V {bottom} H {BOX_LEFT + 3}" class="pf-skip" fill="none"/>'
        )
    return "".join(lines + skips)


def block_diagram_svg(chosen: str | None = None, t: Messages | None = None) -> str:
    """The block as SVG text in language `t`, `chosen` (a box key) drawn as pressed. The plain names
    are said in the language; the code names, the arrows and the layout stay as they are (left to right)."""
    t = t or english()
    height = _row_top(len(BOXES)) + 4
    boxes = "".join(_box_svg(i, box, chosen, t) for i, box in enumerate(BOXES))
    return (
        f'<svg class="pf-diagram-svg" dir="ltr" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        'role="group" aria-labelledby="pf-diagram-title pf-diagram-desc" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="pf-diagram-title">{html.escape(title(t))}</title>'
        f'<desc id="pf-diagram-desc">{html.escape(description(t))}</desc>'
        '<defs><marker id="pf-arrowhead" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L8,4 L0,8 z" class="pf-arrowhead"/></marker></defs>'
        f"{_arrows()}{boxes}</svg>"
    )


def box(key: str) -> Box:
    for candidate in BOXES:
        if candidate.key == key:
            return candidate
    raise KeyError(f"No box {key!r} in the block diagram; boxes: {', '.join(b.key for b in BOXES)}.")


# The page's stylesheet colours the diagram; a file of its own (a slide) carries these instead.
FILE_STYLE = (
    "text{font-family:DejaVu Sans,Arial,sans-serif}"
    ".pf-box-shape{fill:#fff;stroke:#475569;stroke-width:1.5}"
    ".pf-box-plain{font-size:14px;font-weight:600;fill:#111}"
    ".pf-box-code{font-size:12px;font-family:DejaVu Sans Mono,monospace;fill:#475569}"
    ".pf-box-plus{font-size:20px;font-weight:700;fill:#111}"
    ".pf-arrow,.pf-skip{stroke:#475569;stroke-width:1.5;marker-end:url(#pf-arrowhead)}"
    ".pf-arrowhead{fill:#475569}"
)


def block_diagram_file() -> str:
    """The block as a standalone SVG document (a slide's figure): no box chosen, its own style."""
    svg = block_diagram_svg()
    opening = svg.index(">") + 1
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{svg[:opening]}<style>{FILE_STYLE}</style>{svg[opening:]}\n'
