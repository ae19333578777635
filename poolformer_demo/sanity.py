"""The model-randomisation sanity check (Adebayo et al., "Sanity Checks for Saliency Maps",
NeurIPS 2018), cascading: re-initialise the weights from the top layer down, one layer more at
each step, and explain the same image and class again. A map that keeps its shape while the
model it claims to explain is destroyed is not explaining the model.

How much alike is too alike depends on the method and the image: the maps of two models with
independent random weights can agree with each other (both show the image's edges), so one rank
correlation against a fixed cut-off says little. The verdict compares the trained model's map with
the maps of several fully randomised models against how those maps agree among themselves (a null
distribution of Spearman's rho); SSIM of the normalised maps, which Adebayo et al. report beside
rho, is measured for both as well.

The randomised model is a copy: it shares the cached model's parameter tensors until a layer is
re-initialised, and then that layer gets new tensors, so the cached model (used by other
requests at the same time) is never modified. Re-initialisation is the model's own
(`PoolFormerPreTrainedModel._init_weights`: normal(0, initializer_range) convolutions and
linear layers, unit norms, layer scales at their initial value); tests pin that effect.

This module imports neither captum nor scipy until a check runs, so pages can ask it for the
default granularity and the number of steps at startup.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from .analysis import (
    Prediction,
    display_names,
    labels_of,
    prediction_json,
    resolve_target,
    stage_gradients,
)
from .blocks import check_stage, model_inputs, shared_copy
from .cams import CAM_METHODS, to_crop
from .control import ProgressCallback, StopCheck, check_stop, seeded
from .errors import InvalidSettingError
from .i18n import Said
from .images import PreparedImage, prepare_image
from .json_data import rounded_seconds
from .variants import DEFAULT_VARIANT, STAGE_COUNT
from .weights import LoadedModel, ModelCache, shared_cache

GRANULARITIES = ("block", "stage")
MARGIN = 0.1
"""How far above the most alike pair of random models' maps the trained map may sit and still count
as no more alike than chance; a null of a few pairs is coarse."""
ALIKE = 0.5
"""Above this mean rho the fully randomised models' maps keep the trained map's ranking: it fails."""
CHANCE_FLOOR = 0.2
"""Below this mean rho, maps of random models share little; above it the image alone sets part of
every map, and resemblance to the trained map cannot be told from the image's."""
VERDICTS = ("passes", "fails", "inconclusive")


def null_models(method: str) -> int:
    """How many fully randomised models (the cascade's last step and independent draws) make the
    null: CAMs cost one pass each, pixel methods a full attribution, so they get fewer."""
    return 6 if method in CAM_METHODS else 3


def default_granularity(method: str) -> str:
    """CAMs cost one pass per step, so every block gets a step; pixel methods, a full attribution per
    step, get one step per stage. The page, the API and the CLI all default to this."""
    return "block" if method in CAM_METHODS else "stage"


def step_count(depths, granularity: str) -> int:
    """How many randomisation steps a model with these blocks per stage has: the head, then each
    block and patch embedding (or each stage)."""
    if granularity not in GRANULARITIES:
        raise InvalidSettingError(f"Granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}.")
    return 1 + (sum(depths) + len(depths) if granularity == "block" else len(depths))


