"""The bundled shapes model's architecture, which the ablation lab's models vary."""

from __future__ import annotations

from transformers import PoolFormerConfig

from .data import CLASS_NAMES, ID2LABEL, LABEL2ID
from .train import TrainSettings

__all__ = ["shapes_config"]


def shapes_config(layer_scale_init_value: float = TrainSettings.layer_scale_init_value, **architecture):
    """The small four-stage ``PoolFormerConfig`` of the bundled shapes model; `architecture`
    overrides its settings (the ablation lab's tiny models are variations of it).

    At 128x128 input, the stages are 32x32, 16x16, 8x8 and 4x4 (strides 4, 2,
    2, 2).  The patch-embedding kernels are 8/4/4/4 (padding 2/1/1/1) rather
    than PoolFormer's 7/3/3/3: an odd kernel with stride 2 and padding 1
    centres each output cell's receptive field half an input cell up and to
    the left of the cell, which adds up to about 8 px at the 4x4 stage and
    shifts its feature maps and Grad-CAM relative to the image; even kernels
    keep every stage centred on its cells.
    """
    settings = {
        "num_channels": 3,
        "depths": [1, 1, 2, 1],
        "hidden_sizes": [32, 64, 96, 192],
        "patch_sizes": [8, 4, 4, 4],
        "strides": [4, 2, 2, 2],
        "padding": [2, 1, 1, 1],
        "pool_size": 3,
        "mlp_ratio": 4.0,
        "drop_path_rate": 0.0,
        "use_layer_scale": True,
        "layer_scale_init_value": float(layer_scale_init_value),
        "num_labels": len(CLASS_NAMES),
        "id2label": dict(ID2LABEL),
        "label2id": dict(LABEL2ID),
    }
    return PoolFormerConfig(**{**settings, **architecture})
