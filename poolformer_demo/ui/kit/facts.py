"""A model's facts as (name, value) rows: its architecture, its published figures, and for a bundled
model how it was trained and how it measures. Explore shows them as a table, the lesson's handout
too. Nothing here imports Gradio."""

from __future__ import annotations

from ...variants import BundledFacts, Variant
from .view import joined


def model_rows(variant: Variant) -> list[tuple[str, str]]:
    """The model's architecture and published figures; for a bundled model, its training too."""
    bundled = variant.bundled
    if variant.macs_g:
        macs = f"{variant.macs_g:.1f} G at 224 px"
    elif bundled is not None:
        macs = f"{bundled.macs / 1e6:.1f} M at {bundled.image_px} px"
    else:
        macs = "–"
    rows = [
        ("Blocks per stage", joined(variant.depths)),
        ("Widths", joined(variant.hidden_sizes)),
        ("Parameters · MACs", f"{variant.params_m:g} M · {macs}"),
        ("ImageNet-1k top-1", f"{variant.top1:g} %" if variant.top1 is not None else "– (not an ImageNet model)"),
    ]
    return rows + bundled_rows(bundled) if bundled is not None else rows


def bundled_rows(facts: BundledFacts) -> list[tuple[str, str]]:
    """How a bundled model was trained and how it measures, for the model-facts table."""
    aid = (
        "class labels only"
        if facts.labels_only
        else f"class labels + an auxiliary loss on where the object is (weight {facts.aid_weight:g})"
    )
    return [
        (
            "Trained on",
            f"the {facts.task} task: {facts.train_images:,} generated images, "
            f"{facts.steps:,} steps of batch {facts.batch_size}, {aid}",
        ),
        ("Held-out accuracy", f"{100 * facts.accuracy:.1f} % of {facts.held_out_images} test images"),
        (
            "Pointing game (stage-4 Grad-CAM)",
            f"{100 * facts.pointing_game:.1f} % · a map peaking at the centre: {100 * facts.centre_baseline:.1f} %, "
            f"at a random pixel: {100 * facts.chance_pointing:.1f} %",
        ),
    ]
