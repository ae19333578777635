"""Pixel attributions from captum, and the CAM family's maps as attributions of the same kind.

    Integrated Gradients (Sundararajan et al., 2017)  captum.attr.IntegratedGradients
    SmoothGrad (Smilkov et al., 2017)                  captum.attr.NoiseTunnel over Saliency
    Occlusion (Zeiler & Fergus, 2014)                  captum.attr.Occlusion

Each map is captum's attribution for the model's `pixel_values` summed over the colour channels:
a signed float32 map the size of the crop. The defaults keep each method within about 10 s for
PoolFormer-S12 at 224 px on two CPU cores (benchmarks/bench_explain.py measures them).

Long computations report progress and can be stopped: captum calls the forward function once
per internal batch (IG's `internal_batch_size`, NoiseTunnel's `nt_samples_batch_size`,
Occlusion's `perturbations_per_eval`), so the forward function given to captum counts its calls
and checks `should_stop` before each one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from .analysis import Analysis
from .blocks import check_stage
from .cams import CAM_METHODS, to_crop
from .control import ProgressCallback, StopCheck, check_stop
from .errors import InvalidSettingError, UnknownMethodError
from .i18n import Said
from .json_data import rounded_seconds
from .variants import STAGE_COUNT
from .weights import LoadedModel


@dataclass(frozen=True)
class IntegratedGradientsSettings:
    n_steps: int = 32
    method: str = "gausslegendre"
    """captum's quadrature: gausslegendre, riemann_trapezoid, riemann_left, riemann_right, riemann_middle."""
    baseline: str = "black"
    """"black" (a black image, normalised as the model sees it) or "zeros" (0 in the model's
    normalised input space: the dataset's mean colour)."""
    internal_batch_size: int = 8


@dataclass(frozen=True)
class SmoothGradSettings:
    nt_samples: int = 24
    noise_level: float = 0.15
    """The noise's standard deviation as a fraction of the input's value range (max - min) in the
    model's normalised space; Smilkov et al. recommend 10-20 %."""
    nt_samples_batch_size: int = 8
    seed: int = 0


@dataclass(frozen=True)
class OcclusionSettings:
    window: int | None = None
    """Side of the square occluded patch in pixels; None: a seventh of the crop (32 px at 224)."""
    stride: int | None = None
    """None: half the window."""
    baseline: str = "zeros"
    """What fills the patch: "zeros" (the mean colour) or "black"."""
    perturbations_per_eval: int = 16


DEFAULT_SETTINGS = {
    "ig": IntegratedGradientsSettings(),
    "smoothgrad": SmoothGradSettings(),
    "occlusion": OcclusionSettings(),
}
PIXEL_METHOD_TITLES = {"ig": "Integrated Gradients", "smoothgrad": "SmoothGrad", "occlusion": "Occlusion"}
METHOD_TITLES = {**{name: m.title for name, m in CAM_METHODS.items()}, **PIXEL_METHOD_TITLES}
"""Every method `explain` accepts, by name: the CAM family (stage maps) and the pixel methods."""
DEFAULT_METHODS = ("gradcam", "ig", "smoothgrad", "occlusion")
BASELINES = ("black", "zeros")
IG_METHODS = ("gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right", "riemann_middle")


