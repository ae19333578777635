"""One image through several variants, side by side: each one's top-k, its Grad-CAM at the
deepest stage and the time it took; and one model as trained beside the same model with parts
knocked out."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .analysis import Analysis, Prediction, analyze, prediction_json
from .control import ProgressCallback, StopCheck, check_stop
from .errors import (
    InvalidSettingError,
    KnockoutSpecError,
    UnknownTargetError,
    WeightsUnavailableError,
)
from .i18n import Said
from .images import PreparedImage, prepare_image
from .json_data import nested_list, rounded_seconds
from .knockouts import Knockouts
from .variants import Variant, get_variant
from .weights import ModelCache, shared_cache


@dataclass(frozen=True)
class VariantRun:
    variant: Variant
    weights_source: str
    predictions: tuple[Prediction, ...]
    target: Prediction
    input_image: Image.Image
    """The crop this variant saw (crop_pct differs between variants)."""
    cam: np.ndarray
    """Grad-CAM at the deepest stage, resized to the crop and scaled to [0, 1]."""
    cam_raw: np.ndarray
    """The same at the stage's own resolution, unscaled."""
    seconds: float
    """analyze()'s time: preprocessing, forward, backward, maps; loading excluded."""
    load_seconds: float
    """Time to get the model from the cache (about 0 when it was already loaded)."""

    def to_json(self) -> dict:
        """The run as plain JSON data: top-k and target by display name, the deepest stage's raw
        Grad-CAM (`gradcam`, at the stage's resolution) and both times."""
        return {
            "variant": self.variant.name,
            "weights_source": str(self.weights_source),
            "target": prediction_json(self.target),
            "top_k": [prediction_json(p) for p in self.predictions],
            "gradcam": nested_list(self.cam_raw),
            "seconds": rounded_seconds(self.seconds),
            "load_seconds": rounded_seconds(self.load_seconds),
        }


@dataclass(frozen=True)
class VariantFailure:
    variant: Variant
    error: WeightsUnavailableError | UnknownTargetError
    """Why it could not run: its weights are not available here, or it has no such class. The
    message is one sentence for the person who asked."""

    def to_json(self) -> dict:
        return {"variant": self.variant.name, "error": str(self.error)}


@dataclass(frozen=True)
class Comparison:
    runs: tuple[VariantRun, ...]
    notes: tuple[str, ...]
    failures: tuple[VariantFailure, ...] = ()
    """Variants that could not run; the others ran all the same."""
    requested: tuple[str, ...] = ()
    """Every variant asked for, by name, in the order asked (runs and failures keep it)."""

    def outcome(self, name: str) -> VariantRun | VariantFailure:
        """What became of one variant asked for: its run, or why it could not run."""
        for item in (*self.runs, *self.failures):
            if item.variant.name == name:
                return item
        raise KeyError(name)

    def to_json(self) -> dict:
        """The comparison as plain JSON data: per variant, in the order asked, its run
        (VariantRun.to_json) or why it could not run (`variant` and `error`); the notes on the image."""
        names = self.requested or tuple(run.variant.name for run in self.runs)
        return {
            "variants": [self.outcome(name).to_json() for name in names],
            "notes": [str(note) for note in self.notes],
        }


def parse_variants(variants: str | Sequence[str]) -> tuple[str, ...]:
    """Variant names from a list or a comma-separated string, checked, duplicates dropped."""
    names = [v.strip() for v in (variants.split(",") if isinstance(variants, str) else variants)]
    resolved = tuple(dict.fromkeys(get_variant(v).name for v in names if v))
    if len(resolved) < 2:
        raise InvalidSettingError(Said("error.compare.two"))
    return resolved


def compare(
    image: Image.Image | PreparedImage | str,
    variants: str | Sequence[str],
    target: int | str | None = None,
    top_k: int = 5,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    cache: ModelCache | None = None,
) -> Comparison:
    """Analyse one image with each variant in turn, through the model cache: one model is
    used at a time, so with a cache of capacity 1 only one is ever held in memory.

    `target` (index or label) is explained by every variant; None means each one's own top-1.
    A variant whose weights are not available, or that has no class `target`, is listed in
    `failures` and the others still run.
    """
    names = parse_variants(variants)
    prepared = image if isinstance(image, PreparedImage) else prepare_image(image)
    cache = cache or shared_cache()
    runs, failures = [], []
    for index, name in enumerate(names):
        check_stop(should_stop, Said("stopped.comparison"))
        if progress is not None:
            progress(index / len(names), f"PoolFormer-{name.upper()}")
        started = time.perf_counter()
        try:
            cache.get(name)
            load_seconds = time.perf_counter() - started
            analysis = analyze(prepared, name, target=target, top_k=top_k, cache=cache)
        except (WeightsUnavailableError, UnknownTargetError) as exc:
            failures.append(VariantFailure(get_variant(name), exc))
            continue
        deepest = analysis.stages[-1]
        runs.append(
            VariantRun(
                variant=analysis.variant,
                weights_source=analysis.weights_source,
                predictions=analysis.predictions,
                target=analysis.target,
                input_image=analysis.input_image,
                cam=deepest.cam,
                cam_raw=deepest.cam_raw,
                seconds=analysis.seconds,
                load_seconds=load_seconds,
            )
        )
    if progress is not None:
        progress(1.0, Said("progress.done"))
    return Comparison(runs=tuple(runs), notes=prepared.notes, failures=tuple(failures), requested=names)


@dataclass(frozen=True)
class KnockoutComparison:
    """One image and one class, as the model was trained (`before`) and with parts switched off (`after`)."""

    before: Analysis
    after: Analysis

    @property
    def knockouts(self) -> Knockouts:
        return self.after.knockouts

    def to_json(self) -> dict:
        """Both analyses as plain JSON data: the knockouts, the target class (as trained), and per
        side (`before`: as trained, `after`: knocked out) the top-k, the target's probability and
        the deepest stage's raw Grad-CAM."""
        return {
            "variant": self.before.variant.name,
            "knockouts": self.knockouts.to_json(),
            "target": prediction_json(self.before.target),
            "before": _knockout_side(self.before),
            "after": _knockout_side(self.after),
        }


def _knockout_side(analysis: Analysis) -> dict:
    deepest = analysis.stages[-1]
    return {
        "top_k": [prediction_json(p) for p in analysis.predictions],
        "target_probability": analysis.target.probability,
        "gradcam_stage": deepest.index,
        "gradcam": nested_list(deepest.cam_raw),
        "seconds": rounded_seconds(analysis.seconds),
    }


def compare_knockout(
    image: Image.Image | PreparedImage | str,
    variant: str,
    knockouts: Knockouts,
    target: int | str | None = None,
    cache: ModelCache | None = None,
) -> KnockoutComparison:
    """Analyse `image` as trained and with `knockouts`, explaining the same class in both (`target`;
    default: the top-1 class as trained) so the two Grad-CAMs answer one question. The cached
    model is never changed."""
    if not knockouts:
        raise KnockoutSpecError(Said("error.knockout.nothing"))
    name = get_variant(variant).name
    prepared = image if isinstance(image, PreparedImage) else prepare_image(image)
    before = analyze(prepared, name, target=target, cache=cache)
    after = analyze(prepared, name, target=before.target.index, cache=cache, knockouts=knockouts)
    return KnockoutComparison(before=before, after=after)
