"""What the "Inside the block" tab shows, as plain values: HTML with inlined pictures, Markdown and
JSON, from a BlockAnatomy, two Analyses (before and after a knockout) and a ReceptiveField.

Nothing here imports Gradio, so the formatting is tested without a server. Pictures of a stage's
maps are sent at the stage's own resolution and enlarged by the browser, a square per position.
"""

from __future__ import annotations

import html
from pathlib import Path

from .... import render
from ....anatomy import BlockAnatomy
from ....comparison import KnockoutComparison
from ....variants import PAPER_S12_ABLATIONS, get_variant
from ...kit.block_views import (  # noqa: F401 - the page shows them as this tab's own
    KNOCKOUT_HINT,
    anatomy_pictures,
    knockout_html,
    mixer_off_note,
)
from ...kit.block_views import deepest_cam_uri as _deepest_cam
from ...kit.view import Session, display_names, md, stage_choices

INTRO = (
    "MetaFormer's claim is that the block — norm, token mixer, residual, channel MLP, residual — carries the "
    "model, not the mixer. Here you see it on your own image: each step of one block, what happens when a part "
    "is switched off, and how far each position of a stage can see."
)
NO_SESSION = "Analyse an image on the **Explore** tab first: this tab looks inside the model at that image."
DIVERGING_NOTE = (
    "The token mixer's output and the MLP branch are signed, so they are drawn with a diverging colormap "
    "centred on 0: white is 0, red above, blue below (the caption gives the range). The other steps use one "
    "shared colour range for the residual stream (x, after the mixer, output) and one for the normalised map "
    "and its blur, so the blur shows as lost contrast."
)
KNOCKOUT_WHY = (
    "A knockout removes a part from a model that was trained with it, so the other parts never learned to work "
    "without it: the drop measures how much this trained model relies on the part. The paper's numbers come "
    "from models trained from scratch without it."
)
# The preset buttons: (label, token mixer off, channel MLP off).
KNOCKOUT_PRESETS = (
    ("Token mixer off everywhere", True, False),
    ("Channel MLP off everywhere", False, True),
    ("Nothing off", False, False),
)
ANATOMY_HINT = "Choose a stage and a block and press <b>Show the block</b>."


def source_markdown(session: Session | None) -> str:
    """Which image and model the tab works on: the last analysis on the Explore tab."""
    if session is None:
        return NO_SESSION
    target = display_names(session.labels)[session.target]
    return (
        f"**Your image:** {md(Path(session.image).name)} on **PoolFormer-{md(session.variant.upper())}**; "
        f"Grad-CAM explains *{md(target)}*. "
        '<span class="pf-needs-controls">Analyse another image on the Explore tab to look inside that one.</span>'
    )


def block_choices(variant: str, stage: int) -> list[tuple[str, int]]:
    """The block menu for a stage: as many blocks as the variant has there."""
    depth = get_variant(variant).depths[int(stage) - 1]
    return [(f"block {i}", i) for i in range(1, depth + 1)]


def section_failure(message: str) -> str:
    """A failed request, said above the section's pictures, which stay as they were."""
    return f"⚠️ {message} The pictures below, if any, are still the last ones."


# ---------------------------------------------------------------------------------------------
# Block anatomy
# ---------------------------------------------------------------------------------------------


def _strongest(anatomy: BlockAnatomy, key: str) -> str:
    best = max(anatomy.branches, key=lambda b: getattr(b, key))
    return f"block {best.stage}.{best.block} ({getattr(best, key):.2f})"


