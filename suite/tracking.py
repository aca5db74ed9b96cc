"""The suite's one door to MLflow: where runs are tracked, the tag names (`Tag`, `Kind`), the searches
(`search_filter` and `Experiment`'s named queries), the writes, and `suite run`'s bookkeeping (`RunTracker`). No
other module opens an MLflow client, names a tag by its string or writes a filter.

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

import math
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from suite.errors import SuiteError

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
    """Resolve the store, create the SQLite folder if needed, point mlflow at it; returns the uri used.

    `mlflow.set_tracking_uri` also writes MLFLOW_TRACKING_URI into the process environment for its subprocesses;
    the suite hands every process its store explicitly, so the variable is put back: a `reproduce()` called from
    Python must not send the user's later `suite run` subprocesses (or a test's) to its store."""
    import mlflow

    import logging

    for name in ("mlflow", "alembic"):  # schema-migration chatter on a new store is not for the user
        logging.getLogger(name).setLevel(logging.WARNING)
    uri = resolve_uri(uri)
    db = _sqlite_path(uri)
    if db is not None:
        db.parent.mkdir(parents=True, exist_ok=True)
    before = os.environ.get(ENV)
    mlflow.set_tracking_uri(uri)
    if before is None:
        os.environ.pop(ENV, None)
    else:
        os.environ[ENV] = before
    return uri


class Tag:
    """The tag names the suite writes and searches. The names are the stores' format (existing stores and the
    UI's saved leaderboard view read them): never rename one."""

    KIND = "suite.kind"  # what the run is: a `Kind`
    RUN_KEY, PARENT_KEY = "suite.run_key", "suite.parent_key"
    MODEL, TASK, BENCHMARK, METRIC = "suite.model", "suite.task", "suite.benchmark", "suite.metric"
    SEED, FOLD, MODE, PROFILE = "suite.seed", "suite.fold", "suite.mode", "suite.profile"
    SIZE, WEIGHTS, GIT, DATA_SHA256 = "suite.size", "suite.weights", "suite.git", "suite.data_sha256"
    ERROR, RESUMED, WORKER_HOST, WORKER_PID = "suite.error", "suite.resumed", "suite.worker_host", "suite.worker_pid"
    STUDY, OPTUNA_TRIAL, STATE, STORAGE = "suite.study", "suite.optuna_trial", "suite.state", "suite.storage"
    RECIPE, DEVICE, EXPERIMENT = "suite.recipe", "suite.device", "suite.experiment"
    DRIVER = "suite.driver"  # which `suite run` process started the attempt (a token of that process's tracker)
    BEST = "best."  # + a parameter name (or `trial`): a sweep's best trial, on the study's run
    PARENT_RUN = "mlflow.parentRunId"  # MLflow's own: nests a run under another in the UI

    @staticmethod
    def named(name: str) -> str:
        """suite.<name>: a tag named by a run's request (network, entry, params_from, ...)."""
        return "suite." + name


class Kind:
    """The values of Tag.KIND."""

    TRIAL, PARENT, SWEEP, SWEEP_TRIAL = "trial", "parent", "sweep", "sweep_trial"
    COST, REPORT, PRETRAIN = "cost", "report", "pretrain"


FINISHED = "FINISHED"


def quoted(value) -> str:
    """`value` as a string literal of an MLflow filter. MLflow has no escape inside one: single quotes, or double
    quotes for a value holding a single quote."""
    text = str(value)
    quote = '"' if "'" in text else "'"
    if quote in text:
        raise SuiteError(f"{text!r} cannot be searched for in MLflow", "use a name without both kinds of quotes")
    return quote + text + quote


def search_filter(kind: str | None = None, status: str | None = None, tags: dict | None = None,
                  params: dict | None = None) -> str:
    """An MLflow search filter: the run kind, status and tag (Tag.*) and param equalities, all of them."""
    terms = {**({f"tags.`{Tag.KIND}`": kind} if kind else {}), **{f"tags.`{k}`": v for k, v in (tags or {}).items()},
             **{f"params.`{k}`": v for k, v in (params or {}).items()},
             **({"attributes.status": status} if status else {})}
    return " AND ".join(f"{field} = {quoted(value)}" for field, value in terms.items())


def client(uri: str | None = None):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=configure(uri))


