"""The CAM family, computed from one stage's activation A and the gradient G = dy/dA of the
target score y, both [C, H, W]. Every method is a weighting of A; all end in a ReLU.

    Grad-CAM     (Selvaraju et al., 2017)  w_c = mean_hw G_c                          CAM = sum_c w_c A_c
    HiResCAM     (Draelos & Carin, 2020)   CAM = sum_c G_c * A_c   (element-wise, no averaging)
    Grad-CAM++   (Chattopadhay et al., 2018)
                 a_c,hw = G^2 / (2 G^2 + sum_hw(A_c) G^3)  (0 where G = 0),  w_c = sum_hw a_c,hw ReLU(G_c,hw)
    XGrad-CAM    (Fu et al., 2020)         w_c = sum_hw G_c A_c / sum_hw A_c
    LayerCAM     (Jiang et al., 2021)      CAM = sum_c ReLU(G_c) * A_c

The formulas, including their small constants, are pytorch-grad-cam's (`get_cam_weights` /
`get_cam_image` of GradCAM, HiResCAM, GradCAMPlusPlus, XGradCAM, LayerCAM), so the maps equal
that library's before its resizing; they are computed here from the tensors one backward pass
already has instead of one hooked pass per method and stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

# pytorch-grad-cam's constants, kept so the maps agree with it where a denominator is near zero.
_GRADCAM_PP_EPS = 1e-6
_XGRADCAM_EPS = 1e-7


def grad_cam(activation: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
    """ReLU(sum over channels of spatially averaged gradient x activation) for [C, H, W] inputs."""
    weights = gradient.mean(dim=(1, 2), keepdim=True)
    return F.relu((weights * activation).sum(dim=0))


def hires_cam(activation: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
    """ReLU(sum over channels of gradient x activation, position by position)."""
    return F.relu((gradient * activation).sum(dim=0))


def _spatial_sums(activation: torch.Tensor) -> torch.Tensor:
    """sum_hw A_c as [C, 1, 1], added in numpy's order.

    Grad-CAM++ and XGrad-CAM divide by terms built from these sums, and on PoolFormer (whose
    activations are not rectified) those terms can come within rounding of zero, where a
    different order of float32 additions changes the map by percent. Summing as
    pytorch-grad-cam does keeps the maps equal to its own there too.
    """
    sums = activation.detach().cpu().numpy().sum(axis=(1, 2))
    return torch.from_numpy(sums).to(activation.device)[:, None, None]


def grad_cam_plus_plus(activation: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
    """Grad-CAM++: channel weights from positive gradients, weighted by second/third-order terms."""
    squared = gradient * gradient
    cubed = squared * gradient
    activation_sums = _spatial_sums(activation)
    alpha = squared / (2 * squared + activation_sums * cubed + _GRADCAM_PP_EPS)
    # pytorch-grad-cam zeroes alpha where the gradient is 0; there ReLU(G) is 0 too, and alpha is
    # already 0 / eps = 0, so the product below is the same without that step.
    weights = (F.relu(gradient) * alpha).sum(dim=(1, 2), keepdim=True)
    return F.relu((weights * activation).sum(dim=0))


def xgrad_cam(activation: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
    """XGrad-CAM: channel weights are gradients averaged with the activation as weights."""
    activation_sums = _spatial_sums(activation)
    weights = (gradient * activation / (activation_sums + _XGRADCAM_EPS)).sum(dim=(1, 2), keepdim=True)
    return F.relu((weights * activation).sum(dim=0))


def layer_cam(activation: torch.Tensor, gradient: torch.Tensor) -> torch.Tensor:
    """LayerCAM: each position's activation weighted by its own positive gradient."""
    return F.relu((F.relu(gradient) * activation).sum(dim=0))


@dataclass(frozen=True)
class CamMethod:
    name: str
    """The key used everywhere: in `StageResult.cams`, in cams.npz (`<name>_stage<S>`), on the CLI."""
    title: str
    """How the method is named on the page."""
    function: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    """(activation [C, H, W], gradient [C, H, W]) -> map [H, W], after the ReLU."""
    reference: str
    """The pytorch-grad-cam class whose `get_cam_image` this equals."""


CAM_METHODS: dict[str, CamMethod] = {
    m.name: m
    for m in (
        CamMethod("gradcam", "Grad-CAM", grad_cam, "GradCAM"),
        CamMethod("hirescam", "HiResCAM", hires_cam, "HiResCAM"),
        CamMethod("gradcampp", "Grad-CAM++", grad_cam_plus_plus, "GradCAMPlusPlus"),
        CamMethod("xgradcam", "XGrad-CAM", xgrad_cam, "XGradCAM"),
        CamMethod("layercam", "LayerCAM", layer_cam, "LayerCAM"),
    )
}
DEFAULT_CAM = "gradcam"


def all_cams(activation: torch.Tensor, gradient: torch.Tensor) -> dict[str, torch.Tensor]:
    """Every method's map [H, W] (after the ReLU) from one stage's activation and gradient."""
    return {name: method.function(activation, gradient) for name, method in CAM_METHODS.items()}


def to_crop(cam_raw: np.ndarray | torch.Tensor, crop_size: tuple[int, int], unit: bool = True) -> np.ndarray:
    """A stage-resolution map bilinearly resized to the crop, float32; with `unit`, divided by its
    maximum so it lies in [0, 1] (an all-zero map stays all zeros)."""
    cam = torch.as_tensor(cam_raw, dtype=torch.float32)
    cam = F.interpolate(cam[None, None], size=tuple(crop_size), mode="bilinear", align_corners=False)[0, 0]
    if unit:
        peak = float(cam.max())
        cam = cam / peak if peak > 0 else torch.zeros_like(cam)
    return cam.cpu().numpy().astype(np.float32)