@dataclass(frozen=True)
class Attribution:
    method: str
    title: str
    map: np.ndarray
    """[H, W] float32 at the crop's size. Pixel methods: captum's attribution summed over the
    colour channels, signed. CAM methods: the stage map bilinearly resized, >= 0, unscaled."""
    signed: bool
    settings: dict
    """Every setting needed to reproduce the map (JSON-ready), including the library used."""
    seconds: float
    """Time of the computation; for CAM methods, of the analysis pass that gave them all."""
    diagnostics: dict = field(default_factory=dict)
    """Checks on the result, e.g. IG's convergence delta (sum of attributions minus the logit
    difference between input and baseline)."""

    def to_json(self) -> dict:
        """The attribution as plain JSON data: every setting, the time, the checks and a summary of
        the map (its shape, range, mean, sum, share of positive pixels and peak pixel as [row, column])."""
        values = np.asarray(self.map, dtype=np.float64)
        peak = np.unravel_index(int(np.argmax(values)), values.shape)
        return {
            "method": self.method,
            "title": self.title,
            "signed": self.signed,
            "settings": dict(self.settings),
            "seconds": rounded_seconds(self.seconds),
            "diagnostics": dict(self.diagnostics),
            "summary": {
                "shape": list(values.shape),
                "min": float(values.min()),
                "max": float(values.max()),
                "mean": float(values.mean()),
                "sum": float(values.sum()),
                "positive_share": float((values > 0).mean()),
                "peak": [int(peak[0]), int(peak[1])],
            },
        }


class _ProgressForward:
    """The model's logits as captum's forward function. It counts its calls, so a long
    attribution can report progress and be stopped between captum's internal batches."""

    def __init__(
        self, model, title: str, total_calls: int, progress: ProgressCallback | None, should_stop: StopCheck | None
    ):
        self.model = model
        self.title = title
        # The progress line names the method in the page's language (its catalog key remembered).
        self.said_title = next((Said(f"method.{n}") for n, t in METHOD_TITLES.items() if t == title), title)
        self.total_calls = max(1, total_calls)
        self.progress = progress
        self.should_stop = should_stop
        self.calls = 0

    def __call__(self, pixel_values: torch.Tensor) -> torch.Tensor:
        check_stop(self.should_stop, Said("stopped.method", method=self.said_title))
        logits = self.model(pixel_values=pixel_values).logits
        self.calls += 1
        if self.progress is not None:
            self.progress(min(1.0, self.calls / self.total_calls), self.said_title)
        return logits


def baseline_values(name: str, pixel_values: torch.Tensor, processor) -> torch.Tensor:
    """A baseline image like `pixel_values` in the model's normalised space: "zeros", or "black"
    (pixel value 0 passed through the processor's rescaling and normalisation)."""
    if name == "zeros":
        return torch.zeros_like(pixel_values)
    if name == "black":
        if not getattr(processor, "do_normalize", True):
            return torch.zeros_like(pixel_values)
        mean = torch.as_tensor(processor.image_mean, dtype=pixel_values.dtype, device=pixel_values.device)
        std = torch.as_tensor(processor.image_std, dtype=pixel_values.dtype, device=pixel_values.device)
        mean, std = mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1)
        return ((0.0 - mean) / std).expand_as(pixel_values).clone()
    raise InvalidSettingError(f"Unknown baseline {name!r}: use one of {', '.join(BASELINES)}.")


def _check_positive(**values: float) -> None:
    for name, value in values.items():
        if not value > 0:
            raise InvalidSettingError(f"{name} must be positive, got {value!r}.")


