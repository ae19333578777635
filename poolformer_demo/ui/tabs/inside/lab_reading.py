"""The ablation lab's results in words, sentence by sentence, each decided by the numbers, so the
reading stays true when the reference results are made again. Nothing here imports Gradio."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ....shapes.arms import ARMS
from ....shapes.lab import LabResult
from ....shapes.lab_results import ArmSummary
from ....shapes.tasks import TASKS
from ....variants import get_variant

MIXER_ARMS = ("pooling", "identity", "random", "conv")
# What the pointing game asks Grad-CAM to point at, per task.
TARGETS = {"shapes": "the object", "pairs": "a disc"}
PAPER_BLOCKS = sum(get_variant("s12").depths)


def chance(task: str) -> float:
    """Accuracy of a guess: one over the task's classes."""
    return 1 / len(TASKS[task].class_names)


def pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def mean_spread(mean: float, std: float, seeds: int) -> str:
    """79.0 % ± 0.5 (the spread in percentage points); no spread for one seed."""
    return pct(mean) if seeds < 2 else f"{pct(mean)} ± {100 * std:.1f}"


def by_arm(summaries: Sequence[ArmSummary]) -> dict[str, ArmSummary]:
    return {s.arm: s for s in summaries}


def _beats(a: ArmSummary, b: ArmSummary) -> bool:
    """a's accuracy is above b's by more than the larger of their spreads over seeds."""
    return a.accuracy_mean - b.accuracy_mean > max(a.accuracy_std, b.accuracy_std)


