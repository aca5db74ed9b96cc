"""MLflow → one tidy DataFrame, one row per finished trial. The only module of the reports that touches mlflow:
it reads the trials `suite run` wrote (suite/runs/tracking.py: child runs tagged suite.kind=trial) and writes
one run tagged suite.kind=report holding the report's files as artifacts. Report runs go to an experiment of their
own, `<experiment>-reports`: among the parent runs they would break the leaderboard the MLflow UI sorts.

Why a tidy frame: every table, test and plot is a groupby over the same rows, so a cell can always be traced
back to exactly the runs it summarises (the `run_id` column). A (model, task, mode, profile, size, weights,
seed, fold) combination keeps only its newest finished run: older code versions of the same trial never mix in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from suite import tracking
from suite.errors import SuiteError

KIND = "suite.kind"
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
    """Every FINISHED trial run of `experiment` as a tidy frame (empty frame, same columns, when none).
    `newest_only=False` keeps every finished run (for a caller that selects runs by run key itself)."""
    client = tracking.client(tracking_uri)
    found = client.get_experiment_by_name(experiment)
    if found is None:
        names = [e.name for e in client.search_experiments()]
        raise SuiteError(f"no MLflow experiment '{experiment}' in {client.tracking_uri}",
                         f"pass --experiment (known: {', '.join(names) or 'none'}) or --tracking-uri, "
                         "or run `suite run` first")
    rows = []
    for run in tracking.search_all(client, found.experiment_id, f"tags.`{KIND}` = 'trial' AND attributes.status = 'FINISHED'"):
        tags = run.data.tags
        row = {"run_id": run.info.run_id, "start_time": run.info.start_time,
               **{name: tags.get(f"suite.{name}", "") for name in TAGS}}
        row.update({k: float(v) for k, v in run.data.metrics.items()
                    if k.startswith(("test/", "best_val/", "cost/"))})
        rows.append(row)
    frame = pd.DataFrame(rows, columns=None if rows else ["run_id", "start_time", *TAGS])
    if len(frame):
        frame = (frame.sort_values("start_time", ascending=False)
                 .drop_duplicates(IDENTITY if newest_only else ["run_key"], keep="first")
                 .sort_values(["model", "task", "mode", "seed", "fold"], kind="stable")
                 .reset_index(drop=True))
    parents = {run.data.tags.get("suite.parent_key", ""): run.info.run_id
               for run in tracking.search_all(client, found.experiment_id, f"tags.`{KIND}` = 'parent'")}
    return Collected(frame, client.tracking_uri, experiment, found.experiment_id, parents, dict(found.tags))


def metric_history(tracking_uri: str, run_id: str, key: str) -> list[tuple[int, float]]:
    """(step, value) of one metric of one run, by step: a learning curve (step = epoch in `suite run`)."""
    client = tracking.client(tracking_uri)
    return sorted((m.step, m.value) for m in client.get_metric_history(run_id, key))


def reports_experiment(experiment: str) -> str:
    """Where the reports on `experiment`'s runs are logged."""
    return experiment + REPORTS_SUFFIX


def log_report(tracking_uri: str, experiment: str, out_dir: Path, files: list[Path], params: dict) -> str:
    """A run tagged suite.kind=report, in `reports_experiment(experiment)`, whose artifacts are the report's files
    (paths kept relative to `out_dir`); returns its run id."""
    client = tracking.client(tracking_uri)
    run_id = client.create_run(tracking.experiment_id(client, reports_experiment(experiment)),
                               run_name=f"report · {Path(out_dir).name}",
                               tags={KIND: "report", "suite.experiment": experiment}).info.run_id
    tracking.log_params(client, run_id, params)
    for path in files:
        if Path(path).is_file():
            folder = str(Path(path).parent.relative_to(out_dir))
            client.log_artifact(run_id, str(path), None if folder == "." else folder)
    client.set_terminated(run_id, "FINISHED")
    return run_id