def integrated_gradients(
    loaded: LoadedModel,
    pixel_values: torch.Tensor,
    target: int,
    settings: IntegratedGradientsSettings = IntegratedGradientsSettings(),
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> Attribution:
    """captum's Integrated Gradients of the target logit for a [1, 3, H, W] input."""
    _check_positive(n_steps=settings.n_steps, internal_batch_size=settings.internal_batch_size)
    if settings.method not in IG_METHODS:
        known = ", ".join(IG_METHODS)
        raise InvalidSettingError(f"Unknown integration method {settings.method!r}: use one of {known}.")
    started = time.perf_counter()
    baseline = baseline_values(settings.baseline, pixel_values, loaded.processor)
    title = PIXEL_METHOD_TITLES["ig"]
    # captum calls the forward once per internal batch, then twice for the convergence delta.
    calls = math.ceil(settings.n_steps / settings.internal_batch_size) + 2
    forward = _ProgressForward(loaded.model, title, calls, progress, should_stop)
    from captum.attr import IntegratedGradients  # loaded with the first attribution, not with the app

    attribution, delta = IntegratedGradients(forward).attribute(
        pixel_values,
        baselines=baseline,
        target=target,
        n_steps=settings.n_steps,
        method=settings.method,
        internal_batch_size=settings.internal_batch_size,
        return_convergence_delta=True,
    )
    return Attribution(
        method="ig",
        title=title,
        map=_channel_sum(attribution),
        signed=True,
        settings={"library": "captum.attr.IntegratedGradients", **asdict(settings)},
        seconds=time.perf_counter() - started,
        diagnostics={"convergence_delta": float(delta.abs().max())},
    )


def _smoothgrad(
    saliency, pixel_values: torch.Tensor, target: int, samples: int, batch: int, stdev: float, seed: int
) -> torch.Tensor:
    """captum's ``NoiseTunnel(saliency).attribute(nt_type="smoothgrad", abs=False)``: the mean of the
    saliency of ``samples`` noisy copies of the input, in batches of ``batch``, with the noise drawn
    as NoiseTunnel draws it (one ``torch.normal`` per batch, full batches first) but from a generator
    of its own rather than torch's global one, so that concurrent requests need no lock and each
    gets the noise its seed names (taken on the CPU, so a map does not depend on the device).
    tests/test_attributions.py proves it equal to NoiseTunnel with the global generator so seeded."""
    generator = torch.Generator().manual_seed(seed)
    total = torch.zeros_like(pixel_values)
    sizes = [batch] * (samples // batch) + ([samples % batch] if samples % batch else [])
    for count in sizes:
        shape = (pixel_values.shape[0] * count, *pixel_values.shape[1:])
        noise = torch.normal(0, torch.full(shape, stdev), generator=generator)
        noisy = pixel_values.repeat_interleave(count, dim=0) + noise.to(pixel_values.device, pixel_values.dtype)
        gradients = saliency.attribute(noisy.requires_grad_(True), target=target, abs=False)
        total += gradients.view(pixel_values.shape[0], count, *pixel_values.shape[1:]).sum(dim=1)
    return total / samples


def smoothgrad(
    loaded: LoadedModel,
    pixel_values: torch.Tensor,
    target: int,
    settings: SmoothGradSettings = SmoothGradSettings(),
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> Attribution:
    """captum's NoiseTunnel ("smoothgrad") over signed Saliency (plain input gradients)."""
    _check_positive(nt_samples=settings.nt_samples, nt_samples_batch_size=settings.nt_samples_batch_size)
    if not settings.noise_level >= 0:
        raise InvalidSettingError(f"noise_level must not be negative, got {settings.noise_level!r}.")
    started = time.perf_counter()
    stdev = settings.noise_level * float(pixel_values.max() - pixel_values.min())
    batch = min(settings.nt_samples, settings.nt_samples_batch_size)
    title = PIXEL_METHOD_TITLES["smoothgrad"]
    forward = _ProgressForward(loaded.model, title, math.ceil(settings.nt_samples / batch), progress, should_stop)
    from captum.attr import Saliency  # loaded with the first attribution, not with the app

    attribution = _smoothgrad(Saliency(forward), pixel_values, target, settings.nt_samples, batch, stdev, settings.seed)
    return Attribution(
        method="smoothgrad",
        title=title,
        map=_channel_sum(attribution),
        signed=True,
        settings={
            "library": "captum.attr.NoiseTunnel(captum.attr.Saliency)",
            "nt_type": "smoothgrad",
            "abs": False,
            **asdict(settings),
            "stdev": stdev,
        },
        seconds=time.perf_counter() - started,
    )


def occlusion_geometry(settings: OcclusionSettings, crop_size: tuple[int, int]) -> tuple[int, int]:
    """The (window, stride) in pixels that `settings` means for a crop of this size."""
    window = settings.window if settings.window is not None else max(1, round(min(crop_size) / 7))
    stride = settings.stride if settings.stride is not None else max(1, window // 2)
    _check_positive(window=window, stride=stride)
    if window > min(crop_size):
        raise InvalidSettingError(f"The occlusion window ({window} px) is larger than the crop ({min(crop_size)} px).")
    if stride > window:
        raise InvalidSettingError(f"The occlusion stride ({stride} px) must not exceed the window ({window} px).")
    return window, stride


def occlusion(
    loaded: LoadedModel,
    pixel_values: torch.Tensor,
    target: int,
    settings: OcclusionSettings = OcclusionSettings(),
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> Attribution:
    """captum's Occlusion: the drop in the target logit when a square patch is covered."""
    _check_positive(perturbations_per_eval=settings.perturbations_per_eval)
    started = time.perf_counter()
    height, width = pixel_values.shape[-2:]
    window, stride = occlusion_geometry(settings, (height, width))
    # captum's count of window positions per axis, plus its one unperturbed evaluation.
    positions = math.prod(math.ceil((side - window) / stride) + 1 for side in (height, width))
    title = PIXEL_METHOD_TITLES["occlusion"]
    forward = _ProgressForward(
        loaded.model, title, 1 + math.ceil(positions / settings.perturbations_per_eval), progress, should_stop
    )
    with torch.no_grad():
        from captum.attr import Occlusion  # loaded with the first attribution, not with the app

        attribution = Occlusion(forward).attribute(
            pixel_values,
            sliding_window_shapes=(pixel_values.shape[1], window, window),
            strides=(pixel_values.shape[1], stride, stride),
            baselines=baseline_values(settings.baseline, pixel_values, loaded.processor),
            target=target,
            perturbations_per_eval=settings.perturbations_per_eval,
        )
    return Attribution(
        method="occlusion",
        title=title,
        map=_channel_sum(attribution),
        signed=True,
        settings={
            "library": "captum.attr.Occlusion",
            **asdict(settings),
            "window": window,
            "stride": stride,
            "positions": positions,
        },
        seconds=time.perf_counter() - started,
    )


PIXEL_METHODS = {"ig": integrated_gradients, "smoothgrad": smoothgrad, "occlusion": occlusion}


def cam_attribution(analysis: Analysis, method: str = "gradcam", stage: int = STAGE_COUNT) -> Attribution:
    """One CAM method's map at one stage of an analysis, resized to the crop (unscaled, >= 0)."""
    if method not in CAM_METHODS:
        raise UnknownMethodError(f"Unknown CAM method {method!r}. Choose one of: {', '.join(CAM_METHODS)}.")
    stage = check_stage(analysis.variant, stage)
    result = analysis.stages[stage - 1]
    crop_size = analysis.input_image.size[::-1]
    return Attribution(
        method=method,
        title=CAM_METHODS[method].title,
        map=to_crop(result.cams[method], crop_size, unit=False),
        signed=False,
        settings={
            "library": "poolformer_demo.cams (equal to pytorch-grad-cam's " + CAM_METHODS[method].reference + ")",
            "stage": stage,
            "layer": f"poolformer.encoder.block[{stage - 1}][-1]",
            "resize": "bilinear",
        },
        # Every CAM method at every stage comes out of the analysis's one forward and backward pass.
        seconds=analysis.seconds,
    )


def parse_methods(methods: str | Sequence[str]) -> tuple[str, ...]:
    """Method names from a list or a comma-separated string, checked, duplicates dropped."""
    names = [m.strip().lower() for m in (methods.split(",") if isinstance(methods, str) else methods)]
    names = list(dict.fromkeys(n for n in names if n))
    if not names:
        raise UnknownMethodError(f"No method given. Choose from: {', '.join(METHOD_TITLES)}.")
    unknown = [n for n in names if n not in METHOD_TITLES]
    if unknown:
        raise UnknownMethodError(f"Unknown method {unknown[0]!r}. Choose from: {', '.join(METHOD_TITLES)}.")
    return tuple(names)


def _channel_sum(attribution: torch.Tensor) -> np.ndarray:
    return attribution.detach()[0].sum(dim=0).float().cpu().numpy().astype(np.float32)
