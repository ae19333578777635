"""The ablation lab: small MetaFormers that differ in one part, trained alike on a generated task.

Every arm (:data:`~poolformer_demo.shapes.arms.ARMS`) is trained with the same data, steps,
optimiser and seeds by :func:`~poolformer_demo.shapes.train.fit`, then scored on held-out images
(test seed range): accuracy, and the pointing game of the deepest stage's Grad-CAM for the true
class against the objects' masks.  Each task has one :class:`LabConfig` (:data:`LAB_CONFIGS`),
shared by its shipped reference run and by every live run, so a live run is one seed of the
reference, step for step.  :func:`run_lab` is the one entry point; the reference results
(``assets/lab/reference.json`` for the shapes task, ``assets/lab/reference_pairs.json`` for the
pairs task) are reproduced by::

    python -m poolformer_demo.shapes lab --reference --task shapes
    python -m poolformer_demo.shapes lab --reference --task pairs
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch
import torch.nn.functional as F

from ..analysis import grad_cam
from ..control import StopCheck, stop_requested
from ..device import compute_device, on_device
from .arms import ARM_NAMES, ARMS, build_arm_model, lab_architecture
from .data import IMAGE_SIZE, TEST_SEED_START, TRAIN_SEED_START, dilate, pointing_game
from .tasks import TASKS, cached_dataset
from .train import TrainSettings, accuracy, fit, to_pixel_values

__all__ = [
    "LAB_CONFIGS",
    "LAB_IMAGE_SIZE",
    "LIVE_SEEDS",
    "LIVE_STEPS",
    "REFERENCE_SEEDS",
    "REFERENCE_STEPS",
    "ArmRun",
    "CurvePoint",
    "LabConfig",
    "LabProgress",
    "LabResult",
    "deepest_cams",
    "run_lab",
]


@dataclass(frozen=True)
class LabConfig:
    """What every arm of a lab run shares: the task, the architecture, the data and the optimisation.

    The architecture is transformers' PoolFormer at S12's depths (2, 2, 6, 2) with small widths and
    PoolFormer's own patch embeddings (7x7 stride 4, then 3x3 stride 2).  At 128 px its stages are
    32x32, 16x16, 8x8 and 4x4 tokens; through its patch embeddings alone (no token mixing) a
    stage-4 position sees a 63 px square of the image (7 + 2 * (4 + 8 + 16)), so no position sees
    any part of both discs of the pairs task (at least 72 px apart).  Every arm of a task gets the
    same budget, ``steps`` (about 2 minutes per 600 steps on one CPU thread), with the learning
    rate's warmup and cosine decay spread over it.  A live run trains the first
    ``live_steps`` of that same schedule, so that it is compared step for step with the reference:
    every run's held-out accuracy is measured every ``eval_every`` steps as well as at its end.
    """

    task: str = "shapes"
    image_size: int = 128
    steps: int = 600
    depths: tuple[int, ...] = (2, 2, 6, 2)
    hidden_sizes: tuple[int, ...] = (16, 32, 48, 64)
    patch_sizes: tuple[int, ...] = (7, 3, 3, 3)
    strides: tuple[int, ...] = (4, 2, 2, 2)
    padding: tuple[int, ...] = (2, 1, 1, 1)
    train_size: int = 4000
    eval_size: int = 300
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_fraction: float = 0.04
    grad_clip: float = 1.0
    norm: str = "group"
    """The blocks' norm: "group" (PoolFormer's, statistics over all positions) or "position" (each
    position over its channels: the control in which only the token mixer moves information)."""
    live_steps: int = 300
    """A live run's budget: the first steps of the schedule, about two minutes for two arms on two cores."""
    eval_every: int = 100
    """How often (in steps) a run's held-out accuracy is measured."""
    curve_points: int = 30
    """How many points each training curve of ``steps`` keeps (each the mean over its window of steps)."""
    tolerance_px: int = 3
    """Pointing game: how far (in pixels of the 128 px mask) a peak may miss the object."""


# One configuration per task, for the reference and the live runs alike: the same network, data
# and live budget on both tasks.  At 600 steps every arm of the shapes task was still learning
# (training accuracy rising in the last window; the pooling arm's held-out accuracy spread from
# 34 to 59 % over three seeds), so its reference trains twice as long; the pairs task is learned
# or not well before 600.
LAB_CONFIGS: dict[str, LabConfig] = {
    "shapes": LabConfig(task="shapes", steps=1200),
    "pairs": LabConfig(task="pairs", steps=600),
}
LAB_IMAGE_SIZE = LAB_CONFIGS["shapes"].image_size
REFERENCE_STEPS = LAB_CONFIGS["shapes"].steps
LIVE_STEPS = LAB_CONFIGS["shapes"].live_steps
LIVE_SEEDS: tuple[int, ...] = (0,)
REFERENCE_SEEDS: tuple[int, ...] = (0, 1, 2)


@dataclass(frozen=True)
class CurvePoint:
    step: int
    """The last step of the window."""
    loss: float
    """Mean training loss over the window."""
    accuracy: float
    """Mean training-batch accuracy over the window."""