@dataclass(frozen=True)
class RandomModelBaseline:
    """The trained model's map against the maps of fully randomised models, and those maps against
    each other: if the trained map is no further from them than they are from one another, it does
    not show what the model learned."""

    to_original: tuple[float, ...]
    """Spearman's rho of the trained model's map with each fully randomised model's map."""
    between: tuple[float, ...]
    """Spearman's rho between the maps of each pair of fully randomised models: the null."""
    ssim_to_original: tuple[float, ...]
    ssim_between: tuple[float, ...]
    verdict: str
    """"fails" when the random models' maps keep the trained map's ranking (mean rho > ALIKE);
    "passes" when the trained map is no more alike to them than they are to each other and they share
    little (mean rho between them < CHANCE_FLOOR); else "inconclusive"."""


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
    baseline: RandomModelBaseline

    def to_json(self) -> dict:
        """The check as plain JSON data: what was explained, the baseline with its verdict, and per
        step what was re-initialised, the rank correlation with the trained map and what the model
        predicts then (classes by display name). The maps are arrays for the exports' npz."""
        base = self.baseline
        return {
            "method": self.method,
            "stage": self.stage,
            "granularity": self.granularity,
            "signed": self.signed,
            "seed": self.seed,
            "target": prediction_json(self.target),
            "baseline": {
                "to_original": [float(v) for v in base.to_original],
                "between": [float(v) for v in base.between],
                "ssim_to_original": [float(v) for v in base.ssim_to_original],
                "ssim_between": [float(v) for v in base.ssim_between],
                "verdict": base.verdict,
            },
            "steps": [
                {
                    "step": number,
                    "label": str(step.label),
                    "layers": list(step.layers),
                    "spearman": float(step.spearman),
                    "top_class": prediction_json(step.top_class),
                }
                for number, step in enumerate(self.steps, start=1)
            ],
            "seconds": rounded_seconds(self.seconds),
        }


def randomization_order(model, granularity: str = "block") -> list[tuple[str, tuple[str, ...]]]:
    """(label, module paths) from the top of a PoolFormerForImageClassification down: the head
    (final norm and classifier), then for stage 4 to 1 each block from the last, then the
    stage's patch embedding; with granularity "stage", the head then one step per stage."""
    step_count((), granularity)  # checks the name
    # Labels remember their catalog key, so a page can name the layers in its language.
    steps = [(Said("sanity.layer.head"), ("classifier", "norm"))]
    encoder = model.poolformer.encoder
    for stage in range(len(encoder.block), 0, -1):
        blocks = [
            (Said("sanity.layer.block", stage=stage, block=i + 1), (f"poolformer.encoder.block.{stage - 1}.{i}",))
            for i in range(len(encoder.block[stage - 1]) - 1, -1, -1)
        ]
        embedding = (Said("sanity.layer.embedding", stage=stage), (f"poolformer.encoder.patch_embeddings.{stage - 1}",))
        if granularity == "block":
            steps += [*blocks, embedding]
        else:
            steps.append(
                (Said("sanity.layer.stage", stage=stage), tuple(p for _, paths in [*blocks, embedding] for p in paths))
            )
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
    from scipy.stats import spearmanr

    a, b = np.ravel(a), np.ravel(b)
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 0.0
    return float(spearmanr(a, b).statistic)


def structural_similarity(a: np.ndarray, b: np.ndarray, sigma: float = 1.5) -> float:
    """Mean SSIM (Wang et al. 2004, Gaussian window of `sigma` px) of two maps, each first scaled to
    [0, 1] by its own range, as Adebayo et al. compare normalised maps."""
    from scipy.ndimage import gaussian_filter

    def normalised(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        span = np.ptp(x)
        return (x - x.min()) / span if span > 0 else np.zeros_like(x)

    a, b = normalised(a), normalised(b)
    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = gaussian_filter(a, sigma), gaussian_filter(b, sigma)
    var_a = gaussian_filter(a * a, sigma) - mu_a**2
    var_b = gaussian_filter(b * b, sigma) - mu_b**2
    cov = gaussian_filter(a * b, sigma) - mu_a * mu_b
    ssim = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2))
    return float(ssim.mean())


def verdict(to_original, between) -> str:
    """Reads the rank correlations of the trained map with fully randomised models' maps against
    those between the random models' maps (see RandomModelBaseline.verdict)."""
    if float(np.mean(to_original)) > ALIKE:
        return "fails"
    if max(to_original) <= max(between) + MARGIN and float(np.mean(between)) < CHANCE_FLOOR:
        return "passes"
    return "inconclusive"


