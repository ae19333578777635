"""The offline shapes task: generated images with object masks (``data``), the budgeted training
loop (``train``), the bundled model's recipe (``checkpoint``) and the ablation lab (``lab``).

Command line: ``python -m poolformer_demo.shapes {train,examples,lab}``.
"""

# The task's data, importable as `from poolformer_demo.shapes import make_sample, ...`.
from .data import *  # noqa: F403
from .data import __all__  # noqa: F401
