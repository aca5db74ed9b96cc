"""Where runs are tracked (MLflow) and the few calls that write to it. The run orchestration extends this module.

Store resolution, first match wins: an explicit `uri` → MLFLOW_TRACKING_URI → the embedded default, a SQLite
database `./runs/mlflow.db` with artifacts in `./runs/artifacts/`. For a SQLite store the experiment's
artifact_location is set explicitly to `<folder of the .db>/artifacts/<experiment>` (MLflow's default for a
SQLite store is a relative `./mlruns` that depends on the working directory).

All writes go through an explicit `MlflowClient` and run id (no global "active run"), so a resumed pretraining
continues the same run. mlflow is imported lazily: importing this module is cheap.

`check_uri` is the one check every command that tracks makes before anything runs: a malformed URI, a store whose
folder cannot be written or a server that does not answer within seconds is refused in one line (MLflow itself
would retry for minutes, then print a traceback).
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


URI_FIX = ("use sqlite:///runs/mlflow.db (a file here), http://HOST:PORT (a `suite server`) or "
           "postgresql://USER@HOST/DB")
DB_SCHEMES = ("sqlite", "postgresql", "mysql", "mssql")  # MLflow's database stores (a `+driver` may follow)
SERVER_SCHEMES = ("http", "https")
OTHER_SCHEMES = ("databricks", "databricks-uc", "uc")  # MLflow's hosted stores: left to MLflow itself


def check_uri(uri: str | None = None, timeout: float | None = None) -> str:
    """Refuse, in one line and within seconds, a tracking store this process could not use, before anything runs:
    a malformed URI, a SQLite (or file) store whose folder cannot be created or written, a database or tracking
    server that does not answer one probe within `timeout` seconds (5). Returns the resolved URI.

    Only this first contact is short: once a run has started, MLflow's retries (suite/server.py retry_defaults)
    still carry the calls over a server that restarts mid-grid."""
    from urllib.parse import urlsplit

    from suite.errors import SuiteError
    from suite.preflight import PROBE_TIMEOUT, probe_database, writable_folder

    timeout = PROBE_TIMEOUT if timeout is None else timeout
    source = "--tracking-uri" if uri else ENV if os.environ.get(ENV) else "the default tracking store"
    uri = resolve_uri(uri)
    named = f"{source} {uri}"

    def elsewhere(example: str) -> str:
        return {"--tracking-uri": f"pass --tracking-uri {example} in a folder you can write",
                ENV: f"set {ENV} to {example} in a folder you can write"}.get(
            source, f"run from a folder you can write, or pass --tracking-uri {example}")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018  (a port that is not a number raises here)
    except ValueError as exc:
        raise SuiteError(f"{named} is not a valid URI ({exc})", URI_FIX) from None
    scheme = parts.scheme.lower()
    backend = "" if len(scheme) == 1 else scheme.split("+", 1)[0]  # C:\... is a Windows folder, not a scheme
    if backend in SERVER_SCHEMES:
        if not parts.hostname:
            raise SuiteError(f"{named} names no host", "write it as http://HOST:PORT, e.g. http://127.0.0.1:5000")
        _probe_server(uri, named, timeout)
    elif backend == "sqlite":
        if not uri.lower().startswith(f"{scheme}:///") or not uri.split(":///", 1)[1].split("?")[0]:
            raise SuiteError(f"{named} is not a SQLite store URI",
                             "write sqlite:///RELATIVE/PATH.db (three slashes) or sqlite:////ABSOLUTE/PATH.db (four)")
        probe_database(uri, "tracking store", elsewhere("sqlite:///PATH.db"), timeout)
    elif backend in DB_SCHEMES:
        probe_database(uri, "tracking store", URI_FIX, timeout)
    elif backend in ("", "file"):
        if backend == "file" and parts.netloc not in ("", "localhost"):
            raise SuiteError(f"{named} names a host ({parts.netloc})", "write file:///ABSOLUTE/FOLDER")
        folder = parts.path if backend == "file" else uri
        if not folder.strip():
            raise SuiteError(f"{named} names no folder", URI_FIX)
        writable_folder(Path(folder), "tracking store folder", elsewhere("sqlite:///PATH.db"))
    elif backend not in OTHER_SCHEMES:
        raise SuiteError(f"{named}: unknown kind of store '{parts.scheme}'", URI_FIX)
    return uri


def _probe_server(uri: str, named: str, timeout: float) -> None:
    """One GET of the MLflow REST API (search one experiment) with a short timeout: any answer but 404 is a
    tracking server (401/403: it exists and wants credentials, which MLflow's own client sends)."""
    import re

    import requests

    from suite.errors import SuiteError

    verify: bool | str = True
    if os.environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
        verify = False
    elif os.environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH"):
        verify = os.environ["MLFLOW_TRACKING_SERVER_CERT_PATH"]
    fix = "start it (`suite server ...`) or check its host and port"
    url = uri.rstrip("/") + "/api/2.0/mlflow/experiments/search"
    try:
        answer = requests.get(url, params={"max_results": 1}, timeout=timeout, verify=verify)
    except requests.Timeout:
        raise SuiteError(f"tracking server {uri} did not answer within {timeout:g} s", fix) from None
    except requests.RequestException as exc:
        text = str(exc)
        found = re.findall(r"\[Errno -?\d+\] ([^'\"\])]+)", text)
        reason = found[-1].strip() if found else ("TLS error" if isinstance(exc, requests.exceptions.SSLError)
                                                  else type(exc).__name__)
        raise SuiteError(f"tracking server {uri} cannot be reached ({reason})", fix) from None
    if answer.status_code == 404:
        raise SuiteError(f"{named} is not an MLflow tracking server (HTTP 404 on {url})",
                         "point --tracking-uri at the server's root, e.g. http://HOST:5000")


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
