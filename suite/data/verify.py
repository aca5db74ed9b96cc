"""`suite data verify`: is the data on disk the official data?

Per split: present or MISSING; the sha256 against the data folder's MANIFEST.tsv (path, rows, sha256) when it
lists the file; the row count against the card's official size; every sequence encodable. A split failing any
check is CORRUPT. Per task: exact duplicate sequences across its splits (leakage), counted, never dropped here.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import cache
from itertools import combinations
from pathlib import Path

from suite.data.cache import apply_length_policy, digest
from suite.data.encode import encode
from suite.data.formats import LOADERS
from suite.data.sources import data_roots, find
from suite.errors import SuiteError
from suite.tasks.spec import TaskSpec

OK, MISSING, CORRUPT = "OK", "MISSING", "CORRUPT"


@dataclass
class SplitCheck:
    split: str
    status: str
    expected_rows: int | None
    rows: int | None = None
    path: str = ""
    detail: str = ""
    n_iupac: int = 0


@dataclass
class TaskCheck:
    task: str
    splits: list[SplitCheck]
    duplicates: dict[str, int] = field(default_factory=dict)  # "train/test" → rows of test also in train

    @property
    def status(self) -> str:
        statuses = {s.status for s in self.splits}
        return CORRUPT if CORRUPT in statuses else MISSING if MISSING in statuses else OK

    def present(self) -> list[str]:
        return [s.split for s in self.splits if s.status != MISSING]


@cache
def manifest(root: Path) -> dict[str, tuple[int, str]]:
    """relative path → (rows, sha256) from <root>/MANIFEST.tsv (empty when there is none)."""
    path = root / "MANIFEST.tsv"
    if not path.is_file():
        return {}
    with open(path, newline="") as handle:
        return {row["path"]: (int(row["rows"]), row["sha256"]) for row in csv.DictReader(handle, delimiter="\t")}


def manifest_entry(path: Path, data_dir: str | Path | None) -> tuple[int, str] | None:
    for root, _ in data_roots(data_dir):
        try:
            relative = path.resolve().relative_to(root.resolve())
        except ValueError:
            continue
        return manifest(root.resolve()).get(str(relative))
    return None


def check_split(task: TaskSpec, split: str, data_dir: str | Path | None = None) -> tuple[SplitCheck, list[str]]:
    """The check of one split and its sequences (upper-cased; empty when missing or corrupt)."""
    expected = task.sizes.get(split)
    hit = find(task, split, data_dir)
    if hit is None:
        return SplitCheck(split, MISSING, expected), []
    check = SplitCheck(split, OK, expected, path=str(hit.path))
    try:
        sha = digest(hit.path)
        listed = manifest_entry(hit.path, data_dir)
        if listed and listed[1] != sha:
            check.status, check.detail = CORRUPT, f"sha256 {sha[:12]}… differs from MANIFEST {listed[1][:12]}…"
            return check, []
        raw = LOADERS.get(task.format).read(hit.path, task, split)
        check.rows = len(raw.labels)
        check.n_iupac = encode(apply_length_policy(raw.sequences, task), source=str(raw.path)).n_iupac
    except SuiteError as exc:
        check.status, check.detail = CORRUPT, exc.line()
        return check, []
    if expected is not None and check.rows != expected:
        check.status, check.detail = CORRUPT, f"{check.rows} rows, official size is {expected}"
    return check, [s.upper() for s in raw.sequences]


def verify_task(task: TaskSpec, data_dir: str | Path | None = None) -> TaskCheck:
    checks, sequences = [], {}
    for split in task.splits:
        check, seqs = check_split(task, split, data_dir)
        checks.append(check)
        if seqs:
            sequences[split] = seqs
    duplicates = {}
    for first, second in combinations([s for s in task.splits if s in sequences], 2):
        seen = set(sequences[first])
        duplicates[f"{first}/{second}"] = sum(s in seen for s in sequences[second])
    return TaskCheck(task.name, checks, duplicates)
