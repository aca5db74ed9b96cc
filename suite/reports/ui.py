"""`suite ui`: the MLflow UI on 127.0.0.1 against the suite's store (the embedded SQLite by default), opened on the
leaderboard.

Parent runs carry test/<metric>_mean, _std, n_runs and test/primary_mean, so the parent runs sorted by
test/primary_mean are the leaderboard. MLflow 3's UI opens on its GenAI home page and shows no metric column until
one is picked, so before serving, the experiment gets the leaderboard as a saved view (runs_view.py: one experiment
tag, rewritten each time) and the URL printed (and opened, where there is a screen) is that view's.

Bound to 127.0.0.1 only: the UI has no authentication, so reaching it from elsewhere is an ssh tunnel's job, not
an open port's.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from suite import foreground, tracking
from suite.errors import SuiteError
from suite.reports.runs_view import LEADERBOARD, LEADERBOARD_KEY, runs_url, saved_view_tag
from suite.server import announce_when_up

HOST = "127.0.0.1"
VIEW_NAME = "suite leaderboard"


def ui_command(tracking_uri: str | None = None, port: int = 5000) -> list[str]:
    """The `mlflow ui` command line for the store, after checking there is a local store to show."""
    foreground.check_port(port)
    uri = tracking.resolve_uri(tracking_uri)
    if uri.startswith(("http://", "https://")):
        raise SuiteError(f"{uri} is already a tracking server", "open it in a browser; `suite ui` serves a local store")
    command = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", HOST,
               "--port", str(port)]
    root = tracking.artifact_root(uri)  # None unless a SQLite store
    if root is not None:
        db = Path(uri[len("sqlite:///"):])
        if not db.is_file():
            raise SuiteError(f"no MLflow store at {db}", "run `suite run` first, or pass --tracking-uri")
        command += ["--default-artifact-root", root.resolve().as_uri()]
    return command


def leaderboard_view(tracking_uri: str | None, experiment: str, ui_url: str) -> str:
    """Save the leaderboard view on `experiment` and return its URL. The experiment must exist: an unknown name
    is refused with the known ones (nothing is created)."""
    store = tracking.Experiment(tracking_uri, experiment, create=False)
    store.tag_experiment(*saved_view_tag(LEADERBOARD, VIEW_NAME, int(time.time() * 1000)))
    return runs_url(ui_url, store.id, share_key=LEADERBOARD_KEY)


def has_screen() -> bool:
    """Whether a graphical browser can open: without one, Python's webbrowser may start a text browser (w3m,
    lynx) that takes over the terminal the UI runs in."""
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def serve(tracking_uri: str | None = None, port: int = 5000, experiment: str = "dna-suite",
          open_browser: bool = True) -> int:
    """Run the UI in the foreground until Ctrl-C or SIGTERM, which stop it with every process it started;
    returns its exit code (0 when stopped so)."""
    command = ui_command(tracking_uri, port)
    foreground.check_free(HOST, port)
    base = f"http://{HOST}:{port}"
    url = leaderboard_view(tracking_uri, experiment, base)
    # MLflow's job runner (GenAI evaluation jobs) is of no use to the suite's runs: not started unless asked for
    env = {"MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", **os.environ}
    print(f"MLflow UI on {base} (Ctrl-C stops it)\nleaderboard of '{experiment}': {url}", flush=True)
    browse = open_browser and has_screen()
    announce_when_up(f"{base}/health", f"MLflow UI ready: {url}", then=(lambda: _browse(url)) if browse else None)
    return foreground.run(command, env=env)


def _browse(url: str) -> None:
    import webbrowser

    webbrowser.open(url)
