"""One analysis of one image: predictions, stage feature maps and the CAM family (Grad-CAM,
HiResCAM, Grad-CAM++, XGrad-CAM, LayerCAM), from one forward and one backward pass.

Grad-CAM (Selvaraju et al., 2017) for a stage with activation A (C x H x W) and class score y:
    weights_c = mean over (h, w) of dy/dA_c,   CAM = ReLU(sum_c weights_c * A_c).
PoolFormer's `hidden_states` are the outputs of the last block of each stage, so the gradients
of the target logit with respect to them are exactly what every CAM method on those blocks
needs (see cams.py for the others).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image

from .blocks import model_inputs
from .cams import all_cams, grad_cam, to_crop  # noqa: F401 - grad_cam stays importable from here
from .i18n import Said
from .images import PreparedImage, crop_image, prepare_image
from .json_data import nested_list, rounded_seconds
from .knockouts import Knockouts, knocked_out
from .labels import (  # noqa: F401 - importable from here
    FEW_CLASSES,
    Prediction,
    display_names,
    labels_of,
    prediction_json,
    resolve_target,
)
from .variants import DEFAULT_VARIANT, Variant
from .weights import ModelCache, shared_cache


@dataclass(frozen=True)
class StageResult:
    index: int
    shape: tuple[int, int, int]
    stride: int
    activation: np.ndarray
    """The stage's output [C, H, W]: what render.feature_views draws (it does not depend on the target)."""
    cam: np.ndarray
    """Grad-CAM upsampled to the crop size and scaled to [0, 1]."""
    cam_raw: np.ndarray
    """Grad-CAM at the stage's own resolution, unscaled."""
    cams: dict[str, np.ndarray] = field(default_factory=dict)
    """Every CAM method's map at the stage's own resolution, after the ReLU, unscaled, keyed by
    method name (cams.CAM_METHODS: gradcam, hirescam, gradcampp, xgradcam, layercam);
    `cams["gradcam"]` is `cam_raw`."""

    def cam_at_crop(self, method: str = "gradcam") -> np.ndarray:
        """One method's map resized to the crop and scaled to [0, 1], as `cam` is for Grad-CAM."""
        if method == "gradcam":
            return self.cam
        return to_crop(self.cams[method], self.cam.shape)

    @property
    def caption(self) -> str:
        channels, height, width = self.shape
        return f"Stage {self.index} · {channels}x{height}x{width} · stride {self.stride}"

    def to_json(self, arrays: bool = True, every_cam: bool = False) -> dict:
        """The stage as plain JSON data: with `arrays` its raw Grad-CAM (`gradcam`, at the stage's
        resolution), and with `every_cam` as well every CAM method's raw map (`cams`)."""
        data = {"index": self.index, "shape": list(self.shape), "stride": self.stride, "caption": self.caption}
        if arrays:
            data["gradcam"] = nested_list(self.cam_raw)
            if every_cam:
                data["cams"] = {name: nested_list(values) for name, values in self.cams.items()}
        return data


@dataclass(frozen=True)
class Analysis:
    variant: Variant
    weights_source: str
    predictions: tuple[Prediction, ...]
    target: Prediction
    input_image: Image.Image
    """The center crop the model saw, as RGB."""
    stages: tuple[StageResult, ...]
    labels: tuple[str, ...]
    notes: tuple[str, ...]
    seconds: float
    """Preprocessing, the forward and backward pass and the CAMs; model loading excluded."""
    knockouts: Knockouts = field(default_factory=Knockouts)
    """The parts switched off in the model that made these predictions (none: the model as trained)."""

    def to_json(self, arrays: bool = True, every_cam: bool = False) -> dict:
        """The analysis as plain JSON data, the one the API, the command line and the exports give:
        the model, the target and the top-k (by display name), the crop's size, the knockouts and
        every stage (see StageResult.to_json for `arrays` and `every_cam`). No pictures."""
        return {
            "variant": self.variant.name,
            "weights_source": str(self.weights_source),
            "target": prediction_json(self.target),
            "top_k": [prediction_json(p) for p in self.predictions],
            "crop_size": [self.input_image.height, self.input_image.width],
            "knockouts": self.knockouts.to_json(),
            "stages": [stage.to_json(arrays, every_cam) for stage in self.stages],
            "notes": [str(note) for note in self.notes],
            "seconds": rounded_seconds(self.seconds),
        }


