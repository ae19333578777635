"""Small MetaFormers that differ from PoolFormer in one part, for the ablation lab.

Each arm is transformers' ``PoolFormerForImageClassification`` with one part of every block
swapped, following the ablations of "MetaFormer is Actually What You Need for Vision" (Yu et al.,
CVPR 2022, Table 5) and "MetaFormer Baselines for Vision" (Yu et al., 2022):

* the token mixer in ``PoolFormerLayer.pooling``: pooling ``AvgPool(x) - x`` (PoolFormer), the
  identity (Table 5's identity row; IdentityFormer keeps the same norm), a frozen random
  token-mixing matrix in every stage (Table 5's random row; RandFormer mixes so in stages 3-4 only),
  or a depthwise 3x3 convolution (as in the paper's ablation; ConvFormer uses larger separable ones);
* the channel MLP in ``PoolFormerLayer.output``: kept, or replaced by a branch that adds nothing;
* the residual connections: kept, or dropped by :class:`NoResidualLayer`, a ``PoolFormerLayer``
  whose ``forward`` omits the two additions but uses the same submodules.

Apart from the arms, every norm can be swapped (``norm="position"``), as a control: PoolFormer's
``GroupNorm`` with one group normalises each image by one mean and one variance over all its
positions and channels, so even a network whose token mixer is the identity can pass information
between positions through them (IdentityFormer, RandFormer and PoolFormerV2 of the later paper keep
that norm); :class:`PositionNorm` normalises each position over its channels alone (the LayerNorm
row of Table 5, and the norm of the later paper's ConvFormer and CAFormer), so that only the token
mixer moves information.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import PoolFormerConfig, PoolFormerForImageClassification
from transformers.models.poolformer.modeling_poolformer import PoolFormerLayer

from ..knockouts import ZeroBranch
from ..variants import PAPER_S12_ABLATIONS, PaperResult
from .architecture import shapes_config
from .tasks import TASKS
from .train import init_weights

__all__ = [
    "ARMS",
    "ARM_NAMES",
    "MAX_RANDOM_TOKENS",
    "Arm",
    "GlobalMeanMixing",
    "NoResidualLayer",
    "NORMS",
    "PositionNorm",
    "RandomMixing",
    "build_arm_model",
    "lab_architecture",
    "stage_grids",
]

# A stage with more tokens keeps the identity instead of a random matrix: the matrix grows with the
# square of the token count. At the lab's 128 px the first stage has 32x32 = 1024 tokens, so every
# stage gets a random matrix; RandFormer keeps the identity in stages 1-2 whatever the image size.
MAX_RANDOM_TOKENS = 1024


@dataclass(frozen=True)
class Arm:
    """One arm of the lab: the PoolFormer block with at most one part changed."""

    name: str
    title: str
    mixer: str = "pooling"
    """``pooling``, ``identity``, ``random``, ``conv`` or ``global``."""
    mlp: bool = True
    residual: bool = True
    paper_setting: str | None = "pooling (PoolFormer-S12)"
    """The same change in :data:`~poolformer_demo.variants.PAPER_S12_ABLATIONS` (Table 5); None where
    the papers trained no such model."""
    paper_difference: str = "none in the block: PoolFormer-S12's one-group GroupNorm and 3x3 pooling"
    """How this arm's block differs from the models the papers trained with the same change (every arm
    also differs in size, images, budget and a layer scale starting at 1.0 instead of 1e-5)."""

    @property
    def paper(self) -> PaperResult | None:
        """The same change trained on ImageNet-1k at S12 size (MetaFormer, Table 5), if it was."""
        return next((r for r in PAPER_S12_ABLATIONS if r.setting == self.paper_setting), None)


ARMS: dict[str, Arm] = {
    arm.name: arm
    for arm in (
        Arm("pooling", "pooling (PoolFormer)"),
        Arm(
            "identity",
            "identity (no token mixer)",
            mixer="identity",
            paper_setting="identity mapping",
            paper_difference=(
                "keeps PoolFormer's one-group GroupNorm, as Table 5's identity row and IdentityFormer-S12 do "
                "(its norm also spans (H, W, C)), so information still passes between positions through the norms"
            ),
        ),
        Arm(
            "random",
            "frozen random matrix, every stage",
            mixer="random",
            paper_setting="global random matrix",
            paper_difference=(
                "a frozen random matrix in all four stages at 128 px; RandFormer-S12 keeps the identity in "
                "stages 1-2 and mixes randomly in stages 3-4 only"
            ),
        ),
        Arm(
            "conv",
            "depthwise 3x3 conv",
            mixer="conv",
            paper_setting="depthwise convolution",
            paper_difference="a depthwise 3x3 convolution, as Table 5's row; ConvFormer uses 7x7 separable ones",
        ),
        Arm(
            "no_mlp",
            "pooling, no channel MLP",
            mlp=False,
            paper_setting="no channel MLP",
            paper_difference="none in the block: the channel MLP removed from every block, as Table 5's row",
        ),
        Arm(
            "no_residual",
            "pooling, no residuals",
            residual=False,
            paper_setting="no residual connection",
            paper_difference=(
                "layer scale starts at 1.0: at S12's 1e-5 the chain without residuals shrinks its signal to "
                "exactly zero within the first three stages, so every image gets the same answer before training"
            ),
        ),
        Arm(
            "global",
            "global mean (mean of all positions − x)",
            mixer="global",
            paper_setting=None,
            paper_difference="no paper trained it: PoolFormer's pooling window grown to the whole stage",
        ),
    )
}
# The ablation lab's arms, each one of Table 5's changes; ARMS also holds the global-mean mixer, which
# the papers did not train and only the norm x mixer grid (lab_grid.py) uses.
ARM_NAMES: tuple[str, ...] = tuple(name for name, arm in ARMS.items() if arm.paper_setting is not None)


class RandomMixing(nn.Module):
    """A frozen random token-mixing matrix (as RandFormer's): every output token is a fixed random
    weighted average of all tokens of the stage (rows of softmax(uniform noise), as in the paper).

    The matrix is a buffer, so no optimiser can change it.
    """

    def __init__(self, height: int, width: int, generator: torch.Generator | None = None):
        super().__init__()
        tokens = height * width
        self.height, self.width = height, width
        self.register_buffer("matrix", torch.softmax(torch.rand(tokens, tokens, generator=generator), dim=-1))

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        b, c, h, w = hidden_states.shape
        if (h, w) != (self.height, self.width):
            raise ValueError(f"this mixer was built for {self.height}x{self.width} tokens, got {h}x{w}")
        return (hidden_states.reshape(b, c, h * w) @ self.matrix.T).reshape(b, c, h, w)

    def extra_repr(self) -> str:
        return f"tokens={self.height}x{self.width}, frozen"


class GlobalMeanMixing(nn.Module):
    """``mean over all positions - x``: PoolFormer's mixer with the pooling window grown to the whole
    stage, so that every position reaches every other in one block whatever the norm."""

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        return hidden_states.mean(dim=(2, 3), keepdim=True) - hidden_states


class PositionNorm(nn.Module):
    """LayerNorm over the channels of each position of a (batch, channels, height, width) map, with a
    weight and bias per channel: no statistic spans more than one position."""

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = eps

    def forward(self, hidden_states: torch.Tensor) -> torch.Tensor:
        mean = hidden_states.mean(dim=1, keepdim=True)
        variance = hidden_states.var(dim=1, keepdim=True, unbiased=False)
        normalised = (hidden_states - mean) / torch.sqrt(variance + self.eps)
        return normalised * self.weight[:, None, None] + self.bias[:, None, None]


# "group": PoolFormer's own GroupNorm (one group: statistics over all positions and channels);
# "position": PositionNorm in its place, in every block and before the classifier.
NORMS: tuple[str, ...] = ("group", "position")


class NoResidualLayer(PoolFormerLayer):
    """``PoolFormerLayer`` without its two residual additions: the same submodules, chained.

    ``x -> layer_scale_1 * mixer(before_norm(x)) -> layer_scale_2 * MLP(after_norm(.))``.
    """

    def forward(self, hidden_states):
        if not self.use_layer_scale:
            raise ValueError("the lab's blocks use layer scale")
        mixed = self.drop_path(self.layer_scale_1[:, None, None] * self.pooling(self.before_norm(hidden_states)))
        output = self.drop_path(self.layer_scale_2[:, None, None] * self.output(self.after_norm(mixed)))
        return (output,)


def stage_grids(config: PoolFormerConfig, image_size: int) -> tuple[int, ...]:
    """The side of each stage's square token grid for ``image_size`` inputs (convolution arithmetic)."""
    sides, side = [], image_size
    for kernel, stride, padding in zip(config.patch_sizes, config.strides, config.padding):
        side = (side + 2 * padding - kernel) // stride + 1
        sides.append(side)
    return tuple(sides)


def build_arm_model(arm: Arm | str, config: PoolFormerConfig, image_size: int, seed: int = 0, norm: str = "group"):
    """A freshly initialised ``PoolFormerForImageClassification`` for ``config`` with ``arm``'s part
    swapped, and with every norm a :class:`PositionNorm` when ``norm`` is "position".

    Initialisation depends on ``seed`` only (the global torch generator is left alone): He-normal
    convolutions as for the bundled model, a normal(0, ``initializer_range``) classifier, and the
    random mixing matrices.
    """
    arm = ARMS[arm] if isinstance(arm, str) else arm
    if arm.mixer not in ("pooling", "identity", "random", "conv", "global"):
        raise ValueError(f"unknown token mixer {arm.mixer!r}")
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r}; choose from {', '.join(NORMS)}")
    model = PoolFormerForImageClassification(config)
    generator = torch.Generator().manual_seed(seed)
    for stage, (layers, side) in enumerate(zip(model.poolformer.encoder.block, stage_grids(config, image_size))):
        channels = config.hidden_sizes[stage]
        for index in range(len(layers)):
            if not arm.residual:
                layers[index] = NoResidualLayer(
                    config, channels, config.pool_size, channels, int(channels * config.mlp_ratio), 0.0
                )
            layer = layers[index]
            if arm.mixer == "identity" or (arm.mixer == "random" and side * side > MAX_RANDOM_TOKENS):
                layer.pooling = nn.Identity()
            elif arm.mixer == "random":
                layer.pooling = RandomMixing(side, side, generator)
            elif arm.mixer == "global":
                layer.pooling = GlobalMeanMixing()
            elif arm.mixer == "conv":
                layer.pooling = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
            if not arm.mlp:
                layer.output = ZeroBranch("output")
            if norm == "position":
                layer.before_norm, layer.after_norm = PositionNorm(channels), PositionNorm(channels)
    if norm == "position":
        model.norm = PositionNorm(config.hidden_sizes[-1])
    init_weights(model, seed)
    with torch.no_grad():
        model.classifier.weight.copy_(
            torch.randn(model.classifier.weight.shape, generator=generator) * config.initializer_range
        )
        model.classifier.bias.zero_()
    return model


def lab_architecture(config) -> PoolFormerConfig:
    """The lab's ``PoolFormerConfig`` for a :class:`~poolformer_demo.shapes.lab.LabConfig`: its depths,
    widths and patch embeddings, with its task's labels.

    Layer scale starts at 1.0 in every arm, as in the bundled models. At transformers' default
    (1e-5) a block without residuals shrinks its input about 1e-5 times once its values are below the
    norms' eps (each norm then divides by the square root of eps, not by the spread, undoing one of
    the two layer scales); in float32 the no-residual arm's map is exactly zero before the end of
    stage 3 and every image gets the same logits before training, which is not the paper's point.
    """
    task = TASKS[config.task]
    return shapes_config(
        1.0,
        depths=list(config.depths),
        hidden_sizes=list(config.hidden_sizes),
        patch_sizes=list(config.patch_sizes),
        strides=list(config.strides),
        padding=list(config.padding),
        num_labels=len(task.class_names),
        id2label=task.id2label,
        label2id=task.label2id,
    )
