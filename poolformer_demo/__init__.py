"""PoolFormer Explorer: predictions, stage feature maps, Grad-CAM and the inside of the MetaFormer block
for PoolFormer models."""

from .analysis import Analysis, FeatureViews, Prediction, StageResult, analyze, resolve_target
from .anatomy import BlockAnatomy, BranchRatio, block_anatomy
from .cams import CAM_METHODS, CamMethod, grad_cam
from .errors import (
    ImageInputError,
    PoolFormerDemoError,
    UnknownTargetError,
    UnknownVariantError,
    WeightsUnavailableError,
)
from .images import PreparedImage, prepare_image
from .knockouts import Knockouts
from .receptive_field import ReceptiveField, receptive_field
from .variants import DEFAULT_VARIANT, HUB_VARIANTS, SHAPES_VARIANT_NAME, STAGE_COUNT, VARIANTS, Variant, get_variant
from .weights import LoadedModel, ModelCache, load_model, shared_cache

__all__ = [
    "Analysis",
    "BlockAnatomy",
    "BranchRatio",
    "CAM_METHODS",
    "CamMethod",
    "DEFAULT_VARIANT",
    "FeatureViews",
    "HUB_VARIANTS",
    "ImageInputError",
    "Knockouts",
    "LoadedModel",
    "ModelCache",
    "PoolFormerDemoError",
    "Prediction",
    "PreparedImage",
    "ReceptiveField",
    "SHAPES_VARIANT_NAME",
    "STAGE_COUNT",
    "StageResult",
    "UnknownTargetError",
    "UnknownVariantError",
    "VARIANTS",
    "Variant",
    "WeightsUnavailableError",
    "analyze",
    "block_anatomy",
    "get_variant",
    "grad_cam",
    "load_model",
    "prepare_image",
    "receptive_field",
    "resolve_target",
    "shared_cache",
]
