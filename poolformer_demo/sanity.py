"""The model-randomisation sanity check (Adebayo et al., "Sanity Checks for Saliency Maps",
NeurIPS 2018), cascading: re-initialise the weights from the top layer down, one layer more at
each step, and explain the same image and class again. A map that keeps its shape while the
model it claims to explain is destroyed is not explaining the model.

The randomised model is a copy: it shares the cached model's parameter tensors until a layer is
re-initialised, and then that layer gets new tensors, so the cached model (used by other
requests at the same time) is never modified. Re-initialisation is the model's own
(`PoolFormerPreTrainedModel._init_weights`: normal(0, initializer_range) convolutions and
linear layers, unit norms, layer scales at their initial value).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from scipy.stats import spearmanr

from .analysis import Prediction, labels_of, model_inputs, resolve_target, stage_gradients
from .attributions import DEFAULT_SETTINGS, PIXEL_METHODS, parse_methods
from .blocks import shared_copy
from .cams import CAM_METHODS, to_crop
from .control import ProgressCallback, StopCheck, seeded
from .errors import ComputationCancelled, InvalidSettingError
from .images import PreparedImage, prepare_image
from .variants import STAGE_COUNT
from .weights import LoadedModel, ModelCache, shared_cache

GRANULARITIES = ("block", "stage")


@dataclass(frozen=True)
class RandomizationStep:
    layers: tuple[str, ...]
    """Module paths re-initialised at this step (the ones before it stay re-initialised)."""
    label: str
    """A short name for the step: "head", "stage 4 block 2", "stage 4 embedding", "stage 3"..."""
    map: np.ndarray
    """[H, W] the explanation of the partly randomised model, as the original is shown."""
    spearman: float
    """Spearman rank correlation with the original map (of absolute values for signed methods);
    0.0 where either map is constant (no ranking to agree with)."""
    top_class: Prediction
    """What the partly randomised model predicts now."""


@dataclass(frozen=True)
class SanityCheck:
    method: str
    stage: int
    """The stage CAM methods are taken at (ignored by pixel methods)."""
    target: Prediction
    """The class explained at every step (the original model's)."""
    original: np.ndarray
    """[H, W] the trained model's map: CAM methods scaled to [0, 1], pixel methods signed."""
    signed: bool
    steps: tuple[RandomizationStep, ...]
    granularity: str
    seed: int
    seconds: float


def randomization_order(model, granularity: str = "block") -> list[tuple[str, tuple[str, ...]]]:
    """(label, module paths) from the top of a PoolFormerForImageClassification down: the head
    (final norm and classifier), then for stage 4 to 1 each block from the last, then the
    stage's patch embedding; with granularity "stage", the head then one step per stage."""
    if granularity not in GRANULARITIES:
        raise InvalidSettingError(f"Granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}.")
    steps = [("head", ("classifier", "norm"))]
    encoder = model.poolformer.encoder
    for stage in range(len(encoder.block), 0, -1):
        blocks = [
            (f"stage {stage} block {i + 1}", (f"poolformer.encoder.block.{stage - 1}.{i}",))
            for i in range(len(encoder.block[stage - 1]) - 1, -1, -1)
        ]
        embedding = (f"stage {stage} embedding", (f"poolformer.encoder.patch_embeddings.{stage - 1}",))
        if granularity == "block":
            steps += [*blocks, embedding]
        else:
            steps.append((f"stage {stage}", tuple(p for _, paths in [*blocks, embedding] for p in paths)))
    return steps


def reinitialize(model, path: str) -> None:
    """Give the module at `path` (and its children) new tensors drawn by the model's own
    initialisation. The tensors it had are left untouched, so a shared original stays intact.
    The draws are made on the CPU and then moved, so a GPU run randomises exactly as a CPU one."""
    root = model.get_submodule(path)
    device = next(root.parameters(), torch.empty(0)).device
    for module in root.modules():
        for name, parameter in list(module.named_parameters(recurse=False)):
            setattr(module, name, torch.nn.Parameter(parameter.detach().cpu().clone(), requires_grad=False))
        for name, buffer in list(module.named_buffers(recurse=False)):
            module.register_buffer(name, buffer.detach().cpu().clone())
        model._init_weights(module)
    root.to(device)


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho of two maps (scipy); 0.0 when either is constant."""
    a, b = np.ravel(a), np.ravel(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def cascading_randomization(
    image: Image.Image | PreparedImage | str,
    variant: str = "s12",
    method: str = "gradcam",
    stage: int = STAGE_COUNT,
    target: int | str | None = None,
    granularity: str = "block",
    seed: int = 0,
    settings: Mapping[str, object] | None = None,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    cache: ModelCache | None = None,
) -> SanityCheck:
    """Explain `image` with `method` on the trained model and then on a copy randomised from
    the top layer down (see randomization_order), comparing each map with the original.

    CAM methods cost one forward and backward pass per step; pixel methods (ig, smoothgrad,
    occlusion, with `settings` as for `explain`) cost a full attribution per step, so use the
    "stage" granularity (5 steps) for them.
    """
    (method,) = parse_methods([method])
    if not (isinstance(stage, int) and 1 <= stage <= STAGE_COUNT):
        raise InvalidSettingError(f"Stage must be 1 to {STAGE_COUNT}, got {stage!r}.")
    prepared = image if isinstance(image, PreparedImage) else prepare_image(image)
    loaded = (cache or shared_cache()).get(variant)
    started = time.perf_counter()
    labels = labels_of(loaded)
    target_index = None if target is None else resolve_target(target, labels)
    pixel_values = model_inputs(loaded, prepared.image)
    explain_with = _explainer(method, stage, dict(settings or {}))

    original, target_index, original_logits = explain_with(loaded, pixel_values, target_index)
    signed = method not in CAM_METHODS
    order = randomization_order(loaded.model, granularity)
    randomized = LoadedModel(loaded.variant, shared_copy(loaded.model), loaded.processor, "randomised copy")
    steps = []
    for index, (label, paths) in enumerate(order):
        if should_stop is not None and should_stop():
            raise ComputationCancelled("The sanity check was stopped.")
        with seeded(seed + index):
            for path in paths:
                reinitialize(randomized.model, path)
        values, _, logits = explain_with(randomized, pixel_values, target_index)
        top = int(logits.argmax())
        steps.append(
            RandomizationStep(
                layers=paths,
                label=label,
                map=values,
                spearman=rank_correlation(np.abs(original), np.abs(values))
                if signed
                else rank_correlation(original, values),
                top_class=Prediction(top, labels[top], float(logits.softmax(dim=-1)[top])),
            )
        )
        if progress is not None:
            progress((index + 1) / len(order), f"Randomised: {label}")
    return SanityCheck(
        method=method,
        stage=stage,
        target=Prediction(target_index, labels[target_index], float(original_logits.softmax(dim=-1)[target_index])),
        original=original,
        signed=signed,
        steps=tuple(steps),
        granularity=granularity,
        seed=seed,
        seconds=time.perf_counter() - started,
    )


def _explainer(method: str, stage: int, settings: dict) -> Callable:
    """(loaded, pixel_values, target or None) -> (map at crop size, target index, logits)."""
    if method in CAM_METHODS:

        def cam(loaded, pixel_values, target):
            logits, target, activations, gradients = stage_gradients(loaded.model, pixel_values, target)
            raw = CAM_METHODS[method].function(activations[stage - 1][0], gradients[stage - 1][0])
            return to_crop(raw, tuple(pixel_values.shape[-2:])), target, logits

        return cam
    chosen = settings.get(method, DEFAULT_SETTINGS[method])

    def pixel(loaded, pixel_values, target):
        with torch.no_grad():
            logits = loaded.model(pixel_values=pixel_values).logits[0]
        target = int(logits.argmax()) if target is None else target
        return PIXEL_METHODS[method](loaded, pixel_values, target, chosen).map, target, logits

    return pixel
