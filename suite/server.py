"""`suite server`: an MLflow tracking server for a cluster, on a real database.

    suite server --backend-store-uri postgresql://mlflow:…@db-host:5432/mlflow --artifacts /shared/mlflow-artifacts

starts `mlflow server` bound to 127.0.0.1 (unless --host says otherwise) with the given backend store and
artifact folder (served through the server, so workers and the driver need no direct access to it).
The suite's runs then log with `--tracking-uri http://HOST:PORT`. Client calls retry with exponential backoff
while the server is unreachable (MLflow's HTTP client: MLFLOW_HTTP_REQUEST_MAX_RETRIES, default set here to 8
tries, backoff factor 2, i.e. about 8 minutes), so a restarted server loses nothing; a run key that finished is
never run twice.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from suite import foreground
from suite.errors import SuiteError

RETRY_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "8", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "2",
                  "MLFLOW_HTTP_REQUEST_BACKOFF_JITTER": "1"}


def retry_defaults() -> None:
    """Backoff for every MLflow client call of this process (an explicit environment setting wins)."""
    for key, value in RETRY_DEFAULTS.items():
        os.environ.setdefault(key, value)


def announce_when_up(health: str, line: str, then: Callable[[], object] | None = None, timeout: float = 600.0,
                     say: Callable[[str], object] = lambda text: print(text, flush=True)) -> threading.Thread:
    """Say `line` once `health` answers (polled twice a second in a daemon thread: the server itself runs in the
    foreground), then call `then` (e.g. open a browser). An MLflow server takes seconds to most of a minute to
    start (importing MLflow, migrating a new store), and an address printed before that only answers "connection
    refused"; this line is said when it is true. Nothing is said if it never answers within `timeout`: the
    server's own output says why."""

    def poll() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(health, timeout=2):
                    say(line)
                    if then is not None:
                        then()
                    return
            except OSError:
                time.sleep(0.5)

    thread = threading.Thread(target=poll, name="announce-when-up", daemon=True)
    thread.start()
    return thread


def server_command(backend_store_uri: str, artifacts: str, host: str = "127.0.0.1", port: int = 5000,
                   workers: int = 2) -> list[str]:
    foreground.check_port(port)
    if workers < 1:
        raise SuiteError(f"--workers {workers}: the server needs at least one worker", "use --workers 1 or more")
    if not backend_store_uri.startswith(("postgresql", "mysql", "sqlite", "mssql")):
        raise SuiteError(f"backend store '{backend_store_uri}' is not a database URL",
                         "use postgresql://user:password@host:5432/mlflow (or sqlite:///path for one machine)")
    if backend_store_uri.startswith("postgresql"):
        try:
            import psycopg  # noqa: F401  (the driver SQLAlchemy 2 uses for postgresql://)
        except ImportError as exc:
            raise SuiteError("PostgreSQL needs the psycopg driver", "pip install 'dna-suite[cluster]'") from exc
    Path(artifacts).mkdir(parents=True, exist_ok=True)
    mlflow = shutil.which("mlflow") or str(Path(sys.executable).parent / "mlflow")
    return [mlflow, "server", "--backend-store-uri", backend_store_uri, "--artifacts-destination",
            str(Path(artifacts).resolve()), "--serve-artifacts", "--host", host, "--port", str(port),
            "--workers", str(workers)]


def serve(backend_store_uri: str, artifacts: str, host: str = "127.0.0.1", port: int = 5000,
          workers: int = 2) -> int:
    """Run the tracking server in the foreground until Ctrl-C or SIGTERM, which stop it with every process it
    started; returns its exit code (0 when stopped so)."""
    command = server_command(backend_store_uri, artifacts, host, port, workers)
    foreground.check_free(host, port)
    # MLflow's job runner (GenAI evaluation jobs) is of no use to the suite's runs: not started unless asked for
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ}
    print(f"MLflow tracking server on http://{host}:{port} (Ctrl-C stops it)", flush=True)
    local = {"0.0.0.0": "127.0.0.1", "::": "[::1]"}.get(host, host)  # a wildcard bind answers on loopback
    announce_when_up(f"http://{local}:{port}/health", f"tracking server ready: http://{host}:{port}")
    return foreground.run(command, env=env)
