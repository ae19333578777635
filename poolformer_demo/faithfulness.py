"""How faithful is an attribution map to the model? Scores that perturb the image in the map's order.

Deletion and insertion (Petsiuk et al., "RISE", BMVC 2018): rank the pixels by attribution,
highest first; in `steps` equal steps, replace the top-ranked pixels with a substrate (deletion)
or put them back into a blurred copy of the image (insertion), and follow the target class's
probability. A faithful map makes the deletion curve fall fast (low area under it) and the
insertion curve rise fast (high area). Deletion uses Petsiuk et al.'s substrate, zeros of the
normalised input (the mean colour). Insertion starts from a Gaussian blur stronger than their
11 px kernel with sigma 5: the bundled shapes model still names 40 of 40 held-out shapes
blurred that way (mean target probability 0.999), which would pin every insertion curve at 1;
with a 41 px kernel and sigma 10 it names 7 of 40 (mean probability 0.21). Every perturbed
image is batched through the model.

A random-attribution baseline (the same curves for several random pixel orders) says what a
map that knows nothing scores; a method is only worth looking at if it beats that.

ROAD (Rong et al., ICML 2022) from pytorch-grad-cam, on request: pixels are removed by noisy
linear imputation instead of a fixed substrate, which avoids the out-of-distribution artefacts
of deletion; the score (ROADCombined) is the mean over percentiles of
(probability change when the least relevant pixels are removed - change when the most relevant
are removed) / 2, higher is better. It solves a sparse linear system per percentile, about a
second per solve for a 224 px image, so it is off by default.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torchvision.transforms.functional import gaussian_blur

from .blocks import LogitsOnly
from .control import ProgressCallback, StopCheck, check_stop
from .errors import InvalidSettingError
from .i18n import Said
from .json_data import nested_list, rounded_seconds

RANDOM = "random"


@dataclass(frozen=True)
class FaithfulnessSettings:
    steps: int = 20
    """Equal steps from no pixel to every pixel; each curve has steps + 1 points."""
    random_orders: int = 3
    """Random pixel orders averaged for the baseline."""
    batch_size: int = 32
    """Perturbed images per forward pass."""
    blur_kernel: int = 41
    blur_sigma: float = 10.0
    seed: int = 0
    """Seeds the random orders and the random tie-breaking between equal attributions."""
    road: bool = False
    road_percentiles: tuple[int, ...] = (20, 40, 60, 80)


@dataclass(frozen=True)
class Curves:
    deletion: np.ndarray
    """[steps + 1] target probability after removing the top fraction `fractions[i]` of pixels."""
    insertion: np.ndarray
    """[steps + 1] target probability after inserting it into the blurred image."""
    deletion_auc: float
    insertion_auc: float


@dataclass(frozen=True)
class RandomBaseline:
    deletion: np.ndarray
    """[orders, steps + 1], one curve per random order."""
    insertion: np.ndarray
    deletion_auc: np.ndarray
    """[orders]."""
    insertion_auc: np.ndarray

    @property
    def mean(self) -> Curves:
        return Curves(
            self.deletion.mean(axis=0),
            self.insertion.mean(axis=0),
            float(self.deletion_auc.mean()),
            float(self.insertion_auc.mean()),
        )


@dataclass(frozen=True)
class FaithfulnessReport:
    target: int
    fractions: np.ndarray
    """[steps + 1] fraction of pixels removed (deletion) or inserted (insertion), 0 to 1."""
    methods: dict[str, Curves]
    random: RandomBaseline
    road: dict[str, float] | None
    """ROADCombined per method and for "random" (one random map), or None when not asked for."""
    settings: FaithfulnessSettings
    seconds: float

    @property
    def steps(self) -> int:
        return len(self.fractions) - 1

    @property
    def substrate(self) -> dict[str, str]:
        kernel, sigma = self.settings.blur_kernel, self.settings.blur_sigma
        return {
            "deletion": Said("faithfulness.substrate.deletion"),
            "insertion": Said("faithfulness.substrate.insertion", kernel=kernel, sigma=sigma),
        }

    def to_json(self) -> dict:
        """The report as plain JSON data: per method {"deletion_auc", "insertion_auc"[, "road"],
        "deletion_curve", "insertion_curve"}; "random": the baseline's mean AUCs with their spread
        over the orders; "fractions" (the curves' x), "steps", "substrate", "settings", "target",
        "seconds"."""
        out: dict = {}
        for name, curves in self.methods.items():
            out[name] = {"deletion_auc": float(curves.deletion_auc), "insertion_auc": float(curves.insertion_auc)}
            if self.road is not None:
                out[name]["road"] = float(self.road[name])
            out[name]["deletion_curve"] = nested_list(curves.deletion)
            out[name]["insertion_curve"] = nested_list(curves.insertion)
        mean = self.random.mean
        out[RANDOM] = {
            "deletion_auc": mean.deletion_auc,
            "insertion_auc": mean.insertion_auc,
            "deletion_auc_std": float(self.random.deletion_auc.std()),
            "insertion_auc_std": float(self.random.insertion_auc.std()),
            "orders": int(self.random.deletion_auc.shape[0]),
        }
        if self.road is not None:
            out[RANDOM]["road"] = float(self.road[RANDOM])
        out["fractions"] = nested_list(self.fractions)
        out["steps"] = self.steps
        out["substrate"] = {side: str(said) for side, said in self.substrate.items()}
        out["settings"] = {**asdict(self.settings), "road_percentiles": list(self.settings.road_percentiles)}
        out["target"] = int(self.target)
        out["seconds"] = rounded_seconds(self.seconds)
        return out


def beats_random(report: FaithfulnessReport, name: str) -> tuple[bool, bool]:
    """Whether a method beats the random baseline's mean on deletion (lower AUC) and on insertion
    (higher AUC)."""
    curves, random = report.methods[name], report.random.mean
    return curves.deletion_auc < random.deletion_auc, curves.insertion_auc > random.insertion_auc


def verdict(report: FaithfulnessReport, name: str) -> str:
    """Whether a method beats the random baseline's mean on deletion (lower) and insertion (higher)."""
    deletion, insertion = beats_random(report, name)
    if deletion and insertion:
        return "beats random on both"
    if deletion:
        return "beats random on deletion only"
    if insertion:
        return "beats random on insertion only"
    return "no better than random"


def area_under_curve(values: np.ndarray) -> float:
    """Trapezoidal area under a curve sampled at equal steps over [0, 1] (Petsiuk et al.'s `auc`)."""
    values = np.asarray(values, dtype=np.float64)
    return float((values.sum() - values[0] / 2 - values[-1] / 2) / (len(values) - 1))


def pixel_ranks(attribution: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """[H, W] rank of each pixel, 0 for the highest attribution; equal values in random order
    (a ReLU'd CAM has many zeros, which must not be removed top row first)."""
    flat = np.asarray(attribution, dtype=np.float64).ravel()
    order = np.lexsort((rng.random(flat.size), -flat))
    ranks = np.empty(flat.size, dtype=np.int64)
    ranks[order] = np.arange(flat.size)
    return ranks.reshape(np.shape(attribution))


class _Runner:
    """Target probabilities of batches of perturbed images, with progress and a stop check."""

    def __init__(self, model, target: int, batch_size: int, total_images: int, progress, should_stop):
        self.model = model
        self.target = target
        self.batch_size = batch_size
        self.total = max(1, total_images)
        self.done = 0
        self.progress = progress
        self.should_stop = should_stop

    def probabilities(self, images: torch.Tensor) -> np.ndarray:
        out = []
        for start in range(0, images.shape[0], self.batch_size):
            check_stop(self.should_stop, Said("stopped.faithfulness"))
            batch = images[start : start + self.batch_size]
            with torch.no_grad():
                logits = self.model(pixel_values=batch).logits
            out.append(logits.float().softmax(dim=-1)[:, self.target])
            self.done += batch.shape[0]
            if self.progress is not None:
                self.progress(min(1.0, self.done / self.total), Said("progress.deletion_insertion"))
        return torch.cat(out).cpu().numpy().astype(np.float64)


def _curves(runner: _Runner, pixel_values, substrate, blurred, ranks: np.ndarray, counts: np.ndarray, ends) -> Curves:
    # The end points (nothing or everything perturbed) are the same for every order; only the
    # inner steps are run for each map.
    inner = (
        torch.from_numpy(ranks[None] < counts[1:-1, None, None])
        .unsqueeze(1)
        .to(pixel_values.device, pixel_values.dtype)
    )
    deleted = pixel_values * (1 - inner) + substrate * inner
    inserted = blurred * (1 - inner) + pixel_values * inner
    probabilities = runner.probabilities(torch.cat([deleted, inserted]))
    middle = len(counts) - 2
    deletion = np.concatenate([[ends[0]], probabilities[:middle], [ends[1]]])
    insertion = np.concatenate([[ends[2]], probabilities[middle:], [ends[3]]])
    return Curves(deletion, insertion, area_under_curve(deletion), area_under_curve(insertion))


def evaluate_faithfulness(
    model,
    pixel_values: torch.Tensor,
    target: int,
    maps: Mapping[str, np.ndarray],
    settings: FaithfulnessSettings = FaithfulnessSettings(),
    progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
) -> FaithfulnessReport:
    """Deletion and insertion curves and areas for each [H, W] map (crop size, higher = more
    important), the random baseline, and ROAD if `settings.road`. The model is only called."""
    if settings.steps < 2 or settings.random_orders < 1 or settings.batch_size < 1:
        raise InvalidSettingError("Faithfulness needs at least 2 steps, 1 random order and a batch size of 1 or more.")
    started = time.perf_counter()
    height, width = pixel_values.shape[-2:]
    for name, values in maps.items():
        if np.shape(values) != (height, width):
            raise InvalidSettingError(f"The {name} map is {np.shape(values)}, not the crop's {(height, width)}.")
    pixel_values = pixel_values.detach()
    substrate = torch.zeros_like(pixel_values)
    blurred = gaussian_blur(pixel_values, [settings.blur_kernel] * 2, [settings.blur_sigma] * 2)
    counts = np.round(np.linspace(0, height * width, settings.steps + 1)).astype(np.int64)
    rng = np.random.default_rng(settings.seed)

    orders = len(maps) + settings.random_orders
    runner = _Runner(model, target, settings.batch_size, 3 + orders * 2 * (settings.steps - 1), progress, should_stop)
    # deletion starts at the image and ends at the substrate; insertion from the blur to the image.
    original, empty, blur_only = runner.probabilities(torch.cat([pixel_values, substrate, blurred]))
    ends = (original, empty, blur_only, original)

    methods = {
        name: _curves(runner, pixel_values, substrate, blurred, pixel_ranks(values, rng), counts, ends)
        for name, values in maps.items()
    }
    random_maps = [rng.random((height, width)) for _ in range(settings.random_orders)]
    random_curves = [
        _curves(runner, pixel_values, substrate, blurred, pixel_ranks(values, rng), counts, ends)
        for values in random_maps
    ]
    random = RandomBaseline(
        deletion=np.stack([c.deletion for c in random_curves]),
        insertion=np.stack([c.insertion for c in random_curves]),
        deletion_auc=np.array([c.deletion_auc for c in random_curves]),
        insertion_auc=np.array([c.insertion_auc for c in random_curves]),
    )
    road = None
    if settings.road:
        road = road_scores(
            model, pixel_values, target, {**maps, RANDOM: random_maps[0]}, settings.road_percentiles, settings.seed
        )
    return FaithfulnessReport(
        target=target,
        fractions=counts / (height * width),
        methods=methods,
        random=random,
        road=road,
        settings=settings,
        seconds=time.perf_counter() - started,
    )


def road_scores(
    model,
    pixel_values: torch.Tensor,
    target: int,
    maps: Mapping[str, np.ndarray],
    percentiles: tuple[int, ...] = (20, 40, 60, 80),
    seed: int = 0,
) -> dict[str, float]:
    """pytorch-grad-cam's ROADCombined on the target class's probability, per map (higher is
    more faithful). Each map's imputation noise comes from a generator seeded with `seed`: the same
    draws, in the same order, as ROADCombined under torch.manual_seed(seed), without touching torch's
    global generator."""
    from pytorch_grad_cam.metrics import road
    from pytorch_grad_cam.metrics.perturbation_confidence import (
        PerturbationConfidenceMetric,
        RemoveLeastRelevantFirst,
        RemoveMostRelevantFirst,
    )
    from pytorch_grad_cam.metrics.road import NoisyLinearImputer
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputSoftmaxTarget
    from scipy.sparse import csc_matrix
    from scipy.sparse.linalg import spsolve

    class GeneratorImputer(NoisyLinearImputer):
        """NoisyLinearImputer's infilling, its noise drawn from `generator`."""

        def __init__(self, generator: torch.Generator):
            super().__init__()
            self.generator = generator

        def __call__(self, img: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            flat = img.reshape(img.shape[0], -1)
            missing = np.argwhere(mask.reshape(-1) == 0).flatten()
            a, b = NoisyLinearImputer.setup_sparse_system(mask.numpy(), img.numpy(), road.neighbors_weights)
            solution = torch.tensor(spsolve(csc_matrix(a), b), dtype=torch.float).t()
            filled = flat.clone()
            noise = torch.randn(solution.shape, generator=self.generator, dtype=solution.dtype)
            filled[:, missing] = solution + self.noise * noise
            return filled.reshape_as(img)

    logits = LogitsOnly(model)
    targets = [ClassifierOutputSoftmaxTarget(target)]
    scores = {}
    for name, values in maps.items():
        imputer = GeneratorImputer(torch.Generator().manual_seed(seed))
        cams = np.asarray(values, np.float32)[None]

        def mean_change(removal, imputer=imputer, cams=cams) -> np.ndarray:
            changes = [
                PerturbationConfidenceMetric(removal(p, imputer))(pixel_values.detach(), cams, targets, logits)
                for p in percentiles
            ]
            return np.mean(np.float32(changes), axis=0)

        # ROADCombined: least relevant first, then most relevant first, in that order of draws.
        # The imputer hands torch tensors to numpy, which numpy 2 warns about on every call.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "__array_wrap__", DeprecationWarning)
            least = mean_change(RemoveLeastRelevantFirst)
            most = mean_change(RemoveMostRelevantFirst)
        scores[name] = float(np.asarray((least - most) / 2).ravel()[0])
    return scores
