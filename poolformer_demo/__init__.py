"""PoolFormer Explorer: predictions, stage feature maps and Grad-CAM for PoolFormer models."""

from .analysis import Analysis, FeatureViews, Prediction, StageResult, analyze, grad_cam, resolve_target
from .errors import (
    ImageInputError,
    PoolFormerDemoError,
    UnknownTargetError,
    UnknownVariantError,
    WeightsUnavailableError,
)
from .images import PreparedImage, prepare_image
from .variants import DEFAULT_VARIANT, DEMO_VARIANT_NAME, HUB_VARIANTS, STAGE_STRIDES, VARIANTS, Variant, get_variant
from .weights import LoadedModel, ModelCache, default_cache, load_model

__all__ = [
    "Analysis",
    "DEFAULT_VARIANT",
    "DEMO_VARIANT_NAME",
    "FeatureViews",
    "HUB_VARIANTS",
    "ImageInputError",
    "LoadedModel",
    "ModelCache",
    "PoolFormerDemoError",
    "Prediction",
    "PreparedImage",
    "STAGE_STRIDES",
    "StageResult",
    "UnknownTargetError",
    "UnknownVariantError",
    "VARIANTS",
    "Variant",
    "WeightsUnavailableError",
    "analyze",
    "default_cache",
    "get_variant",
    "grad_cam",
    "load_model",
    "prepare_image",
    "resolve_target",
]
