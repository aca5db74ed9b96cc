"""Performance figures beside their targets (issue 20): every benchmark reports through `Figure`, so `make bench`
prints one table in which each measured value stands next to the target it is held against.

A figure is met when `value <= target` (`better="lower"`: seconds, MiB, ratios of cost) or `value >= target`
(`better="higher"`: throughput, speed-ups). `ratio` is value / target, so > 1 means over the target either way;
the table prints it so a miss says by how much.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    name: str  # what was measured, e.g. "suite models (cold)"
    value: float
    unit: str  # "s", "MiB", "x", "M bases/s", "%"
    target: float | None = None  # None: reported for context, no target
    better: str = "lower"  # "lower" | "higher"
    note: str = ""  # how it was measured, or why a target is missed

    @property
    def ratio(self) -> float | None:
        return None if not self.target else self.value / self.target

    @property
    def met(self) -> bool | None:
        if self.target is None:
            return None
        return self.value <= self.target if self.better == "lower" else self.value >= self.target


def _number(value: float) -> str:
    return f"{value:,.3g}" if abs(value) < 100 else f"{value:,.0f}"


def markdown(figures: list[Figure]) -> str:
    """The figures as a markdown table: figure | measured | target | ratio | met | note."""
    lines = ["| figure | measured | target | ratio | met | note |", "|---|---|---|---|---|---|"]
    for f in figures:
        target = "-" if f.target is None else ("≤ " if f.better == "lower" else "≥ ") + f"{_number(f.target)} {f.unit}"
        ratio = "-" if f.ratio is None else f"{f.ratio:.2f}"
        met = {None: "-", True: "yes", False: "**no**"}[f.met]
        lines.append(f"| {f.name} | {_number(f.value)} {f.unit} | {target} | {ratio} | {met} | {f.note} |")
    return "\n".join(lines)


def report(figures: list[Figure], title: str) -> None:
    """Print the table, and append the figures as JSON lines to $BENCH_OUT when set (`make bench` collects them
    into one table: benchmarks/collect.py)."""
    print(f"\n## {title}\n\n{markdown(figures)}\n", flush=True)
    out = os.environ.get("BENCH_OUT")
    if out:
        with Path(out).open("a") as handle:
            for f in figures:
                handle.write(json.dumps({"benchmark": title, **asdict(f)}) + "\n")
