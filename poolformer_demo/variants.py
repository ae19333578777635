"""The PoolFormer variants as data.

Figures are from "MetaFormer is Actually What You Need for Vision" (Yu et al., CVPR 2022),
Table 1: ImageNet-1k top-1 at 224 px, parameters and MACs of the released checkpoints. The S12
ablations are its Table 5 and two rows of "MetaFormer Baselines for Vision" (Yu et al., TPAMI 2024),
each with what its norms normalise over.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import UnknownVariantError
from .i18n import Said

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"


@dataclass(frozen=True)
class BundledFacts:
    """A bundled model's training and measurements, read from ``training.json`` (written by
    ``python -m poolformer_demo.shapes train``) and ``measurement.json`` (written by ``... measure
    --write``) in its folder, so the pages quote the numbers of the model that is shipped."""

    task: str
    steps: int
    batch_size: int
    train_images: int
    aid_weight: float
    """Weight of the auxiliary loss that taught the deepest stage where the object is; 0: labels only."""
    seed: int
    held_out_images: int
    accuracy: float
    pointing_game: float
    """How often the deepest stage's Grad-CAM for the true class peaks on an object (3 px tolerance)."""
    centre_baseline: float
    """The same for a map that always peaks at the image centre."""
    chance_pointing: float
    """The same for a map that peaks at a random pixel."""
    macs: int
    """Multiply-accumulates of one forward pass at ``image_px``."""
    image_px: int
    mixer_off_changed: float
    """The share of held-out answers that change with the token mixer off in every stage."""
    mixer_off_accuracy: float
    fixed_norm_changed: float
    """The share of held-out answers that change when every norm's mean and variance are fixed to
    their averages over other images: what the model passes between positions through its norms."""
    fixed_norm_accuracy: float
    theoretical_field_px: int
    """How far a central stage-4 position sees through the patch embeddings alone."""
    # Measured since the norms' path was found; None where an older measurement.json lacks them.
    fixed_norm_answer: str | None = None
    """The answer given most often with the norms' statistics fixed."""
    fixed_norm_answer_share: float | None = None
    """The share of held-out images given that answer (1.0: one answer for every image)."""
    swap_other_to_donor: float | None = None
    """With each image's norm statistics taken from an image of another label: the share of answers
    that become the donor's label."""
    swap_other_stage_to_donor: tuple[float, ...] | None = None
    """The same with one stage's norms swapped at a time, stage 1 first."""
    swap_same_kept: float | None = None
    """With the statistics from an image of the same label: the share of answers kept."""
    shuffled_changed: tuple[float, ...] | None = None
    """The share of answers that change with the positions shuffled after each patch embedding."""
    object_in_middle_window: float | None = None
    """The share of held-out images whose whole object lies in a middle stage-4 position's window."""
    object_in_some_window: float | None = None
    """The share whose whole object lies in some stage-4 position's window."""

    @property
    def labels_only(self) -> bool:
        return self.aid_weight == 0

    @property
    def training_note(self) -> str:
        """How the model was trained, and its stage-4 pointing game beside two maps that know nothing
        (a `Said`: a page says it in its language)."""
        baselines = sorted(
            (
                (self.centre_baseline, "training.baseline.centre"),
                (self.chance_pointing, "training.baseline.random"),
            ),
            reverse=True,
        )
        first, second = (Said(key, share=100 * share) for share, key in baselines)
        numbers = {
            "steps": self.steps,
            "batch": self.batch_size,
            "images": self.train_images,
            "target": Said(f"pointing.target.{'pairs' if self.task == 'pairs' else 'shapes'}"),
            "pointing": 100 * self.pointing_game,
            "held_out": self.held_out_images,
            "against": Said("training.against", first=first, second=second),
        }
        if self.labels_only:
            return Said("training.labels", **numbers)
        return Said("training.aid", weight=self.aid_weight, **numbers)

    @classmethod
    def read(cls, folder: Path) -> BundledFacts | None:
        """The facts in ``folder``, or None when either file is missing."""
        import json

        try:
            trained = json.loads((folder / "training.json").read_text())
            measured = json.loads((folder / "measurement.json").read_text())
            return cls._from(trained, measured)
        except (OSError, ValueError, KeyError, TypeError):
            # Missing, unreadable or from an older version: the model still runs, without its facts.
            return None

    @classmethod
    def _from(cls, trained: dict, measured: dict) -> BundledFacts:
        field = measured["field"]
        other, same = measured.get("swap_other_label") or {}, measured.get("swap_same_label") or {}
        return cls(
            task=trained["task"],
            steps=trained["steps"],
            batch_size=trained["batch_size"],
            train_images=trained["train_images"],
            aid_weight=trained["seg_weight"],
            seed=trained["seed"],
            held_out_images=measured["images"],
            accuracy=measured["accuracy"],
            pointing_game=measured["pointing_game"],
            centre_baseline=measured["centre_baseline"],
            chance_pointing=measured["chance_pointing"],
            macs=measured["macs"],
            image_px=field["image_size"],
            mixer_off_changed=measured["mixer_off_changed"],
            mixer_off_accuracy=measured["mixer_off_accuracy"],
            fixed_norm_changed=measured["fixed_norm_changed"],
            fixed_norm_accuracy=measured["fixed_norm_accuracy"],
            theoretical_field_px=field["theoretical_px"],
            fixed_norm_answer=measured.get("fixed_norm_answer"),
            fixed_norm_answer_share=measured.get("fixed_norm_answer_share"),
            swap_other_to_donor=other.get("to_donor_label"),
            swap_other_stage_to_donor=_tuple(other.get("stage_to_donor_label")),
            swap_same_kept=same.get("kept"),
            shuffled_changed=_tuple(measured.get("shuffled_changed")),
            object_in_middle_window=measured.get("object_in_middle_window"),
            object_in_some_window=measured.get("object_in_some_window"),
        )