def metric_history(uri: str | None, run_id: str, key: str) -> list[tuple[int, float]]:
    """(step, value) of one metric of one run, by step: a learning curve (step = epoch in `suite run`)."""
    return sorted((m.step, m.value) for m in client(uri).get_metric_history(run_id, key))


def run_metrics(uri: str | None, run_id: str) -> dict[str, float]:
    """A run's metrics (last value of each); {} for a run the store does not hold (one logged to another store)."""
    from mlflow.exceptions import MlflowException

    try:
        return dict(client(uri).get_run(run_id).data.metrics)
    except MlflowException:
        return {}


def _flat(params: dict, prefix: str = "") -> dict[str, str]:
    """Nested params as dotted keys."""
    out: dict[str, str] = {}
    for k, v in params.items():
        out |= _flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {f"{prefix}{k}": str(v)[:6000]}
    return out


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


class Experiment:
    """One experiment of one store: its runs' searches and writes. Created when missing (on a SQLite store with its
    artifacts in a real folder next to the database), unless `create=False`: then a name the store does not hold
    is refused with the names it does (`advice` ends the fix)."""

    def __init__(self, uri: str | None, name: str, create: bool = True, advice: str = "") -> None:
        self.client = client(uri)
        self.uri = self.client.tracking_uri
        found = self.client.get_experiment_by_name(name)
        self.tags: dict[str, str] = dict(found.tags) if found else {}  # the saved UI views among them
        if found is not None:
            self.id = found.experiment_id
        elif not create:
            known = ", ".join(e.name for e in self.client.search_experiments()) or "none"
            raise SuiteError(f"no MLflow experiment '{name}' in {self.uri}",
                             f"pass --experiment (known: {known}){advice}")
        else:
            root, location = artifact_root(self.uri), None
            if root is not None:
                (root / name).mkdir(parents=True, exist_ok=True)
                location = (root / name).resolve().as_uri()
            self.id = self.client.create_experiment(name, artifact_location=location)

    # ---- searches --------------------------------------------------------------------------------------------
    def runs(self, kind: str, status: str | None = None, tags: dict | None = None, params: dict | None = None) -> list:
        """Every run of `kind` (and status, tag and param values), following MLflow's pages of 1,000 runs."""
        runs, token, filter_string = [], None, search_filter(kind, status, tags, params)
        while True:
            page = self.client.search_runs([self.id], filter_string, max_results=1000, page_token=token)
            runs.extend(page)
            token = page.token
            if not token:
                return runs

    def finished_trials(self, tags: dict | None = None, params: dict | None = None) -> list:
        """The FINISHED trial runs (of a run key, parent key, model, ... when `tags` names them)."""
        return self.runs(Kind.TRIAL, FINISHED, tags, params)

    def parent_runs(self, parent_key: str | None = None) -> list:
        return self.runs(Kind.PARENT, tags={Tag.PARENT_KEY: parent_key} if parent_key else None)

    def study_runs(self, study: str, kind: str = Kind.SWEEP) -> list:
        """A sweep's own run (Kind.SWEEP) or its trials' runs (Kind.SWEEP_TRIAL)."""
        return self.runs(kind, tags={Tag.STUDY: study})

    # ---- writes ----------------------------------------------------------------------------------------------
    def create_run(self, name: str, tags: dict, params: dict | None = None) -> str:
        """A new run; nested params flattened to dotted keys, written 100 at a time (MLflow's batch limit)."""
        from mlflow.entities import Param

        run_id = self.client.create_run(self.id, run_name=name, tags=tags).info.run_id
        items = [Param(k, v) for k, v in _flat(params or {}).items()]
        for lo in range(0, len(items), 100):
            self.client.log_batch(run_id, params=items[lo : lo + 100])
        return run_id

    def log_metrics(self, run_id: str, values: dict, step: int = 0) -> None:
        """The finite ones among `values`, at `step`."""
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.log_batch(run_id, [Metric(k, float(v), now, step) for k, v in values.items() if _finite(v)])

    def log_batch(self, run_id: str, metrics: list) -> None:
        for lo in range(0, len(metrics), 900):  # MLflow accepts at most 1000 metrics per batch
            self.client.log_batch(run_id, metrics=metrics[lo : lo + 900])

    def set_tags(self, run_id: str, tags: dict) -> None:
        from mlflow.entities import RunTag

        self.client.log_batch(run_id, tags=[RunTag(k, str(v)) for k, v in tags.items()])

    def tag_experiment(self, key: str, value: str) -> None:
        self.client.set_experiment_tag(self.id, key, value)

    def log_artifact(self, run_id: str, path: Path | str, folder: str | None = None) -> None:
        self.client.log_artifact(run_id, str(path), folder)

    def end_run(self, run_id: str, status: str = FINISHED) -> None:
        self.client.set_terminated(run_id, status)


