"""PoolFormer Explorer: predictions, stage feature maps and Grad-CAM for PoolFormer models."""

from .analysis import Analysis, FeatureViews, Prediction, StageResult, analyze, resolve_target
from .cams import CAM_METHODS, CamMethod, grad_cam
from .errors import (
    ImageInputError,
    PoolFormerDemoError,
    UnknownTargetError,
    UnknownVariantError,
    WeightsUnavailableError,
)
from .images import PreparedImage, prepare_image
from .variants import DEFAULT_VARIANT, HUB_VARIANTS, SHAPES_VARIANT_NAME, STAGE_COUNT, VARIANTS, Variant, get_variant
from .weights import LoadedModel, ModelCache, load_model, shared_cache

__all__ = [
    "Analysis",
    "CAM_METHODS",
    "CamMethod",
    "DEFAULT_VARIANT",
    "FeatureViews",
    "HUB_VARIANTS",
    "ImageInputError",
    "LoadedModel",
    "ModelCache",
    "PoolFormerDemoError",
    "Prediction",
    "PreparedImage",
    "SHAPES_VARIANT_NAME",
    "STAGE_COUNT",
    "StageResult",
    "UnknownTargetError",
    "UnknownVariantError",
    "VARIANTS",
    "Variant",
    "WeightsUnavailableError",
    "analyze",
    "get_variant",
    "grad_cam",
    "load_model",
    "prepare_image",
    "resolve_target",
    "shared_cache",
]