@dataclass(frozen=True)
class ArmRun:
    """One arm trained with one seed, and how it scores on held-out images."""

    arm: str
    seed: int
    steps: int
    accuracy: float
    pointing_game: float
    """The fraction of held-out images whose deepest-stage Grad-CAM (true class) peaks on the object."""
    curve: tuple[CurvePoint, ...]
    parameters: int
    """Trainable parameters."""
    seconds: float
    """Training time (the held-out measurements along the way included)."""
    held_out: tuple[tuple[int, float], ...] = ()
    """(step, held-out accuracy) every ``eval_every`` steps and at the end."""

    def held_out_at(self, step: int) -> float | None:
        """The held-out accuracy measured after ``step`` steps, if it was."""
        return dict(self.held_out).get(step)

    def to_json(self) -> dict:
        """The run as plain JSON data, its curve and held-out measurements as columns."""
        return {
            "arm": self.arm,
            "seed": self.seed,
            "steps": self.steps,
            "accuracy": self.accuracy,
            "pointing_game": self.pointing_game,
            "parameters": self.parameters,
            "seconds": self.seconds,
            "curve": {
                "step": [p.step for p in self.curve],
                "loss": [p.loss for p in self.curve],
                "accuracy": [p.accuracy for p in self.curve],
            },
            "held_out": {"step": [step for step, _ in self.held_out], "accuracy": [a for _, a in self.held_out]},
        }


@dataclass(frozen=True)
class LabProgress:
    """What :func:`run_lab` tells its progress callback after every training step."""

    arm: str
    seed: int
    run: int
    """The index of the current run, from 0."""
    runs: int
    step: int
    steps: int
    loss: float
    accuracy: float
    seconds: float
    """Since the lab started."""
    curve: tuple[CurvePoint, ...]
    """The current run's curve so far."""
    finished: tuple[ArmRun, ...]

    @property
    def fraction(self) -> float:
        """The share of the whole lab's training steps done."""
        return (self.run * self.steps + self.step) / max(1, self.runs * self.steps)


@dataclass(frozen=True)
class LabResult:
    """A lab run: every finished (arm, seed) run, and what they shared."""

    arms: tuple[str, ...]
    seeds: tuple[int, ...]
    steps: int
    image_size: int
    config: LabConfig
    runs: tuple[ArmRun, ...]
    stopped: bool
    seconds: float
    """Wall time of the whole lab: data, training and evaluation."""
    centre_baseline: float
    """The pointing game of a map that always peaks at the image centre, on the same images."""
    chance_pointing: float = 0.0
    """The pointing game of a map that peaks at a uniformly random pixel: the objects' mean share of the image."""

    @property
    def task(self) -> str:
        return self.config.task

    def runs_of(self, arm: str) -> tuple[ArmRun, ...]:
        return tuple(r for r in self.runs if r.arm == arm)

    def to_json(self) -> dict:
        """The lab as plain JSON data, every run (ArmRun.to_json) with its curve and held-out
        measurements: what the reference files hold (lab_results.save_result, read back by
        lab_results.result_from_json) and what the lab's endpoints give."""
        return {
            "arms": list(self.arms),
            "seeds": list(self.seeds),
            "steps": self.steps,
            "image_size": self.image_size,
            "config": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self.config).items()},
            "stopped": self.stopped,
            "wall_seconds": self.seconds,
            "centre_baseline": self.centre_baseline,
            "chance_pointing": self.chance_pointing,
            "runs": [run.to_json() for run in self.runs],
        }