@dataclass
class RunWriter:
    """One MLflow run: params once, metrics buffered per step and written in batches (one SQLite transaction
    per flush instead of one per value)."""

    uri: str | None
    experiment: str
    run_name: str
    run_id: str | None = None  # given → continue that run (resume)
    flush_every: int = 50
    _store: Experiment | None = field(default=None, repr=False)
    _pending: list = field(default_factory=list, repr=False)

    def start(self, params: dict | None = None, tags: dict | None = None) -> str:
        self._store = Experiment(self.uri, self.experiment)
        if self.run_id is None:
            self.run_id = self._store.create_run(self.run_name, tags or {}, params)
        else:
            self._store.client.update_run(self.run_id, status="RUNNING")
            self._store.set_tags(self.run_id, {Tag.RESUMED: "true"})
        return self.run_id

    def log(self, step: int, metrics: dict[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self._pending.extend(Metric(k, float(v), now, step) for k, v in metrics.items())
        if len(self._pending) >= self.flush_every * max(len(metrics), 1):
            self.flush()

    def flush(self) -> None:
        self._store.log_batch(self.run_id, self._pending)
        self._pending = []

    def log_artifact(self, path: Path) -> None:
        self._store.log_artifact(self.run_id, path)

    def finish(self, status: str = FINISHED) -> None:
        self.flush()
        self._store.end_run(self.run_id, status)


@dataclass(frozen=True)
class TrialRun:
    """One trial of `suite run` as MLflow holds it, in plain values (the runs layer builds it: TrialSpec.tracked)."""

    name: str
    tags: dict[str, str]  # Tag.* → value: the run key, the parent key and the PARENT_TAGS among them
    params: dict

    @property
    def key(self) -> str:
        return self.tags[Tag.RUN_KEY]


PARENT_TAGS = (Tag.PARENT_KEY, Tag.MODEL, Tag.TASK, Tag.MODE, Tag.PROFILE, Tag.SIZE, Tag.WEIGHTS, Tag.BENCHMARK,
               Tag.METRIC)  # what a parent run shares with its trials


class RunTracker(Experiment):
    """MLflow bookkeeping for `suite run`, on the driver only (SQLite allows one writer; Ray's own MLflow callback
    also logs from the driver). Child run = one trial (model, task, seed, fold); parent run = (model, task, mode,
    profile, size, weights) holding the mean and std over its finished children, so sorting parent runs in the
    MLflow UI is the leaderboard.

    Resume: a trial whose run key has a FINISHED child run is skipped; failed, killed or interrupted ones run again
    as new child runs; the old ones keep their FAILED / KILLED / RUNNING status, so one key has at most one
    FINISHED run."""

    def __init__(self, uri: str | None, experiment: str) -> None:
        super().__init__(uri, experiment)
        self.parent_ids: dict[str, str] = {}  # parent key → its run id
        self.active: dict[str, str] = {}  # run key → child run id started by this process and not ended
        self.errors: dict[str, str] = {}  # run key → why its last attempt in this process failed
        self.driver = uuid.uuid4().hex  # Tag.DRIVER on every attempt this process starts

    def finished_keys(self) -> set[str]:
        return {r.data.tags[Tag.RUN_KEY] for r in self.finished_trials()}

    def parent(self, run: TrialRun) -> str:
        key = run.tags[Tag.PARENT_KEY]
        if key not in self.parent_ids:
            found = self.parent_runs(key)
            if found:
                self.parent_ids[key] = found[0].info.run_id
            else:
                name = f"{run.tags[Tag.MODEL]} · {run.tags[Tag.TASK]} · {run.tags[Tag.MODE]}"
                self.parent_ids[key] = self.create_run(name, {Tag.KIND: Kind.PARENT,
                                                              **{t: run.tags[t] for t in PARENT_TAGS}})
                self.end_run(self.parent_ids[key])
        return self.parent_ids[key]

    def start(self, run: TrialRun) -> str:
        """A new child run for an attempt at `run` (an earlier attempt of this process is marked FAILED)."""
        if run.key in self.active:
            self.end(run.key, "FAILED")
        tags = {Tag.KIND: Kind.TRIAL, **run.tags, Tag.PARENT_RUN: self.parent(run), Tag.DRIVER: self.driver}
        self.active[run.key] = self.create_run(run.name, tags, run.params)
        return self.active[run.key]

    def tag(self, key: str, tags: dict) -> None:
        """Tags on the running attempt of run key `key` (none when it is not running)."""
        if key in self.active:
            self.set_tags(self.active[key], tags)

    def epoch(self, key: str, row: dict) -> None:
        if key in self.active:
            self.log_metrics(self.active[key], {k: v for k, v in row.items() if k != "epoch"}, int(row.get("epoch", 0)))

    def complete(self, key: str, result: dict) -> None:
        run_id = self.active[key]
        values = {f"test/{k}": v for k, v in result["test"].items()}
        values |= {f"best_val/{k}": v for k, v in result["val"].items()}
        values |= {f"cost/{k}": v for k, v in result["cost"].items()}
        self.log_metrics(run_id, values | {"best_epoch": result["best_epoch"]})
        for path in result.get("artifacts", []):
            if Path(path).is_file():
                self.log_artifact(run_id, path)
        self.end(key, FINISHED)

    def end(self, key: str, status: str, error: str = "") -> None:
        run_id = self.active.pop(key, None)
        if run_id is None:
            return
        if status == "FAILED":
            self.errors[key] = error
        if error:
            self.set_tags(run_id, {Tag.ERROR: error[:5000]})
        self.end_run(run_id, status)

    def end_all(self, status: str = "KILLED") -> None:
        """End every attempt this process started and did not end. Those it knows of, then any other the store
        holds RUNNING under this process's Tag.DRIVER: a signal (KeyboardInterrupt) can land after the store made
        the run and before `start` returned it, or inside `end` once the attempt left `active`; the tag is written
        with the run itself, so no attempt escapes."""
        for key in list(self.active):
            self.end(key, status)
        for run in self.runs(Kind.TRIAL, "RUNNING", tags={Tag.DRIVER: self.driver}):
            self.end_run(run.info.run_id, status)

    def aggregate(self, keys_by_parent: dict[str, set[str]]) -> list[dict]:
        """Mean and std of every test and cost metric over the finished children whose run keys the current
        plan holds (so results of other seeds or code versions never mix in), logged on each parent."""
        import numpy as np

        rows = []
        for parent_key, keys in sorted(keys_by_parent.items()):
            children = [c for c in self.finished_trials({Tag.PARENT_KEY: parent_key})
                        if c.data.tags.get(Tag.RUN_KEY) in keys]
            if not children:
                continue
            parent_id = self.parent_ids.get(parent_key) or self.parent_runs(parent_key)[0].info.run_id
            names = sorted({k for c in children for k in c.data.metrics if k.startswith(("test/", "cost/"))})
            summary = {}
            for name in names:
                values = np.array([c.data.metrics[name] for c in children if name in c.data.metrics], dtype=float)
                summary[f"{name}_mean"] = float(values.mean())
                summary[f"{name}_std"] = float(values.std(ddof=1)) if len(values) > 1 else 0.0
            summary["n_runs"] = len(children)
            tags = children[0].data.tags
            primary = tags.get(Tag.METRIC, "")
            if f"test/{primary}_mean" in summary:  # one sortable column across tasks of different metrics
                summary["test/primary_mean"] = summary[f"test/{primary}_mean"]
                summary["test/primary_std"] = summary[f"test/{primary}_std"]
            self.log_metrics(parent_id, summary)
            rows.append({"model": tags[Tag.MODEL], "task": tags[Tag.TASK], "metric": tags[Tag.METRIC],
                         "mode": tags[Tag.MODE], "profile": tags[Tag.PROFILE], "weights": tags[Tag.WEIGHTS], **summary})
        return rows
