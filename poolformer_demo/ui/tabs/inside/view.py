"""What the "Inside the block" tab shows, as plain values: HTML with inlined pictures, Markdown and
JSON, from a BlockAnatomy, two Analyses (before and after a knockout) and a ReceptiveField.

Nothing here imports Gradio, so the formatting is tested without a server. Pictures of a stage's
maps are sent at the stage's own resolution and enlarged by the browser, a square per position.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from .... import render
from ....anatomy import BlockAnatomy
from ....comparison import KnockoutComparison
from ....i18n import Messages, english
from ....variants import PAPER_S12_ABLATIONS, get_variant
from ...kit.block_views import (  # noqa: F401 - the page shows them as this tab's own
    anatomy_pictures,
    knockout_html,
    mixer_off_note,
)
from ...kit.block_views import deepest_cam_uri as _deepest_cam
from ...kit.view import Session, display_names, md, stage_choices

# The preset buttons: (catalog key of the label, token mixer off, channel MLP off).
KNOCKOUT_PRESETS = (
    ("inside.preset.mixer", True, False),
    ("inside.preset.mlp", False, True),
    ("inside.preset.none", False, False),
)


def source_markdown(session: Session | None, t: Messages | None = None) -> str:
    """Which image and model the tab works on: the last analysis on the Explore tab."""
    t = t or english()
    if session is None:
        return t.text("inside.no_session")
    target = display_names(session.labels)[session.target]
    yours = t.text(
        "inside.source", image=md(Path(session.image).name), model=md(session.variant.upper()), target=md(target)
    )
    return f'{yours} <span class="pf-needs-controls">{html.escape(t.text("inside.source.other"))}</span>'


def block_choices(variant: str, stage: int, t: Messages | None = None) -> list[tuple[str, int]]:
    """The block menu for a stage: as many blocks as the variant has there."""
    t = t or english()
    depth = get_variant(variant).depths[int(stage) - 1]
    return [(t.text("inside.block.choice", block=i), i) for i in range(1, depth + 1)]


def section_failure(message: str, t: Messages | None = None) -> str:
    """A failed request, said above the section's pictures, which stay as they were."""
    return f"⚠️ {message} {(t or english()).text('run.pictures_kept')}"


# ---------------------------------------------------------------------------------------------
# Block anatomy
# ---------------------------------------------------------------------------------------------


def _strongest(anatomy: BlockAnatomy, key: str, t: Messages) -> str:
    best = max(anatomy.branches, key=lambda b: getattr(b, key))
    return t.text("inside.anatomy.strongest", stage=best.stage, block=best.block, ratio=getattr(best, key))


def anatomy_html(anatomy: BlockAnatomy | None = None, pictures: dict | None = None, t: Messages | None = None) -> str:
    """The crop, the seven steps in a row with their captions, the colour note and the branch plot."""
    t = t or english()
    if anatomy is None or pictures is None:
        hint = t.text("inside.anatomy.hint")
        return f'<div class="pf-anatomy pf-empty"><p class="pf-hint"><span>{hint}</span></p></div>'
    channels, height, width = anatomy.input.shape
    where = t.text(
        "inside.anatomy.where",
        stage=anatomy.stage,
        block=anatomy.block,
        model=anatomy.variant.name.upper(),
        channel=pictures["channel"],
        channels=channels,
        height=height,
        width=width,
    )
    crop = (
        '<figure class="pf-step pf-step-crop">'
        f'<img class="pf-photo" alt="{html.escape(t.text("inside.anatomy.crop_alt"))}" src="{pictures["crop"]}">'
        f"<figcaption><b>{html.escape(t.text('inside.anatomy.crop'))}</b>"
        f"<span>{html.escape(t.text('inside.anatomy.crop_caption'))}</span></figcaption></figure>"
    )
    place = t.text("diagram.where", stage=anatomy.stage, block=anatomy.block, channel=pictures["channel"])
    steps = "".join(
        f'<figure class="pf-step" data-step="{step["name"]}">'
        f'<img class="pf-cells" alt="{html.escape(step["title"])}, {html.escape(place)}" src="{step["picture"]}">'
        f"<figcaption><b><code>{html.escape(step['title'])}</code></b>"
        f"<span>{html.escape(t.said(step['caption']))}</span></figcaption>"
        "</figure>"
        for step in pictures["steps"]
    )
    reading = t.text(
        "inside.anatomy.reading", mixer=_strongest(anatomy, "mixer_ratio", t), mlp=_strongest(anatomy, "mlp_ratio", t)
    )
    plot = t.html("inside.anatomy.plot_caption", reading=reading)
    return (
        '<div class="pf-anatomy">'
        f'<p class="pf-where">{html.escape(where)}</p>'
        f'<div class="pf-steps">{crop}{steps}</div>'
        '<p class="pf-legend"><span class="pf-diverging-bar" aria-hidden="true"></span>'
        f"{html.escape(t.text('inside.anatomy.diverging'))}</p>"
        '<figure class="pf-branches">'
        f'<img alt="{html.escape(t.text("inside.anatomy.plot_alt"))}" src="{pictures["branch_plot"]}">'
        f"<figcaption>{plot}</figcaption></figure></div>"
    )


