"""MLflow bookkeeping for `suite run`, on the driver only (SQLite allows one writer; Ray's own MLflow callback
also logs from the driver). Child run = one trial (model, task, seed, fold); parent run = (model, task, mode,
profile, size, weights) holding the mean and std over its finished children, so sorting parent runs in the
MLflow UI is the leaderboard.

Resume: a trial whose run key has a FINISHED child run is skipped; failed, killed or interrupted ones run again
as new child runs; the old ones keep their FAILED / KILLED / RUNNING status, so one key has at most one FINISHED
run.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from suite import tracking
from suite.runs.plan import TrialSpec

KIND = "suite.kind"


def _tags(trial: TrialSpec) -> dict:
    return {
        KIND: "trial",
        "suite.run_key": trial.key,
        "suite.parent_key": trial.parent_key,
        "suite.model": trial.model_name,
        "suite.task": trial.task_name,
        "suite.benchmark": trial.tags.get("benchmark", ""),
        "suite.metric": trial.tags.get("metric", ""),
        "suite.seed": str(trial.seed),
        "suite.fold": "" if trial.fold is None else str(trial.fold),
        "suite.mode": trial.mode,
        "suite.profile": trial.profile,
        "suite.size": trial.size,
        "suite.weights": trial.weights,
        "suite.git": trial.code_version,
        "suite.data_sha256": ",".join(f"{s}:{d['sha256'][:16]}" for s, d in trial.data.items()),
        **{f"suite.{k}": str(v) for k, v in trial.tags.items() if k not in ("benchmark", "metric")},
    }


class RunTracker:
    def __init__(self, uri: str | None, experiment: str) -> None:
        self.client = tracking.client(uri)
        self.uri = self.client.tracking_uri
        self.experiment_id = tracking.experiment_id(self.client, experiment)
        self.parents: dict[str, str] = {}
        self.active: dict[str, str] = {}  # run key → child run id started by this process and not ended
        self.errors: dict[str, str] = {}  # run key → why its last attempt in this process failed

    # ---- queries ---------------------------------------------------------------------------------------------
    def _search(self, filter_string: str) -> list:
        return tracking.search_all(self.client, self.experiment_id, filter_string)

    def finished_keys(self) -> set[str]:
        runs = self._search(f"tags.`{KIND}` = 'trial' AND attributes.status = 'FINISHED'")
        return {r.data.tags["suite.run_key"] for r in runs}

    # ---- writes ----------------------------------------------------------------------------------------------
    def parent(self, trial: TrialSpec) -> str:
        if trial.parent_key in self.parents:
            return self.parents[trial.parent_key]
        found = self._search(f"tags.`{KIND}` = 'parent' AND tags.`suite.parent_key` = '{trial.parent_key}'")
        if found:
            run_id = found[0].info.run_id
        else:
            tags = {KIND: "parent", "suite.parent_key": trial.parent_key, "suite.model": trial.model_name,
                    "suite.task": trial.task_name, "suite.mode": trial.mode, "suite.profile": trial.profile,
                    "suite.size": trial.size, "suite.weights": trial.weights,
                    "suite.benchmark": trial.tags.get("benchmark", ""), "suite.metric": trial.tags.get("metric", "")}
            name = f"{trial.model_name} · {trial.task_name} · {trial.mode}"
            run_id = self.client.create_run(self.experiment_id, run_name=name, tags=tags).info.run_id
            self.client.set_terminated(run_id, "FINISHED")
        self.parents[trial.parent_key] = run_id
        return run_id

    def start(self, trial: TrialSpec) -> str:
        """A new child run for an attempt at `trial` (an earlier attempt of this process is marked FAILED)."""
        if trial.key in self.active:
            self.end(trial.key, "FAILED")
        tags = {**_tags(trial), "mlflow.parentRunId": self.parent(trial)}
        name = f"{trial.model_name} · {trial.task_name} · seed {trial.seed}" + (
            f" · fold {trial.fold}" if trial.fold is not None else "")
        run_id = self.client.create_run(self.experiment_id, run_name=name, tags=tags).info.run_id
        tracking.log_params(self.client, run_id, {**trial.hparams, "model": trial.model_name, "size": trial.size,
                                                  "pooling": trial.model.get("pooling"), "head": trial.model.get("head"),
                                                  "backbone": trial.backbone, "recipe": trial.recipe,
                                                  "task": trial.task_name})
        self.active[trial.key] = run_id
        return run_id

    def epoch(self, key: str, row: dict) -> None:
        from mlflow.entities import Metric

        run_id = self.active.get(key)
        if run_id is None:
            return
        step = int(row.get("epoch", 0))
        metrics = [Metric(k, float(v), _now(), step) for k, v in row.items() if k != "epoch" and _finite(v)]
        self.client.log_batch(run_id, metrics=metrics)

    def complete(self, key: str, result: dict) -> None:
        from mlflow.entities import Metric

        run_id = self.active[key]
        values = {f"test/{k}": v for k, v in result["test"].items()}
        values |= {f"best_val/{k}": v for k, v in result["val"].items()}
        values |= {f"cost/{k}": v for k, v in result["cost"].items()}
        values["best_epoch"] = result["best_epoch"]
        self.client.log_batch(run_id, metrics=[Metric(k, float(v), _now(), 0) for k, v in values.items() if _finite(v)])
        for path in result.get("artifacts", []):
            if Path(path).is_file():
                self.client.log_artifact(run_id, path)
        self.end(key, "FINISHED")

    def end(self, key: str, status: str, error: str = "") -> None:
        run_id = self.active.pop(key, None)
        if run_id is None:
            return
        if status == "FAILED":
            self.errors[key] = error
        if error:
            self.client.set_tag(run_id, "suite.error", error[:5000])
        self.client.set_terminated(run_id, status)

    def end_all(self, status: str = "KILLED") -> None:
        for key in list(self.active):
            self.end(key, status)

    def aggregate(self, keys_by_parent: dict[str, set[str]]) -> list[dict]:
        """Mean and std of every test and cost metric over the finished children whose run keys the current
        plan holds (so results of other seeds or code versions never mix in), logged on each parent."""
        from mlflow.entities import Metric

        rows = []
        for parent_key, keys in sorted(keys_by_parent.items()):
            children = [c for c in self._search(f"tags.`{KIND}` = 'trial' AND tags.`suite.parent_key` = "
                                                f"'{parent_key}' AND attributes.status = 'FINISHED'")
                        if c.data.tags.get("suite.run_key") in keys]
            if not children:
                continue
            parent_id = self.parents.get(parent_key) or self._search(
                f"tags.`{KIND}` = 'parent' AND tags.`suite.parent_key` = '{parent_key}'")[0].info.run_id
            names = sorted({k for c in children for k in c.data.metrics if k.startswith(("test/", "cost/"))})
            summary = {}
            for name in names:
                values = np.array([c.data.metrics[name] for c in children if name in c.data.metrics], dtype=float)
                summary[f"{name}_mean"] = float(values.mean())
                summary[f"{name}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            summary["n_runs"] = len(children)
            primary = children[0].data.tags.get("suite.metric", "")
            if f"test/{primary}_mean" in summary:  # one sortable column across tasks of different metrics
                summary["test/primary_mean"] = summary[f"test/{primary}_mean"]
                summary["test/primary_std"] = summary[f"test/{primary}_std"]
            metrics = [Metric(k, v, _now(), 0) for k, v in summary.items() if _finite(v)]
            for lo in range(0, len(metrics), 900):
                self.client.log_batch(parent_id, metrics=metrics[lo : lo + 900])
            tags = children[0].data.tags
            rows.append({"model": tags["suite.model"], "task": tags["suite.task"], "metric": tags["suite.metric"],
                         "mode": tags["suite.mode"], "profile": tags["suite.profile"],
                         "weights": tags["suite.weights"], **summary})
        return rows


def _now() -> int:
    return int(time.time() * 1000)


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False



def error_line(text: str) -> str:
    """The one line that says why a trial failed: a traceback's last line (the exception), else the first line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "no reason recorded (see the trial's folder under the Ray storage)"
    if any(line.startswith("Traceback") for line in lines):
        return lines[-1]
    return lines[0]
