"""Report figures as PNG (matplotlib, Agg backend: no display needed, same pixels on a cluster node).

- grouped_bars: one figure per benchmark and mode, tasks on x, one bar per entry, error bars = std over runs;
- cd_diagram: Demšar's critical-difference diagram (mean ranks on an axis, cliques closer than CD joined);
- learning_curves: a validation metric per epoch for a few runs (MLflow metric history, step = epoch).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot: never try to open a window
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

COLORS = plt.get_cmap("tab10").colors


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def grouped_bars(runs: pd.DataFrame, title: str, path: Path, labels: dict[str, str] | None = None,
                 colors: dict[str, tuple] | None = None) -> Path:
    """Mean ± std (×100) of `primary` per task (x) and entry (bar colour) over the given runs. Pass `colors`
    (entry → colour) so one model keeps its colour across figures."""
    stats = runs.groupby(["task", "entry"], sort=False)["primary"].agg(["mean", "std"]).mul(100.0)
    tasks = list(dict.fromkeys(runs["task"]))
    entries = sorted(dict.fromkeys(runs["entry"]))
    width = 0.8 / max(len(entries), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(tasks) + 2), 3.8))
    x = np.arange(len(tasks))
    for i, entry in enumerate(entries):
        means = [stats["mean"].get((t, entry), np.nan) for t in tasks]
        stds = [stats["std"].get((t, entry), np.nan) for t in tasks]
        ax.bar(x + (i - (len(entries) - 1) / 2) * width, means, width, yerr=np.nan_to_num(stds), capsize=2,
               label=entry, color=(colors or {}).get(entry, COLORS[i % len(COLORS)]), edgecolor="white",
               linewidth=0.5)
    names = [(labels or {}).get(t, t) for t in tasks]
    ax.set_xticks(x, names, rotation=30 if max(map(len, names)) > 10 else 0, ha="right" if max(map(len, names)) > 10 else "center")
    ax.set_ylabel("primary metric ×100")
    ax.set_ylim(*bar_limits(stats["mean"], stats["std"]))
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_title(title, fontsize=11)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # outside: never hides a bar
    return _save(fig, path)


def bar_limits(means: pd.Series, stds: pd.Series) -> tuple[float, float]:
    """y range of a bar chart: from 0 (bars start at 0, so their heights compare; lower for a negative MCC) to
    just above the highest mean + std, at most 100 (×100 scores)."""
    finite = means.dropna()
    if finite.empty:
        return 0.0, 100.0
    spread = stds.reindex(finite.index).fillna(0.0)
    low = min(0.0, float((finite - spread).min()) - 2.0)
    high = min(100.0, float((finite + spread).max()) + 3.0)
    return low, max(high, low + 1.0)


def palette(entries) -> dict[str, tuple]:
    """A fixed colour per entry (sorted), shared by every figure of a report."""
    return {entry: COLORS[i % len(COLORS)] for i, entry in enumerate(sorted(entries))}


def cd_diagram(mean_ranks: dict[str, float], cd: float, path: Path, title: str = "") -> Path:
    """Mean ranks on an axis from 1 (best, left) to k, the CD bar above it, each model's name on a leader line
    (better half on the left), and thick bars joining models whose mean ranks lie within CD of each other
    (not significantly different by the Nemenyi test)."""
    names = sorted(mean_ranks, key=mean_ranks.get)
    k = len(names)
    lo, hi = 1, max(k, int(np.ceil(max(mean_ranks.values()))))
    fig, ax = plt.subplots(figsize=(7.5, 1.4 + 0.32 * k))
    ax.set_xlim(lo - 0.3, hi + 0.3)
    ax.set_ylim(-(k // 2 + 2.2) * 0.5, 1.6)
    ax.axis("off")
    ax.hlines(0, lo, hi, color="black", linewidth=1)
    for r in range(lo, hi + 1):
        ax.vlines(r, 0, 0.12, color="black", linewidth=1)
        ax.text(r, 0.22, str(r), ha="center", va="bottom", fontsize=9)
    ax.hlines(1.15, lo, lo + cd, color="black", linewidth=1.5)
    ax.vlines([lo, lo + cd], 1.08, 1.22, color="black", linewidth=1.5)
    ax.text(lo + cd / 2, 1.27, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
    half = (k + 1) // 2
    for i, name in enumerate(names):
        rank = mean_ranks[name]
        left = i < half
        depth = -0.5 * ((i if left else k - 1 - i) + 1)
        end = lo - 0.25 if left else hi + 0.25
        ax.plot([rank, rank, end], [0, depth, depth], color=COLORS[i % len(COLORS)], linewidth=1)
        ax.text(end + (-0.05 if left else 0.05), depth, f"{name} ({rank:.2f})", ha="right" if left else "left",
                va="center", fontsize=9)
    for level, (first, last) in enumerate(_cliques(names, mean_ranks, cd)):
        y = -0.12 - 0.12 * level
        ax.hlines(y, mean_ranks[first] - 0.03, mean_ranks[last] + 0.03, color="black", linewidth=3)
    if title:
        ax.set_title(title, fontsize=10)
    return _save(fig, path)


def _cliques(names: list[str], ranks: dict[str, float], cd: float) -> list[tuple[str, str]]:
    """Maximal runs of consecutive models (by mean rank) whose extremes differ by less than CD."""
    found: list[tuple[int, int]] = []
    for i in range(len(names)):
        j = i
        while j + 1 < len(names) and ranks[names[j + 1]] - ranks[names[i]] < cd:
            j += 1
        if j > i and not any(a <= i and j <= b for a, b in found):
            found.append((i, j))
    return [(names[a], names[b]) for a, b in found]


def learning_curves(curves: dict[str, list[tuple[int, float]]], metric: str, path: Path, title: str = "") -> Path:
    """One line per run: `metric` (×100) against epoch."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for i, (name, points) in enumerate(curves.items()):
        if points:
            steps, values = zip(*points)
            ax.plot(steps, np.asarray(values) * 100, marker="o", markersize=3, label=name, color=COLORS[i % len(COLORS)])
    ax.set_xlabel("epoch")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel(f"{metric} ×100")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(title or f"learning curves: {metric}", fontsize=11)
    return _save(fig, path)


def pretraining_curves(histories: dict[str, dict[str, list[tuple[int, float]]]], panels: dict[str, str], path: Path,
                       floors: dict[str, dict[str, float]] | None = None, title: str = "") -> Path:
    """One panel per metric (`panels`: metric → axis label), one line per pretraining run, against the optimiser
    step; each line is a moving average over 2 % of the run (per-step values are noisy). `floors`: run → metric →
    a dashed reference level in that run's colour (the corpus's composition baseline, the uniform entropy)."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), squeeze=False)
    for ax, (metric, ylabel) in zip(axes[0], panels.items()):
        for i, (name, metrics) in enumerate(histories.items()):
            points = metrics.get(metric) or []
            if not points:
                continue
            steps, values = (np.asarray(v, dtype=float) for v in zip(*points))
            width = max(1, len(values) // 50)
            smooth = np.convolve(values, np.ones(width) / width, mode="valid")
            ax.plot(steps[width - 1:], smooth, label=name, color=COLORS[i % len(COLORS)], linewidth=1.2)
            level = (floors or {}).get(name, {}).get(metric)
            if level is not None:
                ax.axhline(level, color=COLORS[i % len(COLORS)], linestyle="--", linewidth=0.8)
        ax.set_xlabel("step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return _save(fig, path)
