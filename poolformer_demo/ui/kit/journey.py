"""The shapes an analysed image takes through the stages, as Markdown: the panel the Learn tab
shows and the Explore tab fills after every analysis. Nothing here imports Gradio."""

from __future__ import annotations

from ...analysis import Analysis


def journey_markdown(analysis: Analysis | None = None) -> str:
    """The shapes the last analysed image took through the four stages."""
    if analysis is None:
        return (
            "### Your image through the network\n"
            "Analyse an image on the *Explore* tab and its journey through the four stages appears here."
        )
    height, width = analysis.input_image.height, analysis.input_image.width
    lines = [
        "### Your image through the network",
        f"PoolFormer-{analysis.variant.name.upper()} saw a **{width}×{height}** RGB crop "
        f"(3×{height}×{width}). Each stage starts with a patch embedding that shrinks the grid, then "
        "runs its PoolFormer blocks, which keep the shape:",
        "",
        "| | shape (C×H×W) | stride | tokens | blocks |",
        "|---|---|---|---|---|",
        f"| input crop | 3×{height}×{width} | 1 | – | – |",
    ]
    for stage in analysis.stages:
        channels, h, w = stage.shape
        depth = analysis.variant.depths[stage.index - 1]
        lines.append(f"| stage {stage.index} | {channels}×{h}×{w} | {stage.stride} | {h * w:,} | {depth} |")
    lines.append("")
    lines.append(
        "The classifier averages the stage-4 grid into one vector (global average pooling) "
        f"and maps it to {len(analysis.labels):,} class scores."
    )
    return "\n".join(lines)
