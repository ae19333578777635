"""What the command line writes to disk for each computation: captioned PNGs for people, JSON and
arrays (npz/npy) for programs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from .analysis import Analysis
from .anatomy import BlockAnatomy
from .block_pictures import anatomy_views
from .cams import CAM_METHODS
from .comparison import Comparison, KnockoutComparison
from .explanation import Explanation
from .plots import branch_ratio_plot, faithfulness_plot
from .receptive_field import ReceptiveField
from .render import (
    FEATURE_VIEW_NAMES,
    attribution_overlay,
    feature_views,
    overlay,
    receptive_field_view,
    upscale,
    with_caption,
)
from .sanity import SanityCheck


def write_analysis(analysis: Analysis, folder: Path, opacity: float = 0.5) -> None:
    """Write one analysis as PNG pictures, predictions.json and cams.npz."""
    folder.mkdir(parents=True, exist_ok=True)
    analysis.input_image.save(folder / "input.png")
    for stage in analysis.stages:
        caption = f"{stage.caption} · Grad-CAM: {analysis.target.label}"
        with_caption(overlay(analysis.input_image, stage.cam, opacity), caption).save(
            folder / f"gradcam_stage{stage.index}.png"
        )
        views = feature_views(stage.activation)
        for view in FEATURE_VIEW_NAMES:
            picture = upscale(getattr(views, view))
            with_caption(picture, f"{stage.caption} · {view}").save(folder / f"features_stage{stage.index}_{view}.png")
    # The raw maps go to cams.npz, exactly; the JSON says what they are.
    _write_json(folder / "predictions.json", analysis.to_json(arrays=False))
    arrays = {f"stage{s.index}": s.cam_raw for s in analysis.stages}
    arrays.update({f"{name}_stage{s.index}": s.cams[name] for s in analysis.stages for name in CAM_METHODS})
    np.savez_compressed(folder / "cams.npz", **arrays)


def write_knockout(comparison: KnockoutComparison, folder: Path, opacity: float = 0.5) -> None:
    """Write both analyses of a knockout comparison (as_trained/, knocked_out/, each as write_analysis
    writes one) and knockout.json (KnockoutComparison.to_json): the knockouts, and as trained and
    knocked out the top-k, the target's probability and the deepest Grad-CAM."""
    write_analysis(comparison.before, folder / "as_trained", opacity)
    write_analysis(comparison.after, folder / "knocked_out", opacity)
    _write_json(folder / "knockout.json", comparison.to_json())


def write_explanation(result: Explanation, folder: Path, opacity: float = 0.5) -> None:
    """Write attributions.npz (one float32 crop-size map per method), explain.json
    (Explanation.to_json: every setting, and the faithfulness scores when computed) and one overlay
    PNG per method."""
    folder.mkdir(parents=True, exist_ok=True)
    analysis = result.analysis
    analysis.input_image.save(folder / "input.png")
    maps = {name: a.map.astype(np.float32) for name, a in result.attributions.items()}
    np.savez_compressed(folder / "attributions.npz", **maps)
    for name, attribution in result.attributions.items():
        picture = attribution_overlay(analysis.input_image, attribution.map, attribution.signed, opacity)
        with_caption(picture, f"{attribution.title} · {analysis.target.label}").save(folder / f"{name}.png")
    if result.faithfulness is not None:
        titles = {name: a.title for name, a in result.attributions.items()}
        Image.fromarray(faithfulness_plot(result.faithfulness, titles)).save(folder / "faithfulness.png")
    _write_json(folder / "explain.json", result.to_json())


def write_anatomy(anatomy: BlockAnatomy, folder: Path, channel: int | None = None) -> None:
    """Write one block's steps as anatomy.npz, anatomy.json (BlockAnatomy.to_json), the branch ratios
    of every block alone as branches.json, and every step and the branch plot as captioned PNGs."""
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        folder / "anatomy.npz",
        **{name: anatomy.step(name) for name in ("input", "normed", "pooled", "mixer", "mixed", "mlp", "output")},
    )
    data = anatomy.to_json()
    _write_json(folder / "anatomy.json", data)
    _write_json(folder / "branches.json", data["branches"])
    anatomy.input_image.save(folder / "input.png")
    for number, view in enumerate(anatomy_views(anatomy, channel), start=1):
        with_caption(view.picture, f"{view.title}: {view.caption}").save(folder / f"step{number}_{view.name}.png")
    plot = branch_ratio_plot(anatomy.branches, highlight=(anatomy.stage, anatomy.block))
    with_caption(plot, "How much each branch changes the residual stream, block by block").save(folder / "branches.png")


def write_receptive_field(field: ReceptiveField, folder: Path, scale: str = "sqrt") -> None:
    """Write the effective receptive field as erf.npy, the theoretical one and the position as
    erf.json (ReceptiveField.to_json), and both drawn over the crop as erf.png."""
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "erf.npy", field.erf)
    _write_json(folder / "erf.json", field.to_json())
    caption = (
        f"Stage {field.stage} at (y={field.y}, x={field.x}): effective receptive field ({scale} scale); "
        f"box: theoretical field, {field.theoretical_size} px"
    )
    with_caption(receptive_field_view(field, scale), caption).save(folder / "erf.png")


def write_comparison(comparison: Comparison, folder: Path, opacity: float = 0.5) -> None:
    """Write each variant's deepest Grad-CAM over its crop as a captioned PNG, the raw maps as cams.npz
    (one per variant that ran) and compare.json (Comparison.to_json)."""
    folder.mkdir(parents=True, exist_ok=True)
    for run in comparison.runs:
        caption = f"PoolFormer-{run.variant.name.upper()} · Grad-CAM: {run.target.name}"
        with_caption(overlay(run.input_image, run.cam, opacity), caption).save(
            folder / f"{run.variant.name}_gradcam.png"
        )
    np.savez_compressed(folder / "cams.npz", **{run.variant.name: run.cam_raw for run in comparison.runs})
    _write_json(folder / "compare.json", comparison.to_json())


def write_sanity(check: SanityCheck, folder: Path) -> None:
    """Write the trained model's map and every step's as sanity.npz and sanity.json (SanityCheck.to_json)."""
    folder.mkdir(parents=True, exist_ok=True)
    steps = {f"step{i}": step.map for i, step in enumerate(check.steps, 1)}
    np.savez_compressed(folder / "sanity.npz", original=check.original, **steps)
    _write_json(folder / "sanity.json", check.to_json())


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2))