def _tuple(values) -> tuple | None:
    return None if values is None else tuple(values)


@dataclass(frozen=True)
class Variant:
    name: str
    depths: tuple[int, int, int, int]
    hidden_sizes: tuple[int, int, int, int]
    params_m: float
    macs_g: float | None
    top1: float | None
    crop_pct: float = 0.9
    """The fraction of the resized image the released processor crops (0.9 S, 0.95 M)."""
    hub_id: str | None = None
    # A folder shipped with the project; variants with one never touch the hub.
    bundled_dir: Path | None = None
    description: str = ""
    bundled: BundledFacts | None = None
    """How a bundled model was trained and how it measures on held-out images."""

    @property
    def training(self) -> str:
        """How a bundled model was trained, said wherever its answers and maps appear ("" for hub models)."""
        return self.bundled.training_note if self.bundled is not None else ""

    @property
    def title(self) -> str:
        """A one-line label for menus: name, size and accuracy."""
        if self.top1 is None:
            return f"{self.name} · {self.description}"
        return f"{self.name} · {self.params_m:g}M params · {self.top1:g}% ImageNet top-1"

    @property
    def menu_label(self) -> str:
        """A label short enough for a narrow menu."""
        if self.top1 is None:
            return f"{self.name} · offline, {self.description.split(',')[0]}"
        return f"{self.name.upper()} · {self.params_m:g}M · {self.top1:g}% top-1"


def _hub(name: str, depths, hidden_sizes, params_m: float, macs_g: float, top1: float, crop_pct: float) -> Variant:
    return Variant(
        name=name,
        depths=tuple(depths),
        hidden_sizes=tuple(hidden_sizes),
        params_m=params_m,
        macs_g=macs_g,
        top1=top1,
        crop_pct=crop_pct,
        hub_id=f"sail/poolformer_{name}",
        description="ImageNet-1k",
    )


_S_WIDTHS = (64, 128, 320, 512)
_M_WIDTHS = (96, 192, 384, 768)

