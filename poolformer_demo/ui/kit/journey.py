"""The shapes an analysed image takes through the stages, as Markdown: the panel the Learn tab
shows and the Explore tab fills after every analysis. Nothing here imports Gradio."""

from __future__ import annotations

from ...analysis import Analysis
from ...i18n import Messages, english


def journey_markdown(analysis: Analysis | None = None, t: Messages | None = None) -> str:
    """The shapes the last analysed image took through the four stages."""
    t = t or english()
    title = f"### {t.text('journey.title')}"
    if analysis is None:
        return f"{title}\n{t.text('journey.empty')}"
    height, width = analysis.input_image.height, analysis.input_image.width
    heads = [t.text(f"journey.head.{name}") for name in ("shape", "stride", "tokens", "blocks")]
    lines = [
        title,
        t.text("journey.intro", model=analysis.variant.name.upper(), width=width, height=height),
        "",
        "| | " + " | ".join(heads) + " |",
        "|---|---|---|---|---|",
        f"| {t.text('journey.input_crop')} | 3×{height}×{width} | 1 | – | – |",
    ]
    for stage in analysis.stages:
        channels, h, w = stage.shape
        depth = analysis.variant.depths[stage.index - 1]
        name = t.text("stage.choice", stage=stage.index)
        lines.append(f"| {name} | {channels}×{h}×{w} | {stage.stride} | {h * w:,} | {depth} |")
    lines.append("")
    lines.append(t.text("journey.classifier", classes=len(analysis.labels)))
    return "\n".join(lines)