def anatomy_html(anatomy: BlockAnatomy | None = None, pictures: dict | None = None) -> str:
    """The crop, the seven steps in a row with their captions, the colour note and the branch plot."""
    if anatomy is None or pictures is None:
        return f'<div class="pf-anatomy pf-empty"><p class="pf-hint"><span>{ANATOMY_HINT}</span></p></div>'
    channels, height, width = anatomy.input.shape
    where = (
        f"Stage {anatomy.stage}, block {anatomy.block} of PoolFormer-{html.escape(anatomy.variant.name.upper())} · "
        f"channel {pictures['channel']} of {channels}, where the token mixer changes the stream most · "
        f"each picture is that channel's {height}×{width} map"
    )
    crop = (
        '<figure class="pf-step pf-step-crop">'
        f'<img class="pf-photo" alt="the crop the model saw" src="{pictures["crop"]}">'
        "<figcaption><b>the crop</b><span>The image the model saw.</span></figcaption></figure>"
    )
    steps = "".join(
        f'<figure class="pf-step" data-step="{step["name"]}">'
        f'<img class="pf-cells" alt="{html.escape(step["title"])}, stage {anatomy.stage}, block {anatomy.block}, '
        f'channel {pictures["channel"]}" src="{step["picture"]}">'
        f"<figcaption><b>{html.escape(step['title'])}</b><span>{html.escape(step['caption'])}</span></figcaption>"
        "</figure>"
        for step in pictures["steps"]
    )
    reading = (
        f"The token mixer changes the stream most in {_strongest(anatomy, 'mixer_ratio')}, "
        f"the channel MLP in {_strongest(anatomy, 'mlp_ratio')}."
    )
    return (
        '<div class="pf-anatomy">'
        f'<p class="pf-where">{where}</p>'
        f'<div class="pf-steps">{crop}{steps}</div>'
        '<p class="pf-legend"><span class="pf-diverging-bar" aria-hidden="true"></span>'
        f"{html.escape(DIVERGING_NOTE)}</p>"
        '<figure class="pf-branches">'
        f'<img alt="branch ratios of every block" src="{pictures["branch_plot"]}">'
        "<figcaption><b>Every block of the network:</b> ||branch|| / ||stream|| for the token mixer (blue) and "
        "the channel MLP (orange); the dotted line marks the block above. "
        f"{html.escape(reading)}</figcaption></figure></div>"
    )


def anatomy_api(anatomy: BlockAnatomy, pictures: dict) -> dict:
    """The block for programs: BlockAnatomy.to_json with the pictures of anatomy_pictures (every step
    with its title and caption, the channel they show, the crop and the branch plot, as data URIs)."""
    return {**anatomy.to_json(), **pictures}


# ---------------------------------------------------------------------------------------------
# Knockouts
# ---------------------------------------------------------------------------------------------


def knockout_stage_choices() -> list[tuple[str, str]]:
    # String values: Gradio describes a check-box group's values to API clients as strings, and
    # would refuse the strings its own API page tells them to send if the values were numbers.
    return [(label, str(stage)) for label, stage in stage_choices()]


def preset_stages(mixer: bool, mlp: bool) -> tuple[list[str], list[str]]:
    """The boxes a preset ticks: every stage of each part it switches off, none of the other."""
    every = [value for _, value in knockout_stage_choices()]
    return (every if mixer else []), (every if mlp else [])


def knockout_note(session: Session | None) -> str:
    """Beside the knockouts of a bundled model: what switching its token mixer off did to its test
    answers, and why, from its measurement file."""
    if session is None:
        return ""
    variant = get_variant(session.variant)
    return mixer_off_note(variant.name, variant.bundled) if variant.bundled is not None else ""


def paper_table_markdown() -> str:
    """The paper's own S12 ablations (Table 5): token mixers and the block without a part."""
    rows = [r for r in PAPER_S12_ABLATIONS if "Table 5" in r.source and r.group != "pool size"]
    lines = ["| PoolFormer-S12 trained with | ImageNet top-1 |", "|---|---|"]
    lines += [f"| {r.group}: {r.setting} | {r.top1:g} % |" for r in rows]
    source = rows[0].source if rows else ""
    return "\n".join(lines) + f"\n\n*{source}: each model trained from scratch with that part changed.*"


def knockout_api(comparison: KnockoutComparison) -> dict:
    """Both analyses for programs: KnockoutComparison.to_json with the crop and each side's deepest
    Grad-CAM as pictures (data URIs)."""
    data = comparison.to_json()
    data["crop"] = render.data_uri(comparison.before.input_image, "jpeg")
    data["before"]["gradcam_picture"] = _deepest_cam(comparison.before)
    data["after"]["gradcam_picture"] = _deepest_cam(comparison.after)
    return data