HUB_VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        _hub("s12", (2, 2, 6, 2), _S_WIDTHS, 12, 1.8, 77.2, 0.9),
        _hub("s24", (4, 4, 12, 4), _S_WIDTHS, 21, 3.4, 80.3, 0.9),
        _hub("s36", (6, 6, 18, 6), _S_WIDTHS, 31, 5.0, 81.4, 0.9),
        _hub("m36", (6, 6, 18, 6), _M_WIDTHS, 56, 8.8, 82.1, 0.95),
        _hub("m48", (8, 8, 24, 8), _M_WIDTHS, 73, 11.6, 82.5, 0.95),
    )
}

SHAPES_VARIANT_NAME = "shapes"
SHAPES_DIR = ASSETS_DIR / "demo_shapes"
PAIRS_VARIANT_NAME = "pairs"
PAIRS_DIR = ASSETS_DIR / "demo_pairs"
# Earlier releases called the bundled model "demo"; API callers that still do keep working.
_ALIASES = {"demo": SHAPES_VARIANT_NAME}


def _bundled_variant(name: str, folder: Path, description: str) -> Variant:
    """A model bundled in ``folder``; its architecture is read from its own files."""
    import json

    config_path = folder / "config.json"
    processor_path = folder / "preprocessor_config.json"
    config = json.loads(config_path.read_text()) if config_path.is_file() else {}
    processor = json.loads(processor_path.read_text()) if processor_path.is_file() else {}
    return Variant(
        name=name,
        depths=tuple(config.get("depths", (0, 0, 0, 0))),
        hidden_sizes=tuple(config.get("hidden_sizes", (0, 0, 0, 0))),
        params_m=round(_count_params(folder / "model.safetensors") / 1e6, 2),
        macs_g=None,
        top1=None,
        crop_pct=processor.get("crop_pct", 1.0),
        bundled_dir=folder,
        description=description,
        bundled=BundledFacts.read(folder),
    )


def _count_params(weights_file: Path) -> int:
    # Reading tensor shapes from the safetensors header avoids building a model to fill a menu.
    if not weights_file.is_file():
        return 0
    from safetensors import safe_open

    total = 0
    with safe_open(str(weights_file), framework="np") as f:
        for key in f.keys():  # noqa: SIM118 - a safetensors handle is not iterable
            count = 1
            for dim in f.get_slice(key).get_shape():
                count *= dim
            total += count
    return total


VARIANTS: dict[str, Variant] = {
    **HUB_VARIANTS,
    SHAPES_VARIANT_NAME: _bundled_variant(SHAPES_VARIANT_NAME, SHAPES_DIR, "six shapes, offline"),
    PAIRS_VARIANT_NAME: _bundled_variant(PAIRS_VARIANT_NAME, PAIRS_DIR, "two discs, same colour or not, offline"),
}
# The bundled models by the task they were trained on (the folder's name says it too).
TASK_VARIANTS: dict[str, str] = {"shapes": SHAPES_VARIANT_NAME, "pairs": PAIRS_VARIANT_NAME}
DEFAULT_VARIANT = "s12"
# Every PoolFormer has as many stages as its depths say (four); the deepest is the one shown large and
# explained by default. Menus and defaults are built before any model is loaded, so they read it here.
STAGE_COUNT = len(HUB_VARIANTS[DEFAULT_VARIANT].depths)


def get_variant(name: str) -> Variant:
    """The registry entry for `name` (case-insensitive, "poolformer_" prefix allowed)."""
    key = str(name).strip().lower().removeprefix("sail/").removeprefix("poolformer_")
    key = _ALIASES.get(key, key)
    try:
        return VARIANTS[key]
    except KeyError:
        known = ", ".join(VARIANTS)
        raise UnknownVariantError(Said("error.variant", name=repr(name), known=known)) from None


@dataclass(frozen=True)
class PaperResult:
    """One ImageNet-1k top-1 accuracy (%) of an S12-sized MetaFormer trained with one part changed."""

    group: str
    """What was changed: "token mixer", "pool size", "normalisation", "activation" or "block"."""
    setting: str
    top1: float
    source: str
    norm: str = ""
    """What its norms normalise over, and so whether they carry anything between positions."""
    note: str = ""
    """Anything else in which the model differs from PoolFormer-S12 with that one change."""


