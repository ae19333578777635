"""A model's facts as (name, value) rows: its architecture, its published figures, and for a bundled
model how it was trained and how it measures, in the page's language. Explore shows them as a
table, the lesson's handout too. Nothing here imports Gradio."""

from __future__ import annotations

from ...i18n import Messages, english
from ...variants import BundledFacts, Variant
from .view import joined


def model_rows(variant: Variant, t: Messages | None = None) -> list[tuple[str, str]]:
    """The model's architecture and published figures; for a bundled model, its training too."""
    t = t or english()
    bundled = variant.bundled
    if variant.macs_g:
        macs = t.text("facts.macs.giga", macs=variant.macs_g, px=224)
    elif bundled is not None:
        macs = t.text("facts.macs.mega", macs=bundled.macs / 1e6, px=bundled.image_px)
    else:
        macs = "–"
    top1 = t.text("facts.top1.value", top1=variant.top1) if variant.top1 is not None else t.text("facts.top1.none")
    rows = [
        (t.text("facts.blocks"), joined(variant.depths)),
        (t.text("facts.widths"), joined(variant.hidden_sizes)),
        (t.text("facts.size"), t.text("facts.size.value", params=variant.params_m, macs=macs)),
        (t.text("facts.top1"), top1),
    ]
    return rows + bundled_rows(bundled, t) if bundled is not None else rows


def bundled_rows(facts: BundledFacts, t: Messages | None = None) -> list[tuple[str, str]]:
    """How a bundled model was trained and how it measures, for the model-facts table."""
    t = t or english()
    counts = {"images": facts.train_images, "steps": facts.steps, "batch": facts.batch_size, "task": facts.task}
    trained = (
        t.text("facts.trained.labels", **counts)
        if facts.labels_only
        else t.text("facts.trained.aid", weight=facts.aid_weight, **counts)
    )
    return [
        (t.text("facts.trained"), trained),
        (
            t.text("facts.held_out"),
            t.text("facts.held_out.value", accuracy=100 * facts.accuracy, images=facts.held_out_images),
        ),
        (
            t.text("facts.pointing"),
            t.text(
                "facts.pointing.value",
                pointing=100 * facts.pointing_game,
                centre=100 * facts.centre_baseline,
                random=100 * facts.chance_pointing,
            ),
        ),
    ]
