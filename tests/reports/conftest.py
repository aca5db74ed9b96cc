"""A temporary MLflow store holding trial runs with known metrics, tagged exactly as suite/tracking.py RunTracker tags
them (child runs suite.kind=trial under parent runs suite.kind=parent)."""

from __future__ import annotations

import time

import pytest

from suite import tracking
from suite.tasks import get_task


class Store:
    def __init__(self, root) -> None:
        self.uri = f"sqlite:///{root}/mlflow.db"
        self.experiment = "dna-suite"
        store = tracking.Experiment(self.uri, self.experiment)
        self.client, self.experiment_id = store.client, store.id
        self.parents: dict[str, str] = {}

    def add(self, model: str, task: str, seed: int, value: float | None = None, mode: str = "finetune",
            fold: int | None = None, profile: str = "quick", size: str = "paper", weights: str = "none",
            metrics: dict | None = None, history: list[float] | None = None, status: str = "FINISHED") -> str:
        """One finished trial; `value` is test/<task metric>; `history` is val/<task metric> per epoch."""
        from mlflow.entities import Metric

        spec = get_task(task)
        parent_key = f"{model}|{task}|{mode}|{profile}|{size}|{weights}"
        if parent_key not in self.parents:
            tags = {"suite.kind": "parent", "suite.parent_key": parent_key, "suite.model": model, "suite.task": task,
                    "suite.mode": mode, "suite.profile": profile, "suite.size": size, "suite.weights": weights,
                    "suite.benchmark": spec.benchmark, "suite.metric": spec.metric}
            run = self.client.create_run(self.experiment_id, run_name=f"{model} · {task} · {mode}", tags=tags)
            self.client.set_terminated(run.info.run_id, "FINISHED")
            self.parents[parent_key] = run.info.run_id
        tags = {"suite.kind": "trial", "suite.run_key": f"{parent_key}|{seed}|{fold}", "suite.parent_key": parent_key,
                "suite.model": model, "suite.task": task, "suite.benchmark": spec.benchmark,
                "suite.metric": spec.metric, "suite.seed": str(seed), "suite.fold": "" if fold is None else str(fold),
                "suite.mode": mode, "suite.profile": profile, "suite.size": size, "suite.weights": weights,
                "suite.git": "test", "mlflow.parentRunId": self.parents[parent_key]}
        run_id = self.client.create_run(self.experiment_id, run_name=f"{model} · {task} · seed {seed}",
                                        tags=tags).info.run_id
        now = int(time.time() * 1000)
        values = dict(metrics or {})
        if value is not None:
            values[f"test/{spec.metric}"] = value
        batch = [Metric(k, float(v), now, 0) for k, v in values.items()]
        batch += [Metric(f"val/{spec.metric}", float(v), now, epoch) for epoch, v in enumerate(history or [])]
        if batch:
            self.client.log_batch(run_id, metrics=batch)
        self.client.set_terminated(run_id, status)
        return run_id


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path)


@pytest.fixture(scope="module")
def module_store(tmp_path_factory):
    return Store(tmp_path_factory.mktemp("mlflow"))
