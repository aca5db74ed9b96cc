"""MLflow → one tidy DataFrame, one row per finished trial. The reports' reads and writes of runs (learning
curves aside): it reads the trials `suite run` wrote (suite/tracking.py RunTracker: child runs tagged
suite.kind=trial) and writes one run tagged suite.kind=report holding the report's files as artifacts. Report runs go to an experiment of their
own, `<experiment>-reports`: among the parent runs they would break the leaderboard the MLflow UI sorts.

Why a tidy frame: every table, test and plot is a groupby over the same rows, so a cell can always be traced
back to exactly the runs it summarises (the `run_id` column). A (model, task, mode, profile, size, weights,
seed, fold) combination keeps only its newest finished run: older code versions of the same trial never mix in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from suite.tracking import Experiment, Kind, Tag

REPORTS_SUFFIX = "-reports"
TAGS = ("model", "task", "benchmark", "metric", "mode", "profile", "size", "weights", "network", "seed", "fold",
        "parent_key", "run_key")
IDENTITY = ["model", "task", "mode", "profile", "size", "weights", "network", "seed", "fold"]


@dataclass
class Collected:
    """The finished trials of one experiment, plus what links need (store uri, experiment id, parent runs)."""

    runs: pd.DataFrame  # one row per trial: run_id, the TAGS, start_time, test/* best_val/* cost/* metrics
    uri: str
    experiment: str
    experiment_id: str
    parents: dict[str, str] = field(default_factory=dict)  # suite.parent_key → parent run id
    tags: dict[str, str] = field(default_factory=dict)  # the experiment's tags (its saved UI views among them)


def collect(experiment: str = "dna-suite", tracking_uri: str | None = None, newest_only: bool = True) -> Collected:
    """The FINISHED trial runs of `experiment` as a tidy frame (empty frame, same columns, when none): of each run
    key its newest run (by start time), and with `newest_only` of each IDENTITY its newest run key (False: every run
    key, for a caller that selects runs by run key itself)."""
    store = Experiment(tracking_uri, experiment, create=False, advice=" or --tracking-uri, or run `suite run` first")
    rows = []
    for run in store.finished_trials():
        row = {"run_id": run.info.run_id, "start_time": run.info.start_time,
               **{name: run.data.tags.get(Tag.named(name), "") for name in TAGS}}
        row.update({k: float(v) for k, v in run.data.metrics.items()
                    if k.startswith(("test/", "best_val/", "cost/"))})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else ["run_id", "start_time", *TAGS])
    if len(frame):
        frame = frame.sort_values("start_time", ascending=False, kind="stable").drop_duplicates("run_key")
        frame = ((frame.drop_duplicates(IDENTITY) if newest_only else frame)
                 .sort_values(["model", "task", "mode", "seed", "fold"], kind="stable").reset_index(drop=True))
    parents = {run.data.tags.get(Tag.PARENT_KEY, ""): run.info.run_id for run in store.parent_runs()}
    return Collected(frame, store.uri, experiment, store.id, parents, store.tags)


def reports_experiment(experiment: str) -> str:
    """Where the reports on `experiment`'s runs are logged."""
    return experiment + REPORTS_SUFFIX


def log_report(tracking_uri: str, experiment: str, out_dir: Path, files: list[Path], params: dict) -> str:
    """A run tagged suite.kind=report, in `reports_experiment(experiment)`, whose artifacts are the report's files
    (paths kept relative to `out_dir`); returns its run id."""
    store = Experiment(tracking_uri, reports_experiment(experiment))
    run_id = store.create_run(f"report · {Path(out_dir).name}", {Tag.KIND: Kind.REPORT, Tag.EXPERIMENT: experiment},
                              params)
    for path in files:
        if Path(path).is_file():
            folder = str(Path(path).parent.relative_to(out_dir))
            store.log_artifact(run_id, path, None if folder == "." else folder)
    store.end_run(run_id)
    return run_id
