"""What the Learn tab shows: the variants' table and the shapes an analysed image takes through
the stages, as Markdown. Nothing here imports Gradio."""

from __future__ import annotations

from ....variants import HUB_VARIANTS
from ...kit.journey import journey_markdown  # noqa: F401 - the Learn tab shows the panel the Explore tab fills
from ...kit.view import joined


def variants_table() -> str:
    rows = [
        "| Variant | Blocks per stage | Widths | Params | MACs | ImageNet top-1 |",
        "|---|---|---|---|---|---|",
    ]
    for v in HUB_VARIANTS.values():
        rows.append(
            f"| {v.name.upper()} | {joined(v.depths)} | {joined(v.hidden_sizes)} | {v.params_m:g} M | "
            f"{v.macs_g:.1f} G | {v.top1:g} % |"
        )
    return "\n".join(rows)
