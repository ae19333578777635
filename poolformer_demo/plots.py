"""Plots drawn with matplotlib, as pictures: the branch ratios of every block and the faithfulness
curves. Each uses its own Figure on the Agg canvas, never pyplot's global state, so plots can be
drawn by several server threads at once. Each takes a `scale` for its text: 1 for a screen,
PRESENTER_SCALE for a projector (presenter mode draws the same plot again, not zoomed)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .anatomy import BranchRatio
    from .token_mixer import StageCost

# Presenter mode's text scale: the smallest text of a plot drawn at 100 dpi (a legend's 8 pt) becomes
# 8 × 1.7 pt = 18.9 px, the size a projected page needs at the back of a room.
PRESENTER_SCALE = 1.7


def branch_ratio_plot(
    branches: tuple[BranchRatio, ...], highlight: tuple[int, int] | None = None, scale: float = 1.0, dpi: int = 100
) -> np.ndarray:
    """A line plot over every block of ||branch|| / ||stream|| for the token mixer and the channel
    MLP, stages shaded alternately; `highlight` (stage, block) marks one block. `scale` enlarges the
    text and markers (1.5 and up reads from the back of a room); `dpi` sets the pixels per inch of a
    plot at least 6 inches wide (a slide's needs about 270). An RGB array."""
    from matplotlib.figure import Figure

    positions = np.arange(len(branches))
    figure = Figure(figsize=(max(6.0, 0.28 * len(branches) + 2.5), 3.8 * min(scale, 1.5)), dpi=dpi)
    axes = figure.add_subplot()
    stages = [b.stage for b in branches]
    for stage in sorted(set(stages)):
        members = [i for i, s in enumerate(stages) if s == stage]
        if stage % 2 == 0:
            axes.axvspan(members[0] - 0.5, members[-1] + 0.5, color="0.93", zorder=0)
        axes.text(
            (members[0] + members[-1]) / 2,
            1.0,
            f"stage {stage}",
            transform=axes.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=8 * scale,
            color="0.35",
        )
    axes.plot(
        positions,
        [b.mixer_ratio for b in branches],
        "o-",
        color="tab:blue",
        markersize=4 * scale,
        label="token mixer's change ÷ stream (||ls1·mixer|| / ||x||)",
    )
    axes.plot(
        positions,
        [b.mlp_ratio for b in branches],
        "s-",
        color="tab:orange",
        markersize=4 * scale,
        label="channel MLP's change ÷ stream (||mlp|| / ||y||)",
    )
    if highlight is not None:
        chosen = [i for i, b in enumerate(branches) if (b.stage, b.block) == tuple(highlight)]
        for i in chosen:
            axes.axvline(i, color="0.4", linestyle=":", linewidth=1)
    axes.set_xticks(
        positions,
        [f"{b.stage}.{b.block}" for b in branches],
        fontsize=7 * scale,
        rotation=90 if len(branches) > 24 else 0,
    )
    axes.set_xlim(-0.5, len(branches) - 0.5)
    axes.set_ylim(bottom=0)
    axes.set_xlabel("block (stage.block)", fontsize=10 * scale)
    axes.set_ylabel("size of the change ÷ stream", fontsize=10 * scale)
    axes.tick_params(axis="y", labelsize=8 * scale)
    # Above the plot, beyond the stage names: never over a curve, whatever the values.
    axes.legend(fontsize=8 * scale, loc="lower center", bbox_to_anchor=(0.5, 1.07), ncol=1, frameon=False)
    figure.tight_layout()
    return figure_to_rgb(figure)


def enlarge_text(figure, scale: float) -> None:
    """Every text of `figure` (titles, labels, tick labels, legends) drawn `scale` times larger; a
    constrained layout then makes room for it."""
    if scale == 1:
        return
    from matplotlib.text import Text

    tick_sizes = [
        (ax, axis, axis.get_majorticklabels()[0].get_fontsize() if axis.get_majorticklabels() else None)
        for ax in figure.axes
        for axis in (ax.xaxis, ax.yaxis)
    ]
    for text in figure.findobj(Text):
        text.set_fontsize(text.get_fontsize() * scale)
    # Tick labels are made again at drawing time, from the axis' own setting.
    for ax, axis, size in tick_sizes:
        if size is not None:
            ax.tick_params(axis="x" if axis is ax.xaxis else "y", labelsize=size * scale)


def figure_to_rgb(figure) -> np.ndarray:
    """A matplotlib Figure drawn with an Agg canvas of its own, as an HxWx3 uint8 array."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def faithfulness_figure(report, titles: dict[str, str] | None = None, scale: float = 1.0):
    """Deletion and insertion curves of a faithfulness.FaithfulnessReport side by side, each
    method with its AUC in the legend, the random baseline as a mean line and a band (min to max
    over the random orders). Returns a matplotlib Figure (no pyplot state, safe in threads)."""
    from matplotlib.figure import Figure

    titles = titles or {}
    # Larger text: one legend entry a row, so the entries stay under their own plot.
    columns = 2 if scale < 1.3 else 1
    rows = -(-(len(report.methods) + 1) // columns)
    figure = Figure(figsize=(9, 3.2 + 0.18 * scale * (2 * rows + 1)), dpi=100, layout="constrained")
    axes = figure.subplots(1, 2, sharey=True)
    x = report.fractions
    random = report.random
    for ax, kind, better in ((axes[0], "deletion", "lower"), (axes[1], "insertion", "higher")):
        curves = getattr(random, kind)
        ax.fill_between(x, curves.min(axis=0), curves.max(axis=0), color="0.8", label=None)
        random_auc = getattr(random.mean, kind + "_auc")
        ax.plot(x, curves.mean(axis=0), color="0.4", linestyle="--", label=f"random ({random_auc:.3f})")
        for name, method_curves in report.methods.items():
            auc = getattr(method_curves, kind + "_auc")
            ax.plot(x, getattr(method_curves, kind), linewidth=1.8, label=f"{titles.get(name, name)} ({auc:.3f})")
        ax.set_title(f"{kind.capitalize()} (AUC, {better} is better)", fontsize=10)
        ax.set_xlabel("fraction of pixels " + ("removed" if kind == "deletion" else "inserted"))
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
        # Below the plot, so no curve is hidden behind it.
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=columns, frameon=False)
    axes[0].set_ylabel("target class probability")
    enlarge_text(figure, scale)
    return figure


def faithfulness_plot(report, titles: dict[str, str] | None = None, scale: float = 1.0) -> np.ndarray:
    """faithfulness_figure as an RGB array."""
    return figure_to_rgb(faithfulness_figure(report, titles, scale))


def mixing_cost_plot(costs: tuple[StageCost, ...], highlight: int | None = None, scale: float = 1.0) -> np.ndarray:
    """Reads per token at each stage: pooling's pool_size² (flat) against attention's N (the stage's
    token count), on a log scale, each point labelled with its number; `highlight` marks a stage.
    Type is 11 pt and up at `scale` 1 (1.6 reads from the back of a room). An RGB array."""
    from matplotlib.figure import Figure

    stages = np.arange(len(costs))
    figure = Figure(figsize=(5.2 * min(scale, 1.6), 3.4 * min(scale, 1.6)), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    # Attention's numbers above its points, pooling's below, so the two never overlap where they meet.
    for values, style, colour, label, offset in (
        ([c.attention_reads for c in costs], "s-", "tab:orange", "self-attention: N, every token", 7),
        ([c.pooling_reads for c in costs], "o-", "tab:blue", "pooling: pool_size², its window", -9),
    ):
        axes.plot(stages, values, style, color=colour, markersize=6 * scale, linewidth=2, label=label)
        for stage, value in zip(stages, values):
            axes.annotate(
                f"{value:,}",
                (stage, value),
                textcoords="offset points",
                xytext=(0, offset * scale),
                ha="center",
                va="bottom" if offset > 0 else "top",
                fontsize=10 * scale,
                color=colour,
            )
    if highlight is not None:
        axes.axvline(highlight - 1, color="0.5", linestyle=":", linewidth=1.5)
    axes.set_yscale("log")
    axes.set_ylim(1, max(c.attention_reads for c in costs) * 6)
    axes.set_xticks(stages, [f"stage {c.stage}\n{c.grid_size[0]}×{c.grid_size[1]}" for c in costs], fontsize=11 * scale)
    axes.tick_params(axis="y", labelsize=11 * scale)
    axes.set_ylabel("reads per token", fontsize=12 * scale)
    axes.legend(fontsize=11 * scale, loc="upper right", frameon=False)
    return figure_to_rgb(figure)
