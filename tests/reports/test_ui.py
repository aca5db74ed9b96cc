"""`suite ui` in the foreground: it prints the leaderboard's URL (the experiment's saved view), and again with
"ready" once the UI answers; SIGTERM to the suite process, once the UI answers, stops it with every process it
started (mlflow, uvicorn and its workers) and frees the port."""

import signal
import subprocess
import sys

import pytest

from tests import procs

pytestmark = pytest.mark.integration


def test_sigterm_stops_the_ui_and_every_process_it_started(store, tmp_path):
    port = procs.free_port()
    log = tmp_path / "ui.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "suite", "ui", "--tracking-uri", store.uri, "--port", str(port),
                                 "--no-browser"],
                                cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    tree: set[int] = set()
    try:
        url = f"http://127.0.0.1:{port}/health"
        procs.wait_for(lambda: proc.poll() is not None or procs.answers(url), 240, "the UI to answer")
        assert proc.poll() is None, log.read_text()
        leaderboard = (f"http://127.0.0.1:{port}/#/experiments/{store.experiment_id}/runs?"
                       "workflowType=machine_learning&viewStateShareKey=suite-leaderboard")
        assert f"leaderboard of 'dna-suite': {leaderboard}" in log.read_text()
        # said once /health answers (polled twice a second), never before
        procs.wait_for(lambda: f"MLflow UI ready: {leaderboard}" in log.read_text(), 30, "the ready line")
        tree = procs.descendants(proc.pid)
        listeners = procs.listening(tree)
        assert len(tree) >= 3, [procs.cmdline(p) for p in tree]  # suite, mlflow, uvicorn (and its workers)
        assert listeners and all(procs.loopback(ip) for ip, _, _ in listeners), listeners
        assert port in {p for _, p, _ in listeners}

        procs.signal_stops_everything(proc, tree, signal.SIGTERM, log, port, url)
    finally:
        procs.cleanup(proc, tree)
