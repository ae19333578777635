"""What the command line writes to disk for each computation: captioned PNGs for people, JSON and
arrays (npz/npy) for programs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from .analysis import Analysis
from .anatomy import BlockAnatomy
from .cams import CAM_METHODS
from .comparison import KnockoutComparison
from .labels import prediction_json
from .plots import branch_ratio_plot, faithfulness_plot
from .receptive_field import ReceptiveField
from .render import (
    anatomy_views,
    attribution_overlay,
    feature_views,
    overlay,
    receptive_field_view,
    upscale,
    with_caption,
)

FEATURE_VIEWS = ("mean", "pca", "channels")


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
        for view in FEATURE_VIEWS:
            picture = upscale(getattr(views, view))
            with_caption(picture, f"{stage.caption} · {view}").save(folder / f"features_stage{stage.index}_{view}.png")
    summary = {
        "variant": analysis.variant.name,
        "weights_source": analysis.weights_source,
        "target": prediction_json(analysis.target),
        "top_k": [prediction_json(p) for p in analysis.predictions],
        "knockouts": {**analysis.knockouts.as_dict(), "description": analysis.knockouts.describe()},
        "stages": [{"index": s.index, "shape": list(s.shape), "stride": s.stride} for s in analysis.stages],
        "crop_size": list(analysis.input_image.size[::-1]),
        "notes": list(analysis.notes),
        "seconds": round(analysis.seconds, 3),
    }
    (folder / "predictions.json").write_text(json.dumps(summary, indent=2))
    arrays = {f"stage{s.index}": s.cam_raw for s in analysis.stages}
    arrays.update({f"{name}_stage{s.index}": s.cams[name] for s in analysis.stages for name in CAM_METHODS})
    np.savez_compressed(folder / "cams.npz", **arrays)


def write_knockout(comparison: KnockoutComparison, folder: Path, opacity: float = 0.5) -> None:
    """Write both analyses of a knockout comparison (as_trained/, knocked_out/, each as write_analysis
    writes one) and knockout.json: the knockouts and the target's probability before and after."""
    write_analysis(comparison.before, folder / "as_trained", opacity)
    write_analysis(comparison.after, folder / "knocked_out", opacity)
    summary = {
        "variant": comparison.before.variant.name,
        "knockouts": {**comparison.knockouts.as_dict(), "description": comparison.knockouts.describe()},
        "target": prediction_json(comparison.before.target),
        "target_probability_knocked_out": comparison.after.target.probability,
        "top_k_knocked_out": [prediction_json(p) for p in comparison.after.predictions],
    }
    (folder / "knockout.json").write_text(json.dumps(summary, indent=2))


def write_explanation(result, folder: Path, opacity: float = 0.5) -> None:
    """Write attributions.npz (one float32 crop-size map per method), explain.json (every
    setting, and the faithfulness scores when computed) and one overlay PNG per method."""
    folder.mkdir(parents=True, exist_ok=True)
    analysis = result.analysis
    analysis.input_image.save(folder / "input.png")
    maps = {name: a.map.astype(np.float32) for name, a in result.attributions.items()}
    np.savez_compressed(folder / "attributions.npz", **maps)
    for name, attribution in result.attributions.items():
        picture = attribution_overlay(analysis.input_image, attribution.map, attribution.signed, opacity)
        with_caption(picture, f"{attribution.title} · {analysis.target.label}").save(folder / f"{name}.png")
    summary = {
        "variant": analysis.variant.name,
        "weights_source": analysis.weights_source,
        "target": prediction_json(analysis.target),
        "top_k": [prediction_json(p) for p in analysis.predictions],
        "crop_size": list(analysis.input_image.size[::-1]),
        "methods": {
            name: {
                "title": a.title,
                "signed": a.signed,
                "settings": a.settings,
                "seconds": round(a.seconds, 3),
                **({"diagnostics": a.diagnostics} if a.diagnostics else {}),
            }
            for name, a in result.attributions.items()
        },
        "notes": list(analysis.notes),
        "seconds": round(result.seconds, 3),
    }
    if result.faithfulness is not None:
        summary["faithfulness"] = result.faithfulness.summary()
        titles = {name: a.title for name, a in result.attributions.items()}
        Image.fromarray(faithfulness_plot(result.faithfulness, titles)).save(folder / "faithfulness.png")
    (folder / "explain.json").write_text(json.dumps(summary, indent=2))


def write_anatomy(anatomy: BlockAnatomy, folder: Path, channel: int | None = None) -> None:
    """Write one block's steps as anatomy.npz, the branch ratios of every block as branches.json,
    and every step and the branch plot as captioned PNGs."""
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        folder / "anatomy.npz",
        **{name: anatomy.step(name) for name in ("input", "normed", "pooled", "mixer", "mixed", "mlp", "output")},
    )
    branches = [
        {"stage": b.stage, "block": b.block, "mixer_ratio": b.mixer_ratio, "mlp_ratio": b.mlp_ratio}
        for b in anatomy.branches
    ]
    (folder / "branches.json").write_text(json.dumps(branches, indent=2))
    anatomy.input_image.save(folder / "input.png")
    for number, view in enumerate(anatomy_views(anatomy, channel), start=1):
        with_caption(view.picture, f"{view.title}: {view.caption}").save(folder / f"step{number}_{view.name}.png")
    plot = branch_ratio_plot(anatomy.branches, highlight=(anatomy.stage, anatomy.block))
    with_caption(plot, "How much each branch changes the residual stream, block by block").save(folder / "branches.png")


def write_receptive_field(field: ReceptiveField, folder: Path, scale: str = "sqrt") -> None:
    """Write the effective receptive field as erf.npy, the theoretical one and the position as
    erf.json, and both drawn over the crop as erf.png."""
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "erf.npy", field.erf)
    (folder / "erf.json").write_text(json.dumps(field.summary(), indent=2))
    caption = (
        f"Stage {field.stage} at (y={field.y}, x={field.x}): effective receptive field ({scale} scale); "
        f"box: theoretical field, {field.theoretical_size} px"
    )
    with_caption(receptive_field_view(field, scale), caption).save(folder / "erf.png")