def analyze(
    image: Image.Image | PreparedImage | str,
    variant: str = DEFAULT_VARIANT,
    target: int | str | None = None,
    top_k: int = 5,
    cache: ModelCache | None = None,
    knockouts: Knockouts | None = None,
) -> Analysis:
    """Classify `image` with a PoolFormer variant and explain the target class at every stage.

    `target` is a class index or label (default: the top-1 class). `knockouts` switches off the
    token mixer or the channel MLP of chosen stages, in a copy of the model (the cached model is never changed). Raises
    errors derived from PoolFormerDemoError with messages meant for the person who asked.
    """
    prepared = image if isinstance(image, PreparedImage) else prepare_image(image)
    loaded = (cache or shared_cache()).get(variant)
    # Timed from here: a first download or load is not what the variants' speeds should be compared on.
    started = time.perf_counter()
    labels = labels_of(loaded)
    target_index = None if target is None else resolve_target(target, labels)
    knockouts = knockouts or Knockouts()
    model = knocked_out(loaded.model, knockouts)

    pixel_values = model_inputs(loaded, prepared.image)
    logits, target_index, hidden_states, gradients = stage_gradients(model, pixel_values, target_index)
    # Everything after the passes builds data and pictures: on CPU copies.
    logits, pixel_values = logits.cpu(), pixel_values.cpu()
    hidden_states, gradients = [h.cpu() for h in hidden_states], [g.cpu() for g in gradients]

    probabilities = logits.softmax(dim=-1)
    top = torch.topk(probabilities, k=min(top_k, len(labels)))
    names = display_names(labels)
    predictions = tuple(
        Prediction(int(i), labels[int(i)], float(p), names[int(i)]) for p, i in zip(top.values, top.indices)
    )
    crop_size = tuple(pixel_values.shape[-2:])
    stages = tuple(
        _stage_result(index, activation[0], gradient[0], crop_size)
        for index, (activation, gradient) in enumerate(zip(hidden_states, gradients), start=1)
    )
    return Analysis(
        variant=loaded.variant,
        weights_source=loaded.source,
        predictions=predictions,
        target=Prediction(target_index, labels[target_index], float(probabilities[target_index]), names[target_index]),
        input_image=crop_image(pixel_values[0], loaded.processor),
        stages=stages,
        labels=labels,
        notes=prepared.notes + model_notes(loaded.variant, labels),
        seconds=time.perf_counter() - started,
        knockouts=knockouts,
    )


def model_notes(variant: Variant, labels: tuple[str, ...]) -> tuple[str, ...]:
    """What to know about the model before reading its answer: a model trained on a small task
    names one of its few classes for any picture."""
    if variant.top1 is not None:
        return ()
    known = Said("note.few_classes", model=variant.name, count=len(labels), classes=", ".join(labels))
    return (known, variant.training) if variant.training else (known,)


def stage_gradients(model, pixel_values: torch.Tensor, target: int | None = None):
    """One forward and one backward pass: (logits [classes], target index, the four stages'
    activations [1, C, H, W], the target logit's gradients with respect to them).

    `target` None means the top-1 class. The model is only called, never changed.
    """
    pixel_values = pixel_values.detach().clone()
    # The parameters are frozen, so the input must ask for gradients for a graph to be built.
    pixel_values.requires_grad_(True)
    with torch.enable_grad():
        outputs = model(pixel_values=pixel_values, output_hidden_states=True)
        logits = outputs.logits[0]
        if target is None:
            target = int(logits.argmax())
        hidden_states = outputs.hidden_states
        gradients = torch.autograd.grad(logits[target], hidden_states)
    return logits.detach(), target, tuple(h.detach() for h in hidden_states), gradients


def _stage_result(index: int, activation: torch.Tensor, gradient: torch.Tensor, crop_size) -> StageResult:
    cams = all_cams(activation, gradient)
    cam_raw = cams["gradcam"]
    return StageResult(
        index=index,
        shape=tuple(activation.shape),
        # The stride is read off the shapes rather than assumed, so any patch-embedding setup is described truly.
        stride=crop_size[0] // activation.shape[1],
        activation=activation.float().numpy(),
        cam=to_crop(cam_raw, crop_size),
        cam_raw=cam_raw.numpy(),
        cams={name: values.numpy() for name, values in cams.items()},
    )
