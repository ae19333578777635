"""`explain()`: one prediction explained several ways, and how faithful each explanation is.

The CAM family comes out of the analysis's one forward and backward pass; the pixel methods
(captum's Integrated Gradients, SmoothGrad and Occlusion) run on the same model input; with
`faithfulness`, deletion and insertion curves score every map against random pixel orders.
:func:`score_faithfulness` scores the maps of an explanation already made, without running the
attributions again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PIL import Image

from .analysis import Analysis, analyze
from .attributions import DEFAULT_METHODS, DEFAULT_SETTINGS, PIXEL_METHODS, Attribution, cam_attribution, parse_methods
from .blocks import check_stage, model_inputs
from .cams import CAM_METHODS
from .control import ProgressCallback, StopCheck, check_stop, part_progress
from .errors import InvalidSettingError
from .faithfulness import FaithfulnessReport, FaithfulnessSettings, evaluate_faithfulness
from .i18n import Said
from .images import PreparedImage, prepare_image
from .json_data import rounded_seconds
from .variants import DEFAULT_VARIANT, STAGE_COUNT
from .weights import ModelCache, shared_cache

__all__ = ["Explanation", "explain", "score_faithfulness"]


@dataclass(frozen=True)
class Explanation:
    analysis: Analysis
    """The analysis of the same image and target: predictions, the crop, every stage's CAMs (its
    stages carry no feature views: views is None)."""
    attributions: dict[str, Attribution]
    """By method name, in the order asked for."""
    faithfulness: FaithfulnessReport | None
    """Deletion/insertion (and ROAD) scores when asked for, else None."""
    seconds: float

    def to_json(self, arrays: bool = False) -> dict:
        """The explanation as plain JSON data: the analysis's (Analysis.to_json) with the whole
        explanation's time, each method's attribution (Attribution.to_json) and, when measured, the
        faithfulness report (FaithfulnessReport.to_json). With `arrays`, every stage's raw CAMs; the
        attribution maps themselves are arrays too large for JSON text (the exports write them as npz)."""
        data = self.analysis.to_json(arrays=arrays, every_cam=True)
        data["methods"] = {name: attribution.to_json() for name, attribution in self.attributions.items()}
        data["seconds"] = rounded_seconds(self.seconds)
        if self.faithfulness is not None:
            data["faithfulness"] = self.faithfulness.to_json()
        return data


def explain(
    image: Image.Image | PreparedImage | str,
    variant: str = DEFAULT_VARIANT,
    target: int | str | None = None,
    methods: str | Sequence[str] = DEFAULT_METHODS,
    stage: int = STAGE_COUNT,
    settings: Mapping[str, object] | None = None,
    faithfulness: bool = False,
    faithfulness_settings: FaithfulnessSettings | None = None,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    cache: ModelCache | None = None,
) -> Explanation:
    """Explain one prediction with several methods, optionally scoring each for faithfulness.

    `methods`: names from METHOD_TITLES (CAM methods are taken at `stage`); `settings`: per
    pixel method a settings object replacing its default (DEFAULT_SETTINGS); with
    `faithfulness`, deletion/insertion curves for every method and a random baseline
    (faithfulness.FaithfulnessSettings). Raises PoolFormerDemoError subclasses for bad input and
    ComputationCancelled when `should_stop` says so.
    """
    names = parse_methods(methods)
    chosen = {**DEFAULT_SETTINGS, **dict(settings or {})}
    for name, value in chosen.items():
        if name not in PIXEL_METHODS or not isinstance(value, type(DEFAULT_SETTINGS[name])):
            raise InvalidSettingError(f"Settings for {name!r} must be a {type(DEFAULT_SETTINGS.get(name)).__name__}.")
    prepared = image if isinstance(image, PreparedImage) else prepare_image(image)
    cache = cache or shared_cache()
    loaded = cache.get(variant)
    stage = check_stage(loaded.model.config, stage)
    started = time.perf_counter()
    analysis = analyze(prepared, variant, target=target, cache=cache)
    pixel_values = model_inputs(loaded, prepared.image)
    parts = len(names) + (1 if faithfulness else 0)

    attributions: dict[str, Attribution] = {}
    for index, name in enumerate(names):
        check_stop(should_stop, Said("stopped.explanation"))
        if name in CAM_METHODS:
            attributions[name] = cam_attribution(analysis, name, stage)
        else:
            attributions[name] = PIXEL_METHODS[name](
                loaded,
                pixel_values,
                analysis.target.index,
                chosen[name],
                part_progress(progress, index, parts),
                should_stop,
            )
        if progress is not None:
            progress((index + 1) / parts, Said(f"method.{name}"))

    report = None
    if faithfulness:
        report = evaluate_faithfulness(
            loaded.model,
            pixel_values,
            analysis.target.index,
            {name: a.map for name, a in attributions.items()},
            faithfulness_settings or FaithfulnessSettings(),
            progress=part_progress(progress, len(names), parts),
            should_stop=should_stop,
        )
    return Explanation(
        analysis=analysis, attributions=attributions, faithfulness=report, seconds=time.perf_counter() - started
    )


def score_faithfulness(
    image: Image.Image | PreparedImage | str,
    explanation: Explanation,
    methods: Sequence[str] | None = None,
    settings: FaithfulnessSettings | None = None,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    cache: ModelCache | None = None,
) -> FaithfulnessReport:
    """Deletion and insertion for the maps of an explanation already made (of `image`): the
    attributions are not run again. `methods`: which of its maps (default: all)."""
    names = tuple(methods) if methods is not None else tuple(explanation.attributions)
    missing = [name for name in names if name not in explanation.attributions]
    if missing:
        raise InvalidSettingError(f"The explanation has no {missing[0]!r} map to score.")
    prepared = image if isinstance(image, PreparedImage) else prepare_image(image)
    loaded = (cache or shared_cache()).get(explanation.analysis.variant.name)
    return evaluate_faithfulness(
        loaded.model,
        model_inputs(loaded, prepared.image),
        explanation.analysis.target.index,
        {name: explanation.attributions[name].map for name in names},
        settings or FaithfulnessSettings(),
        progress=progress,
        should_stop=should_stop,
    )
