"""`suite ui`: the MLflow UI on 127.0.0.1 against the suite's store (the embedded SQLite by default).

Parent runs carry test/<metric>_mean, _std and test/primary_mean, so sorting the runs table by
test/primary_mean (filter `tags.suite.kind = 'parent'`) is the leaderboard. Bound to 127.0.0.1 only: the UI has
no authentication, so reaching it from elsewhere is an ssh tunnel's job, not an open port's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from suite import foreground, tracking
from suite.errors import SuiteError


def ui_command(tracking_uri: str | None = None, port: int = 5000) -> list[str]:
    """The `mlflow ui` command line for the store, after checking there is a local store to show."""
    foreground.check_port(port)
    uri = tracking.resolve_uri(tracking_uri)
    if uri.startswith(("http://", "https://")):
        raise SuiteError(f"{uri} is already a tracking server", "open it in a browser; `suite ui` serves a local store")
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", "127.0.0.1",
               "--port", str(port)]
    root = tracking.artifact_root(uri)  # None unless a SQLite store
    if root is not None:
        db = Path(uri[len("sqlite:///"):])
        if not db.is_file():
            raise SuiteError(f"no MLflow store at {db}", "run `suite run` first, or pass --tracking-uri")
        command += ["--default-artifact-root", root.resolve().as_uri()]
    return command


def serve(tracking_uri: str | None = None, port: int = 5000) -> int:
    """Run the UI in the foreground until Ctrl-C or SIGTERM, which stop it with every process it started;
    returns its exit code (0 when stopped so)."""
    command = ui_command(tracking_uri, port)
    foreground.check_free("127.0.0.1", port)
    # MLflow's job runner (GenAI evaluation jobs) is of no use to the suite's runs: not started unless asked for
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ}
    print(f"MLflow UI on http://127.0.0.1:{port} (Ctrl-C stops it)", flush=True)
    return foreground.run(command, env=env)