def cascading_randomization(
    image: Image.Image | PreparedImage | str,
    variant: str = DEFAULT_VARIANT,
    method: str = "gradcam",
    stage: int = STAGE_COUNT,
    target: int | str | None = None,
    granularity: str | None = None,
    seed: int = 0,
    settings: Mapping[str, object] | None = None,
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    cache: ModelCache | None = None,
) -> SanityCheck:
    """Explain `image` with `method` on the trained model and then on a copy randomised from
    the top layer down (see randomization_order), comparing each map with the original.

    CAM methods cost one forward and backward pass per step; pixel methods (ig, smoothgrad,
    occlusion, with `settings` as for `explain`) cost a full attribution per step, so by default
    (`granularity=None`, see default_granularity) they take one step per stage. A few more fully
    randomised models (see null_models; one explanation each) make the baseline the verdict reads.
    """
    from .attributions import parse_methods

    (method,) = parse_methods([method])
    granularity = granularity or default_granularity(method)
    prepared = image if isinstance(image, PreparedImage) else prepare_image(image)
    loaded = (cache or shared_cache()).get(variant)
    stage = check_stage(loaded.model.config, stage)
    started = time.perf_counter()
    labels = labels_of(loaded)
    names = display_names(labels)
    target_index = None if target is None else resolve_target(target, labels)
    pixel_values = model_inputs(loaded, prepared.image)
    explain_with = _explainer(method, stage, dict(settings or {}))

    original, target_index, original_logits = explain_with(loaded, pixel_values, target_index)
    signed = method not in CAM_METHODS
    order = randomization_order(loaded.model, granularity)
    randomized = LoadedModel(loaded.variant, shared_copy(loaded.model), loaded.processor, "randomised copy")
    # Signed maps are compared by magnitude: a sign flip of the whole map is not a different explanation.
    compared = np.abs if signed else np.asarray
    draws = null_models(method)
    work = len(order) + draws - 1
    steps = []
    for index, (label, paths) in enumerate(order):
        check_stop(should_stop, Said("stopped.sanity"))
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
                spearman=rank_correlation(compared(original), compared(values)),
                top_class=Prediction(top, labels[top], float(logits.softmax(dim=-1)[top]), names[top]),
            )
        )
        if progress is not None:
            progress((index + 1) / work, Said("progress.randomised", layers=label))

    random_maps = [compared(steps[-1].map)]
    for draw in range(1, draws):
        check_stop(should_stop, Said("stopped.sanity"))
        other = LoadedModel(loaded.variant, shared_copy(loaded.model), loaded.processor, "randomised copy")
        # Seeds apart from the cascade's, so each draw is independent of it and of the others.
        with seeded(seed + 1_000 * draw):
            for _, paths in order:
                for path in paths:
                    reinitialize(other.model, path)
        random_maps.append(compared(explain_with(other, pixel_values, target_index)[0]))
        if progress is not None:
            progress((len(order) + draw) / work, Said("progress.another_model", draw=draw, of=draws - 1))
    baseline = random_baseline(compared(original), random_maps)
    return SanityCheck(
        method=method,
        stage=stage,
        target=Prediction(
            target_index,
            labels[target_index],
            float(original_logits.softmax(dim=-1)[target_index]),
            names[target_index],
        ),
        original=original,
        signed=signed,
        steps=tuple(steps),
        granularity=granularity,
        seed=seed,
        seconds=time.perf_counter() - started,
        baseline=baseline,
    )


def random_baseline(original: np.ndarray, random_maps: list[np.ndarray]) -> RandomModelBaseline:
    """The trained map against each fully randomised model's map, and those against each other."""
    pairs = [(i, j) for i in range(len(random_maps)) for j in range(i + 1, len(random_maps))]
    to_original = tuple(rank_correlation(original, m) for m in random_maps)
    between = tuple(rank_correlation(random_maps[i], random_maps[j]) for i, j in pairs)
    ssim_to_original = tuple(structural_similarity(original, m) for m in random_maps)
    ssim_between = tuple(structural_similarity(random_maps[i], random_maps[j]) for i, j in pairs)
    return RandomModelBaseline(
        to_original=to_original,
        between=between,
        ssim_to_original=ssim_to_original,
        ssim_between=ssim_between,
        verdict=verdict(to_original, between),
    )


def _explainer(method: str, stage: int, settings: dict) -> Callable:
    """(loaded, pixel_values, target or None) -> (map at crop size, target index, logits)."""
    from .attributions import DEFAULT_SETTINGS, PIXEL_METHODS

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
