"""Published reference numbers: every CSV under reports/published/ (shipped in the wheel), one tidy row per cell.

Columns: model, task (a task name of ours, a group for averages, or empty), metric, mean, std (None when the
source gives none), source, table, setting. Three sources today: the FinDNA paper's tables (findna_paper.csv),
the DNABERT-2 paper's full GUE table (gue_dnabert2.csv) and genomic-benchmarks' own CNN and HyenaDNA accuracies
(genomic_benchmarks.csv). `quote_mismatches` finds the cells where the FinDNA paper
quotes a number for a model and task that its original source reports differently, so a report can show the
original and flag the difference instead of silently picking one.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache

from suite.cards import card_dir
from suite.errors import CardError

COLUMNS = ["model", "task", "metric", "mean", "std", "source", "table", "setting"]
ORIGINAL_SOURCE = {"T3": "DNABERT-2 Table 6 (arXiv v2)"}  # FinDNA table → the table its baselines quote


@dataclass(frozen=True)
class Published:
    model: str
    task: str
    metric: str
    mean: float
    std: float | None
    source: str
    table: str
    setting: str


@cache
def published() -> tuple[Published, ...]:
    rows = []
    for path in sorted(card_dir("reports/published").glob("*.csv")):
        with open(path, newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames != COLUMNS:
                raise CardError(f"{path}: columns {reader.fieldnames}", f"expected {','.join(COLUMNS)}")
            for line, row in enumerate(reader, start=2):
                try:
                    rows.append(Published(row["model"], row["task"], row["metric"], float(row["mean"]),
                                          float(row["std"]) if row["std"] else None, row["source"], row["table"],
                                          row["setting"]))
                except ValueError as exc:
                    raise CardError(f"{path}, line {line}: {exc}", "mean and std must be numbers") from exc
    return tuple(rows)


@dataclass(frozen=True)
class Mismatch:
    model: str
    task: str
    metric: str
    quoted: float  # as the FinDNA paper prints it
    original: float  # as the original source reports it
    quoted_in: str
    original_in: str


def quote_mismatches(rows: tuple[Published, ...] | None = None) -> list[Mismatch]:
    """Cells the FinDNA paper quotes from another paper with a different value than that paper reports."""
    rows = rows if rows is not None else published()
    found = []
    for table, original_table in ORIGINAL_SOURCE.items():
        originals = {(r.model, r.task, r.metric): r for r in rows if r.table == original_table}
        for quoted in (r for r in rows if r.table == table):
            original = originals.get((quoted.model, quoted.task, quoted.metric))
            if original is not None and abs(original.mean - quoted.mean) > 1e-9:
                found.append(Mismatch(quoted.model, quoted.task, quoted.metric, quoted.mean, original.mean,
                                      quoted.source, original.source))
    return found
