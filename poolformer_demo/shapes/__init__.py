"""The offline shapes task: generated images with object masks (``data``), the budgeted training
loop (``train``), the bundled model's recipe (``checkpoint``) and the ablation lab (``lab``).

Command line: ``python -m poolformer_demo.shapes {train,examples,lab}``.
"""

from .data import (
    CLASS_NAMES,
    EXAMPLE_SEED_START,
    ID2LABEL,
    IMAGE_SIZE,
    LABEL2ID,
    TEST_SEED_START,
    TRAIN_SEED_START,
    VAL_SEED_START,
    ShapeArrays,
    ShapeSample,
    dilate,
    iter_samples,
    make_dataset,
    make_sample,
    pointing_game,
)

__all__ = [
    "CLASS_NAMES",
    "EXAMPLE_SEED_START",
    "ID2LABEL",
    "IMAGE_SIZE",
    "LABEL2ID",
    "TEST_SEED_START",
    "TRAIN_SEED_START",
    "VAL_SEED_START",
    "ShapeArrays",
    "ShapeSample",
    "dilate",
    "iter_samples",
    "make_dataset",
    "make_sample",
    "pointing_game",
]
