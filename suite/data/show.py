"""`suite data show TASK`: what a task's data looks like (counts, class balance, length histogram)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rich.console import Group
from rich.table import Table

from suite.data.cache import load_split
from suite.data.sources import find
from suite.tasks.spec import TaskSpec

BAR = 40


def length_histogram(lengths: np.ndarray, bins: int = 10) -> list[tuple[str, int]]:
    """(range label, count) per bin; a single bin when every sequence has the same length."""
    lo, hi = int(lengths.min()), int(lengths.max())
    if lo == hi:
        return [(f"{lo}", len(lengths))]
    counts, edges = np.histogram(lengths, bins=bins)
    return [(f"{int(a)}-{int(b)}", int(c)) for a, b, c in zip(edges[:-1], edges[1:], counts)]


def describe(task: TaskSpec, data_dir: str | Path | None = None) -> Group:
    parts = []
    summary = Table(title=f"{task.name} ({task.benchmark}, metric {task.metric}, length policy {task.length_policy})")
    for column in ["split", "rows", "official", *task.classes, "min/median/max bp", "source"]:
        summary.add_column(column)
    histograms = []
    for split in task.splits:
        if find(task, split, data_dir) is None:
            summary.add_row(split, "missing", str(task.sizes.get(split)), *["-"] * task.n_classes, "-", "-")
            continue
        data = load_split(task, split, data_dir)
        counts = np.bincount(data.labels, minlength=task.n_classes)
        shares = [f"{c} ({100 * c / len(data):.1f}%)" for c in counts]
        lengths = data.lengths
        span = f"{lengths.min()}/{int(np.median(lengths))}/{lengths.max()}"
        summary.add_row(split, str(len(data)), str(task.sizes.get(split)), *shares, span, data.path)
        histograms.append((split, length_histogram(lengths)))
    parts.append(summary)
    for split, bins in histograms:
        hist = Table(title=f"{split}: length histogram (bp)")
        hist.add_column("length")
        hist.add_column("count", justify="right")
        hist.add_column("")
        top = max(c for _, c in bins)
        for label, count in bins:
            hist.add_row(label, str(count), "█" * round(BAR * count / top))
        parts.append(hist)
    return Group(*parts)
