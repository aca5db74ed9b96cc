"""Where runs are tracked (MLflow) and the few calls that write to it. The run orchestration extends this module.

Store resolution, first match wins: an explicit `uri` → MLFLOW_TRACKING_URI → the embedded default, a SQLite
database `./runs/mlflow.db` with artifacts in `./runs/artifacts/`. For a SQLite store the experiment's
artifact_location is set explicitly to `<folder of the .db>/artifacts/<experiment>` (MLflow's default for a
SQLite store is a relative `./mlruns` that depends on the working directory).

All writes go through an explicit `MlflowClient` and run id (no global "active run"), so a resumed pretraining
continues the same run. mlflow is imported lazily: importing this module is cheap.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DB = Path("runs") / "mlflow.db"
ENV = "MLFLOW_TRACKING_URI"


def default_tracking_uri() -> str:
    """`sqlite:///<abs>/runs/mlflow.db` under the current directory."""
    return "sqlite:///" + str(DEFAULT_DB.resolve())


def resolve_uri(uri: str | None = None) -> str:
    return uri or os.environ.get(ENV) or default_tracking_uri()


def _sqlite_path(uri: str) -> Path | None:
    return Path(uri[len("sqlite:///"):]) if uri.startswith("sqlite:///") else None


def artifact_root(uri: str) -> Path | None:
    """Folder for artifacts of a SQLite store (next to the database); None for servers and file stores."""
    db = _sqlite_path(uri)
    return db.parent / "artifacts" if db is not None else None


def configure(uri: str | None = None) -> str:
    """Resolve the store, create the SQLite folder if needed, point mlflow at it; returns the uri used."""
    import mlflow

    import logging

    for name in ("mlflow", "alembic"):  # schema-migration chatter on a new store is not for the user
        logging.getLogger(name).setLevel(logging.WARNING)
    uri = resolve_uri(uri)
    db = _sqlite_path(uri)
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(uri)
    return uri


def client(uri: str | None = None):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=configure(uri))


def experiment_id(mlflow_client, name: str) -> str:
    """Get or create an experiment; on a SQLite store its artifacts go to a real folder next to the database."""
    found = mlflow_client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    root = artifact_root(mlflow_client.tracking_uri)
    location = None
    if root is not None:
        (root / name).mkdir(parents=True, exist_ok=True)
        location = (root / name).resolve().as_uri()
    return mlflow_client.create_experiment(name, artifact_location=location)


def search_all(mlflow_client, experiment_id: str, filter_string: str) -> list:
    """Every run of an experiment matching `filter_string`, following MLflow's pages (1,000 runs each)."""
    runs, token = [], None
    while True:
        page = mlflow_client.search_runs([experiment_id], filter_string, max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def log_params(mlflow_client, run_id: str, params: dict) -> None:
    """Nested params flattened to dotted keys, written 100 at a time (MLflow's batch limit)."""
    from mlflow.entities import Param

    flat: dict = {}
    _flatten("", params, flat)
    items = [Param(k, v) for k, v in flat.items()]
    for lo in range(0, len(items), 100):
        mlflow_client.log_batch(run_id, params=items[lo : lo + 100])


def _flatten(prefix: str, value, out: dict) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            _flatten(f"{prefix}.{k}" if prefix else str(k), v, out)
    else:
        out[prefix] = str(value)[:6000]


@dataclass
class RunWriter:
    """One MLflow run: params once, metrics buffered per step and written in batches (one SQLite transaction
    per flush instead of one per value)."""

    uri: str | None
    experiment: str
    run_name: str
    run_id: str | None = None  # given → continue that run (resume)
    flush_every: int = 50
    _client: object = field(default=None, repr=False)
    _pending: list = field(default_factory=list, repr=False)

    def start(self, params: dict | None = None, tags: dict | None = None) -> str:
        from mlflow.entities import RunTag

        self._client = client(self.uri)
        if self.run_id is None:
            run = self._client.create_run(experiment_id(self._client, self.experiment), run_name=self.run_name,
                                          tags=tags or {})
            self.run_id = run.info.run_id
            log_params(self._client, self.run_id, params or {})
        else:
            self._client.update_run(self.run_id, status="RUNNING")
            self._client.log_batch(self.run_id, tags=[RunTag("suite.resumed", "true")])
        return self.run_id

    def log(self, step: int, metrics: dict[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self._pending.extend(Metric(k, float(v), now, step) for k, v in metrics.items())
        if len(self._pending) >= self.flush_every * max(len(metrics), 1):
            self.flush()

    def flush(self) -> None:
        for lo in range(0, len(self._pending), 900):  # MLflow accepts at most 1000 metrics per batch
            self._client.log_batch(self.run_id, metrics=self._pending[lo : lo + 900])
        self._pending = []

    def log_artifact(self, path: Path) -> None:
        self._client.log_artifact(self.run_id, str(path))

    def finish(self, status: str = "FINISHED") -> None:
        self.flush()
        self._client.set_terminated(self.run_id, status=status)
