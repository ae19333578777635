"""PoolFormer Explorer: predictions, stage feature maps, the CAM family, attributions and their
faithfulness, and the inside of the MetaFormer block for PoolFormer models."""

from .analysis import Analysis, Prediction, StageResult, analyze, resolve_target
from .anatomy import BlockAnatomy, BranchRatio, block_anatomy
from .cams import CAM_METHODS, CamMethod, grad_cam
from .errors import (
    ComputationCancelled,
    ImageInputError,
    InvalidSettingError,
    PoolFormerDemoError,
    UnknownMethodError,
    UnknownTargetError,
    UnknownVariantError,
    WeightsUnavailableError,
)
from .images import PreparedImage, prepare_image
from .knockouts import Knockouts
from .receptive_field import ReceptiveField, receptive_field
from .render import FeatureViews, feature_views
from .variants import DEFAULT_VARIANT, HUB_VARIANTS, SHAPES_VARIANT_NAME, STAGE_COUNT, VARIANTS, Variant, get_variant
from .weights import LoadedModel, ModelCache, load_model, shared_cache

# The explanations need captum (about a second to import): they load on first use, so
# `import poolformer_demo` stays as quick as the app's start needs.
_LAZY = {
    "Attribution": "attributions",
    "Explanation": "explanation",
    "IntegratedGradientsSettings": "attributions",
    "OcclusionSettings": "attributions",
    "SmoothGradSettings": "attributions",
    "explain": "explanation",
    "score_faithfulness": "explanation",
    "FaithfulnessReport": "faithfulness",
    "FaithfulnessSettings": "faithfulness",
    "evaluate_faithfulness": "faithfulness",
    "SanityCheck": "sanity",
    "cascading_randomization": "sanity",
    "Comparison": "comparison",
    "VariantRun": "comparison",
    "compare": "comparison",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    *_LAZY,
    "Analysis",
    "BlockAnatomy",
    "BranchRatio",
    "CAM_METHODS",
    "CamMethod",
    "DEFAULT_VARIANT",
    "FeatureViews",
    "feature_views",
    "HUB_VARIANTS",
    "ComputationCancelled",
    "ImageInputError",
    "InvalidSettingError",
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
    "UnknownMethodError",
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