def run_lab(
    arms: Sequence[str] = ARM_NAMES,
    steps: int | None = None,
    seeds: Sequence[int] = LIVE_SEEDS,
    image_size: int | None = None,
    *,
    config: LabConfig | None = None,
    progress: Callable[[LabProgress], None] | None = None,
    should_stop: StopCheck | None = None,
) -> LabResult:
    """Train every arm in ``arms`` once per seed on ``config``'s task and score it.

    ``steps`` and ``image_size`` default to ``config``'s (the shapes task's
    :data:`LAB_CONFIGS` entry by default).  Fewer ``steps`` train the first steps of ``config``'s
    schedule, comparable with the reference at the same step; more stretch the schedule, and the
    run is no longer comparable with the reference.  Every run sees the same training images (read
    from the dataset cache after the first time); its seed sets initialisation, batch order and
    augmentation.  ``progress`` is called after every training step; ``should_stop`` (a callable,
    or a flag with ``is_set``) is checked before every step and ends the lab early: the result
    then holds the runs finished before it, with ``stopped=True``.
    """
    config = config or LAB_CONFIGS["shapes"]
    steps = config.steps if steps is None else int(steps)
    image_size = config.image_size if image_size is None else int(image_size)
    config = replace(config, steps=max(steps, config.steps), image_size=image_size)
    arms, seeds = tuple(arms), tuple(int(s) for s in seeds)
    unknown = [a for a in arms if a not in ARMS]
    if unknown or not arms or not seeds or steps < 1:
        raise ValueError(
            f"need known arms ({', '.join(ARM_NAMES)}), seeds and steps >= 1; got {arms}, {seeds}, {steps}"
        )
    if config.task not in TASKS:
        raise ValueError(f"unknown task {config.task!r}; choose from {', '.join(TASKS)}")
    started = time.perf_counter()
    train_data = cached_dataset(config.task, config.train_size, TRAIN_SEED_START, image_size)
    test_data = cached_dataset(config.task, config.eval_size, TEST_SEED_START, image_size)
    architecture = lab_architecture(config)
    settings = TrainSettings(
        batch_size=config.batch_size,
        lr=config.lr,
        weight_decay=config.weight_decay,
        warmup_fraction=config.warmup_fraction,
        grad_clip=config.grad_clip,
        seg_weight=0.0,
    )
    plan = [(arm, seed) for seed in seeds for arm in arms]
    # Windows of the schedule's length, so that a shorter run's points fall on the reference's steps.
    window = max(1, config.steps // config.curve_points)
    finished: list[ArmRun] = []

    def train_one(index: int, arm: str, seed: int) -> ArmRun | None:
        """One arm with one seed, scored; None when the lab was stopped during its training."""
        model = build_arm_model(arm, architecture, image_size, seed, config.norm).to(compute_device())
        losses: list[float] = []
        accuracies: list[float] = []
        curve: list[CurvePoint] = []
        held_out: list[tuple[int, float]] = []

        def report(r) -> None:
            losses.append(r.loss)
            accuracies.append(r.accuracy)
            if r.step % window == 0 or r.step == r.total_steps:
                curve.append(_point(r.step, losses[-window:], accuracies[-window:]))
            if r.step % config.eval_every == 0 or r.step == r.total_steps:
                held_out.append((r.step, accuracy(model, test_data.images, test_data.labels)))
            if progress is not None:
                progress(
                    LabProgress(
                        arm,
                        seed,
                        index,
                        len(plan),
                        r.step,
                        steps,
                        r.loss,
                        r.accuracy,
                        time.perf_counter() - started,
                        tuple(curve),
                        tuple(finished),
                    )
                )

        fitted = fit(
            model,
            train_data,
            steps,
            replace(settings, seed=seed),
            progress=report,
            should_stop=should_stop,
            schedule_steps=config.steps,
        )
        if fitted.stopped:
            return None
        cams = deepest_cams(model, test_data.images, test_data.labels, IMAGE_SIZE)
        return ArmRun(
            arm=arm,
            seed=seed,
            steps=fitted.steps,
            accuracy=held_out[-1][1],
            pointing_game=float(pointing_game(cams, test_data.masks, config.tolerance_px).mean()),
            curve=tuple(curve),
            parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
            seconds=fitted.seconds,
            held_out=tuple(held_out),
        )

    stopped = False
    for index, (arm, seed) in enumerate(plan):
        run = None if stop_requested(should_stop) else train_one(index, arm, seed)
        if run is None:
            stopped = True
            break
        finished.append(run)
    centre = IMAGE_SIZE // 2
    grown = [dilate(m, config.tolerance_px) for m in test_data.masks]
    return LabResult(
        arms=arms,
        seeds=seeds,
        steps=steps,
        image_size=image_size,
        config=config,
        runs=tuple(finished),
        stopped=stopped,
        seconds=time.perf_counter() - started,
        centre_baseline=float(np.mean([g[centre, centre] for g in grown])),
        chance_pointing=float(np.mean([g.mean() for g in grown])),
    )


def deepest_cams(model, images_uint8: np.ndarray, labels: np.ndarray, size: int, batch_size: int = 100) -> np.ndarray:
    """Grad-CAM of the deepest stage for each image's class in ``labels``, upsampled to ``size`` px (N, size, size).

    The formula is :func:`poolformer_demo.analysis.grad_cam`; images in a batch do not interact
    (group norm is per image), so one backward pass serves a whole batch.
    """
    was_training = model.training
    model.eval()
    cams = []
    for i in range(0, len(labels), batch_size):
        # The input asks for gradients so that a graph is built even for a model with frozen parameters.
        pixel_values = on_device(to_pixel_values(images_uint8[i : i + batch_size]), model).requires_grad_(True)
        target = torch.as_tensor(labels[i : i + batch_size], device=pixel_values.device).view(-1, 1)
        with torch.enable_grad():
            outputs = model(pixel_values=pixel_values, output_hidden_states=True)
            deepest = outputs.hidden_states[-1]
            (gradient,) = torch.autograd.grad(outputs.logits.gather(1, target).sum(), deepest)
        raw = torch.stack([grad_cam(a, g) for a, g in zip(deepest.detach(), gradient)])
        cams.append(F.interpolate(raw[:, None], size=(size, size), mode="bilinear", align_corners=False)[:, 0])
    model.train(was_training)
    return torch.cat(cams).cpu().numpy()


def _point(step: int, losses: Sequence[float], accuracies: Sequence[float]) -> CurvePoint:
    return CurvePoint(step, float(np.mean(losses)), float(np.mean(accuracies)))
