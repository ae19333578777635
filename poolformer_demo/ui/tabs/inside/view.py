"""What the "Inside the block" tab shows, as plain values: HTML with inlined pictures, Markdown and
JSON, from a BlockAnatomy, two Analyses (before and after a knockout) and a ReceptiveField.

Nothing here imports Gradio, so the formatting is tested without a server. Pictures of a stage's
maps are sent at the stage's own resolution and enlarged by the browser, a square per position.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np

from .... import plots, render
from ....analysis import Analysis
from ....anatomy import BlockAnatomy
from ....comparison import KnockoutComparison
from ....shapes.data import IMAGE_SIZE, MAX_OBJECT_FRACTION
from ....shapes.pairs import MIN_EDGE_GAP
from ....shapes.tasks import TASKS
from ....variants import PAPER_S12_ABLATIONS, BundledFacts, get_variant
from ...kit.view import Session, display_names, md, prediction_json, stage_choices

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
# A knockout that changes at least this share of answers is one the model relies on; one that
# leaves accuracy within NEAR_CHANCE of chance takes away all the model knows.
MANY_CHANGED = 0.1
NEAR_CHANCE = 0.1
# The preset buttons: (label, token mixer off, channel MLP off).
KNOCKOUT_PRESETS = (
    ("Token mixer off everywhere", True, False),
    ("Channel MLP off everywhere", False, True),
    ("Nothing off", False, False),
)
ANATOMY_HINT = "Choose a stage and a block and press <b>Show the block</b>."
KNOCKOUT_HINT = "Tick the parts to switch off and press <b>Re-run with the knockout</b>."


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


def _native(picture: np.ndarray, height: int, width: int) -> np.ndarray:
    """A nearest-neighbour enlargement undone: one pixel per position again, for the browser to enlarge."""
    factor = picture.shape[0] // height
    if factor > 1 and picture.shape[1] // width == factor:
        return np.ascontiguousarray(picture[::factor, ::factor])
    return picture


def anatomy_pictures(anatomy: BlockAnatomy) -> dict:
    """Every step as a picture (data URIs at the map's own size), the channel shown, and the branch plot."""
    channel = render.anatomy_channel(anatomy)
    _, height, width = anatomy.input.shape
    steps = [
        {
            "name": view.name,
            "title": view.title,
            "caption": view.caption,
            "picture": render.data_uri(_native(view.picture, height, width)),
        }
        for view in render.anatomy_views(anatomy, channel)
    ]
    plot = plots.branch_ratio_plot(anatomy.branches, highlight=(anatomy.stage, anatomy.block))
    return {
        "channel": channel,
        "steps": steps,
        "crop": render.data_uri(anatomy.input_image, "jpeg"),
        "branch_plot": render.data_uri(plot),
    }


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
    """The block's steps for programs: pictures as data URIs, branch ratios of every block."""
    return {
        "variant": anatomy.variant.name,
        "stage": anatomy.stage,
        "block": anatomy.block,
        "shape": list(anatomy.input.shape),
        "pool_size": anatomy.pool_size,
        **pictures,
        "branches": [
            {"stage": b.stage, "block": b.block, "mixer_ratio": b.mixer_ratio, "mlp_ratio": b.mlp_ratio}
            for b in anatomy.branches
        ],
        "seconds": round(anatomy.seconds, 4),
    }


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


def mixer_off_note(name: str, facts: BundledFacts) -> str:
    """What the token mixer off in every stage does to a bundled model, what its task asks of it, and,
    where the model relies on them, what its norms carry between positions instead."""
    changed = round(facts.mixer_off_changed * facts.held_out_images)
    changes = "none" if changed == 0 else f"{changed}"
    measured = (
        f"On the {name} model, switching the token mixer off everywhere changes {changes} of "
        f"{facts.held_out_images} test answers (accuracy {100 * facts.accuracy:.1f} % with it, "
        f"{100 * facts.mixer_off_accuracy:.1f} % without)."
    )
    seen = f"{facts.theoretical_field_px} px of the {facts.image_px} px image"
    task = TASKS[facts.task]
    if task.needs_mixing:
        geometry = (
            f"The task needs mixing: its two discs lie at least {MIN_EDGE_GAP:g} px apart, farther than the {seen} a "
            "position of stage 4 sees through the patch embeddings alone."
        )
    else:
        largest = round(MAX_OBJECT_FRACTION * IMAGE_SIZE)
        geometry = (
            f"The task needs little mixing: every shape sits near the middle of the image and is at most {largest} px "
            f"across, and a middle position of stage 4 sees about {seen} through the patch embeddings alone, so the "
            "whole shape is in view without any mixing."
        )
    chance = 1 / len(task.class_names)
    if facts.mixer_off_changed >= MANY_CHANGED:
        return f"{measured} This model relies on its token mixers. {geometry}"
    if facts.fixed_norm_accuracy <= chance + NEAR_CHANCE:
        fixed = round(facts.fixed_norm_changed * facts.held_out_images)
        return (
            f"{measured} {geometry} This model mixes through its norms instead: PoolFormer's GroupNorm normalises "
            f"each image by one mean and one variance taken over all positions. Fix those to their average over "
            f"other images and {fixed} of {facts.held_out_images} answers change (accuracy "
            f"{100 * facts.fixed_norm_accuracy:.1f} %; chance {100 * chance:.0f} %), with the token mixers still on."
        )
    return f"{measured} {geometry}"


def paper_table_markdown() -> str:
    """The paper's own S12 ablations (Table 5): token mixers and the block without a part."""
    rows = [r for r in PAPER_S12_ABLATIONS if "Table 5" in r.source and r.group != "pool size"]
    lines = ["| PoolFormer-S12 trained with | ImageNet top-1 |", "|---|---|"]
    lines += [f"| {r.group}: {r.setting} | {r.top1:g} % |" for r in rows]
    source = rows[0].source if rows else ""
    return "\n".join(lines) + f"\n\n*{source}: each model trained from scratch with that part changed.*"


def _deepest_cam(analysis: Analysis) -> str:
    return render.data_uri(render.heatmap(analysis.stages[-1].cam_raw))


def knockout_html(comparison: KnockoutComparison | None = None) -> str:
    """The deepest Grad-CAM before and after the knockout under one slider, and the two top-5 lists."""
    if comparison is None:
        return f'<div class="pf-knockout pf-empty"><p class="pf-hint"><span>{KNOCKOUT_HINT}</span></p></div>'
    before, after = comparison.before, comparison.after
    names = display_names(before.labels)
    target = names[before.target.index]
    knocked = after.knockouts.describe()
    deepest = before.stages[-1]
    compare = (
        f'<figure class="pf-compare" style="--pf-crop: url({render.data_uri(before.input_image, "jpeg")})">'
        '<span class="pf-cam pf-compare-frame">'
        f'<img class="pf-heat pf-before" alt="Grad-CAM for {html.escape(target)}, stage {deepest.index}, as trained" '
        f'src="{_deepest_cam(before)}">'
        f'<img class="pf-heat pf-after" alt="Grad-CAM for {html.escape(target)}, stage {deepest.index}, '
        f'{html.escape(knocked)}" src="{_deepest_cam(after)}">'
        '<span class="pf-divider" aria-hidden="true"></span>'
        '<span class="pf-tag pf-tag-before">as trained</span><span class="pf-tag pf-tag-after">knocked out</span>'
        "</span>"
        '<input class="pf-split" type="range" min="0" max="100" value="50" '
        'aria-label="Move the line between the Grad-CAM as trained and with the knockout">'
        f"<figcaption>Grad-CAM for <b>{html.escape(target)}</b> at stage {deepest.index} "
        f"({deepest.shape[1]}×{deepest.shape[2]}), each scaled to its own peak · left of the line: as trained; "
        f"right: {html.escape(knocked)} · drag the slider to compare</figcaption></figure>"
    )

    def cell(analysis: Analysis, rank: int) -> str:
        p = analysis.predictions[rank]
        chosen = ' class="pf-target"' if p.index == before.target.index else ""
        return f"<td{chosen}>{html.escape(names[p.index])}</td><td{chosen}>{p.probability:.1%}</td>"

    rows = "".join(
        f"<tr><td>{rank + 1}</td>{cell(before, rank)}{cell(after, rank)}</tr>"
        for rank in range(min(len(before.predictions), len(after.predictions)))
    )
    table = (
        '<table class="pf-topk"><thead><tr><th>#</th><th colspan="2">as trained</th>'
        f'<th colspan="2">{html.escape(knocked)}</th></tr></thead><tbody>{rows}</tbody></table>'
        f'<p class="pf-note">Target class <b>{html.escape(target)}</b>: p = {before.target.probability:.1%} '
        f"as trained, {after.target.probability:.1%} with the knockout.</p>"
    )
    return f'<div class="pf-knockout"><div class="pf-knockout-row">{compare}<div>{table}</div></div></div>'


def _side(analysis: Analysis) -> dict:
    deepest = analysis.stages[-1]
    return {
        "top_k": [prediction_json(p) for p in analysis.predictions],
        "target_probability": analysis.target.probability,
        "gradcam_stage": deepest.index,
        "gradcam": [[round(float(v), 6) for v in row] for row in deepest.cam_raw],
        "gradcam_picture": _deepest_cam(analysis),
        "seconds": round(analysis.seconds, 4),
    }


def knockout_api(comparison: KnockoutComparison) -> dict:
    """Both analyses for programs: top-5 and the deepest Grad-CAM, as trained and knocked out."""
    before, after = comparison.before, comparison.after
    return {
        "variant": before.variant.name,
        "knockouts": {**after.knockouts.as_dict(), "description": after.knockouts.describe()},
        "target": {"index": before.target.index, "label": before.target.name},
        "crop": render.data_uri(before.input_image, "jpeg"),
        "before": _side(before),
        "after": _side(after),
    }
