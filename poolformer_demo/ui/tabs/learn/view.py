"""What the Learn tab shows, as Markdown in the page's language: MetaFormer and PoolFormer in
words, the variants' table, the technical terms beside their English names, and what stays in
English. Nothing here imports Gradio."""

from __future__ import annotations

from .... import i18n
from ....i18n import Messages
from ....variants import HUB_VARIANTS
from ...kit.journey import journey_markdown  # noqa: F401 - the Learn tab shows the panel the Explore tab fills
from ...kit.view import joined

SECTIONS_BEFORE_TABLE = ("learn.metaformer", "learn.poolformer")
SECTIONS_AFTER_TABLE = ("learn.pictures", "learn.explain", "learn.inside")
HEADS = ("variant", "blocks", "widths", "params", "macs", "top1")


def variants_table(t: Messages | None = None) -> str:
    t = t or i18n.english()
    rows = [
        "| " + " | ".join(t.text(f"learn.variants.head.{head}") for head in HEADS) + " |",
        "|---|---|---|---|---|---|",
    ]
    for v in HUB_VARIANTS.values():
        rows.append(
            f"| {v.name.upper()} | {joined(v.depths)} | {joined(v.hidden_sizes)} | {v.params_m:g} M | "
            f"{v.macs_g:.1f} G | {v.top1:g} % |"
        )
    return "\n".join(rows)


def terms_table(t: Messages) -> str:
    """The glossary: each term as this language says it (its first form), beside the English term."""
    english = i18n.english()
    rows = [f"| {t.text('learn.terms.head.term')} | {t.text('learn.terms.head.english')} |", "|---|---|"]
    for key in i18n.glossary_keys():
        rows.append(f"| {i18n.term_forms(t.text(key))[0]} | {i18n.term_forms(english.text(key))[0]} |")
    return "\n".join(rows)


def learn_markdown(t: Messages | None = None) -> str:
    """The whole tab in language `t`: its sections, the variants' table, the terms, what stays English."""
    t = t or i18n.english()
    return "\n\n".join(
        (
            *(t.text(key) for key in SECTIONS_BEFORE_TABLE),
            t.text("learn.variants.title"),
            variants_table(t),
            t.text("learn.variants.note"),
            *(t.text(key) for key in SECTIONS_AFTER_TABLE),
            t.text("learn.terms.title"),
            t.text("learn.terms.intro"),
            terms_table(t),
            t.text("learn.english_stays"),
        )
    )