def anatomy_api(anatomy: BlockAnatomy, pictures: dict) -> dict:
    """The block for programs: BlockAnatomy.to_json with the pictures of anatomy_pictures (every step
    with its title and caption, the channel they show, the crop and the branch plot, as data URIs)."""
    steps = [{**step, "caption": str(step["caption"])} for step in pictures["steps"]]
    return {**anatomy.to_json(), **pictures, "steps": steps}


# ---------------------------------------------------------------------------------------------
# Knockouts
# ---------------------------------------------------------------------------------------------


def knockout_stage_choices(t: Messages | None = None) -> list[tuple[str, str]]:
    # String values: Gradio describes a check-box group's values to API clients as strings, and
    # would refuse the strings its own API page tells them to send if the values were numbers.
    return [(label, str(stage)) for label, stage in stage_choices(t)]


def preset_stages(mixer: bool, mlp: bool) -> tuple[list[str], list[str]]:
    """The boxes a preset ticks: every stage of each part it switches off, none of the other."""
    every = [value for _, value in knockout_stage_choices()]
    return (every if mixer else []), (every if mlp else [])


def knockout_note(session: Session | None, t: Messages | None = None) -> str:
    """Beside the knockouts of a bundled model: what switching its token mixer off did to its test
    answers, and why, from its measurement file."""
    if session is None:
        return ""
    variant = get_variant(session.variant)
    return mixer_off_note(variant.name, variant.bundled, t) if variant.bundled is not None else ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def paper_table_markdown(t: Messages | None = None) -> str:
    """The paper's own S12 ablations (Table 5): token mixers and the block without a part."""
    t = t or english()
    rows = [r for r in PAPER_S12_ABLATIONS if "Table 5" in r.source and r.group != "pool size"]
    lines = [f"| {t.text('inside.paper.head.trained')} | {t.text('inside.paper.head.top1')} |", "|---|---|"]
    for r in rows:
        group, setting = t.text(f"paper.group.{_slug(r.group)}"), t.text(f"paper.setting.{_slug(r.setting)}")
        lines.append(f"| {t.text('inside.paper.row', group=group, setting=setting)} | {r.top1:g} % |")
    source = rows[0].source if rows else ""
    return "\n".join(lines) + f"\n\n*{t.text('inside.paper.source', source=source)}*"


def knockout_api(comparison: KnockoutComparison) -> dict:
    """Both analyses for programs: KnockoutComparison.to_json with the crop and each side's deepest
    Grad-CAM as pictures (data URIs)."""
    data = comparison.to_json()
    data["crop"] = render.data_uri(comparison.before.input_image, "jpeg")
    data["before"]["gradcam_picture"] = _deepest_cam(comparison.before)
    data["after"]["gradcam_picture"] = _deepest_cam(comparison.after)
    return data