def joined(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _short(title: str) -> str:
    """An arm's title without the model it makes: "identity (IdentityFormer)" -> "identity"."""
    return re.sub(r" \(.*\)$", "", title)


def _named(rows: Sequence[ArmSummary]) -> str:
    return joined([f"{_short(r.title)} ({pct(r.accuracy_mean)})" for r in rows])


def reading(result: LabResult, summaries: Sequence[ArmSummary]) -> tuple[str, ...]:
    """What the results show, sentence by sentence, each one decided by the numbers."""
    by = by_arm(summaries)
    pool = by.get("pooling")
    sentences = []
    mlp = by.get("no_mlp")
    mlp_lowest = mlp is not None and all(mlp.accuracy_mean < s.accuracy_mean for s in summaries if s is not mlp)
    if mlp is not None and pool is not None:
        if mlp_lowest:
            sentences.append(
                f"The channel MLP carries the model: without it, accuracy stays at {pct(mlp.accuracy_mean)} "
                f"(chance: {pct(chance(result.task))}) against {pct(pool.accuracy_mean)} with it, and the paper's "
                f"S12 falls to {mlp.paper_top1:g} % on ImageNet."
            )
        else:
            sentences.append(
                f"Without the channel MLP, accuracy is {pct(mlp.accuracy_mean)} (chance: {pct(chance(result.task))}) "
                f"against {pct(pool.accuracy_mean)} with it (the paper's S12: {mlp.paper_top1:g} %)."
            )
    mixers = [by[a] for a in MIXER_ARMS[1:] if a in by]
    if pool is not None and mixers:
        better = [m for m in mixers if _beats(m, pool)]
        worse = [m for m in mixers if _beats(pool, m)]
        ties = [m for m in mixers if m not in better and m not in worse]
        clauses = []
        if better:
            clauses.append(f"{_named(better)} beat{'s' if len(better) == 1 else ''} it")
        if ties:
            clauses.append(f"{_named(ties)} tie{'s' if len(ties) == 1 else ''} with it within the spread over seeds")
        if worse:
            clauses.append(f"{_named(worse)} fall{'s' if len(worse) == 1 else ''} behind it")
        # The paper's comparison is pooling against the mixers without weights; a learned depthwise
        # convolution is ahead of pooling there too (78.1 against 77.2 %).
        free_better = [m for m in better if m.arm != "conv"]
        if free_better:
            lead = "Pooling does not win at this tiny scale"
        elif better:
            lead = "As in the paper, only the learned depthwise convolution gets ahead of pooling"
        elif worse and any(t.accuracy_mean > pool.accuracy_mean for t in ties):
            lead = "Pooling is not clearly ahead at this scale"
        elif worse and ties:
            lead = "Pooling shares the lead at this scale"
        elif worse:
            lead = "Pooling wins at this scale"
        else:
            lead = "The token mixers tie at this scale"
        sentences.append(
            f"{lead}: with pooling at {pct(pool.accuracy_mean)} after {result.steps:,} steps, {joined(clauses)}."
        )
    # Seeds that never leave chance within the budget beside seeds that learn: the spread is that.
    level = chance(result.task)
    stuck = []
    for s in summaries:
        runs = result.runs_of(s.arm)
        if any(r.accuracy < level + 0.05 for r in runs) and any(r.accuracy > level + 0.2 for r in runs):
            low = min(runs, key=lambda r: r.accuracy)
            stuck.append(f"{_short(s.title)} (seed {low.seed}: {pct(low.accuracy)})")
    if stuck:
        sentences.append(
            f"Some seeds never leave chance within {result.steps:,} steps while others of the same arm learn: "
            f"{joined(stuck)}. Their spread over seeds is that, not noise around one value."
        )
    no_residual = by.get("no_residual")
    if no_residual is not None and pool is not None:
        blocks = sum(result.config.depths)
        with_residuals = [s for s in summaries if s.arm not in ("no_residual", "no_mlp")]
        best = max(with_residuals, key=lambda s: s.accuracy_mean, default=pool)
        if _beats(pool, no_residual):
            sentences.append(
                f"Without residual connections accuracy falls to {pct(no_residual.accuracy_mean)}, as the paper's "
                f"S12 does ({no_residual.paper_top1:g} %)."
            )
        elif _beats(best, no_residual):
            # Pooling may be too close, or its seeds too spread, to tell apart; the best block with
            # residuals still shows what they are worth.
            spread = ", whose seeds spread widely" if pool.accuracy_std > best.accuracy_std else ""
            sentences.append(
                f"Without residual connections accuracy is {pct(no_residual.accuracy_mean)}, below "
                f"{_short(best.title)} with them ({pct(best.accuracy_mean)}), though not clearly below pooling"
                f"{spread}; the paper's S12 falls to {no_residual.paper_top1:g} %."
            )
        else:
            sentences.append(
                f"Without residual connections this {blocks}-block network trains fine "
                f"({pct(no_residual.accuracy_mean)}): the paper's {no_residual.paper_top1:g} % is for the "
                f"{PAPER_BLOCKS}-block S12 on ImageNet, and the deeper a network, the more it needs the shortcuts "
                "to train at all."
            )
    if summaries:
        best = max(summaries, key=lambda s: s.pointing_mean)
        target = TARGETS.get(result.task, "the object")
        # The stronger of the two maps that know nothing is the bar: the centre on the shapes task
        # (objects are central), a random pixel on the pairs task (discs lie near the edges).
        if result.chance_pointing > result.centre_baseline:
            bar, baseline = "a map that peaks at a random pixel", result.chance_pointing
        else:
            bar, baseline = "a map that always peaks at the image centre", result.centre_baseline
        if best.pointing_mean < baseline:
            sentences.append(
                f"No arm's Grad-CAM points at {target} more often than {bar} ({pct(baseline)}; the best arm, "
                f"{_short(best.title)}, {pct(best.pointing_mean)}): trained on labels alone, none of these models "
                f"shows where {target} is, whichever mixer it has."
            )
        else:
            sentences.append(
                f"The {_short(best.title)} arm's Grad-CAM points at {target} more often "
                f"({pct(best.pointing_mean)}) than {bar} ({pct(baseline)})."
            )
    # The paper's claim holds here only if no other mixer falls behind pooling.
    mixers_hold = pool is not None and bool(mixers) and not any(_beats(pool, m) for m in mixers)
    paper_costs = [ARMS["pooling"].paper.top1 - ARMS[a].paper.top1 for a in ("identity", "random")]
    if mlp_lowest and mixers_hold:
        sentences.append(
            "That is the paper's point too: the block — norm, token mixer, residual, channel MLP — carries the "
            "model, not the particular mixer. On ImageNet, swapping pooling for the identity or a frozen random "
            f"matrix costs S12 {min(paper_costs):.1f} to {max(paper_costs):.1f} points; dropping the channel MLP "
            "costs almost everything."
        )
    return tuple(sentences)


def control_reading(
    main: Sequence[ArmSummary], control: Sequence[ArmSummary], steps: int, level: float
) -> tuple[str, ...]:
    """What the norm control shows beside the main results (PoolFormer's GroupNorm), each sentence
    decided by the numbers: does a network without a token mixer fall behind once the norm no
    longer spans positions? ``level`` is chance accuracy."""
    grouped, local = by_arm(main), by_arm(control)
    if not {"pooling", "identity"} <= set(grouped) & set(local):
        return ()
    pool_g, ident_g = grouped["pooling"], grouped["identity"]
    pool_p, ident_p = local["pooling"], local["identity"]
    figures = (
        f"with a per-position norm, identity reaches {pct(ident_p.accuracy_mean)} and pooling "
        f"{pct(pool_p.accuracy_mean)} after {steps:,} steps"
    )
    sentences = []
    if ident_g.accuracy_mean > level + 0.2 and not _beats(pool_g, ident_g):
        sentences.append(
            f"Without a token mixer the network still learned this task with PoolFormer's own norm (identity "
            f"{pct(ident_g.accuracy_mean)}, pooling {pct(pool_g.accuracy_mean)}): that GroupNorm takes one mean and "
            "one variance over every position of the image, so the norm itself carries a little information "
            "between positions, and a network can learn to compare two far-apart discs through it."
        )
    learned = level + 0.05
    # Said in full unless the sentence before named the path.
    path = "that path" if sentences else "the norm's path between positions (every norm per position)"
    if _beats(pool_p, ident_p) and pool_p.accuracy_mean >= learned:
        sentences.append(f"Take {path} away and the token mixer is needed: {figures}.")
    elif max(pool_p.accuracy_mean, ident_p.accuracy_mean) < learned:
        carried = (
            " In these small, briefly trained networks the norm, not the token mixer, carried one disc's colour to "
            "the other."
            if sentences
            else ""
        )
        sentences.append(f"Take {path} away and neither learns the task: {figures} (chance: {pct(level)}).{carried}")
    else:
        sentences.append(
            f"Even without the norm's path between positions, identity is not clearly behind pooling: {figures}."
        )
    return tuple(sentences)