_TABLE5 = "MetaFormer (Yu et al., CVPR 2022), Table 5"
_BASELINES = "MetaFormer Baselines for Vision (Yu et al., TPAMI 2024)"
# Table 5's normalisation rows: PoolFormer's own norm, and LayerNorm over each position's channels.
GROUP_NORM_SETTING = "GroupNorm, one group (PoolFormer-S12)"
POSITION_NORM_SETTING = "LayerNorm"
# PoolFormer's GroupNorm with one group: one mean and one variance per image over all its positions and
# channels, so every normalised value depends on the whole image.
ONE_GROUP_NORM = "one mean and variance per image over (H, W, C): every position depends on the whole image"
_LAYER_NORM = "per position over its channels (C): nothing passes between positions"
# How the later paper's S12 models differ from PoolFormer-S12 besides their token mixer.
_LATER_BLOCK = "StarReLU, residual scaling in stages 3-4, norms without bias, and the later paper's training recipe"
_BATCH_NORM = "per channel over the batch and positions (B, H, W) in training; fixed running statistics at test time"

# Each model was trained from scratch without (or with another) part: what the architecture can
# learn, not what a trained PoolFormer does when the part is switched off afterwards.
PAPER_S12_ABLATIONS: tuple[PaperResult, ...] = (
    PaperResult("token mixer", "pooling (PoolFormer-S12)", 77.2, _TABLE5, ONE_GROUP_NORM),
    PaperResult("token mixer", "identity mapping", 74.3, _TABLE5, ONE_GROUP_NORM),
    PaperResult("token mixer", "global random matrix", 75.8, _TABLE5, ONE_GROUP_NORM),
    PaperResult("token mixer", "depthwise convolution", 78.1, _TABLE5, ONE_GROUP_NORM),
    PaperResult("pool size", "3 (PoolFormer-S12)", 77.2, _TABLE5, ONE_GROUP_NORM),
    PaperResult("pool size", "5", 77.2, _TABLE5, ONE_GROUP_NORM),
    PaperResult("pool size", "7", 77.1, _TABLE5, ONE_GROUP_NORM),
    PaperResult("pool size", "9", 76.8, _TABLE5, ONE_GROUP_NORM),
    PaperResult("normalisation", GROUP_NORM_SETTING, 77.2, _TABLE5, ONE_GROUP_NORM),
    PaperResult("normalisation", POSITION_NORM_SETTING, 76.5, _TABLE5, _LAYER_NORM),
    PaperResult("normalisation", "BatchNorm", 76.4, _TABLE5, _BATCH_NORM),
    PaperResult("activation", "GELU (PoolFormer-S12)", 77.2, _TABLE5, ONE_GROUP_NORM),
    PaperResult("activation", "ReLU", 76.4, _TABLE5, ONE_GROUP_NORM),
    PaperResult("block", "no residual connection", 0.1, _TABLE5, ONE_GROUP_NORM),
    PaperResult("block", "no channel MLP", 5.7, _TABLE5, ONE_GROUP_NORM),
    PaperResult(
        "token mixer",
        "identity (IdentityFormer-S12)",
        74.6,
        _BASELINES,
        ONE_GROUP_NORM,
        f"no token mixer in any stage; {_LATER_BLOCK}",
    ),
    PaperResult(
        "token mixer",
        "random mixing (RandFormer-S12)",
        76.6,
        _BASELINES,
        ONE_GROUP_NORM,
        f"the identity in stages 1-2, a frozen random matrix in stages 3-4 only; {_LATER_BLOCK}",
    ),
)


def paper_result(setting: str) -> PaperResult:
    """The row of :data:`PAPER_S12_ABLATIONS` for ``setting``."""
    try:
        return next(r for r in PAPER_S12_ABLATIONS if r.setting == setting)
    except StopIteration:
        raise KeyError(f"no paper row for {setting!r}") from None


def norm_path_points() -> float:
    """On ImageNet, what PoolFormer-S12 gains from its norm's path between positions: Table 5's
    one-group GroupNorm against its per-position LayerNorm, in points of top-1."""
    return round(paper_result(GROUP_NORM_SETTING).top1 - paper_result(POSITION_NORM_SETTING).top1, 1)
