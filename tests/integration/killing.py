"""Killing the process that runs a trial, for the tests of retries: never "some Ray process", always the worker a
RUNNING attempt says runs it (the MLflow tag suite.worker_pid its trainable reports first thing), checked in /proc
to be a Ray trial worker below the test's own process tree; then wait until MLflow records how the attempt ended."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests import procs


def running_trials(db: Path, status: str = "RUNNING", experiment: str | None = None) -> int:
    """Trial runs in `status` (RUNNING by default), of `experiment` if given (a module's tests share one store), in
    a SQLite MLflow store, read-only (a client of its own would create the store, and race the driver doing so)."""
    import sqlite3

    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(
                "SELECT COUNT(*) FROM runs JOIN tags ON runs.run_uuid = tags.run_uuid "
                "JOIN experiments ON runs.experiment_id = experiments.experiment_id WHERE tags.key = 'suite.kind' "
                "AND tags.value = 'trial' AND runs.status = ? AND (? IS NULL OR experiments.name = ?)",
                (status, experiment, experiment)).fetchone()[0]
    except sqlite3.Error:  # the store is being created
        return 0


def _is_trial_worker(pid: int, ancestor: int) -> bool:
    return (pid > 0 and procs.alive(pid) and procs.cmdline(pid).startswith("ray::ImplicitFunc")
            and pid in procs.descendants(ancestor))


def _quiet(call, default):
    try:
        return call()
    except Exception:  # noqa: BLE001  the experiment or the store may not exist yet; the server may be busy
        return default


def kill_a_running_trial(client, experiment: str, ancestor: int, going: Callable[[], bool], seconds: float = 300,
                         model: str | None = None):
    """SIGKILL the worker of a RUNNING attempt (of `model` if given) and wait until MLflow ends that attempt.
    Returns the attempt's run once it is FAILED. An attempt that finished before the signal landed does not
    count: the next running one is tried, until `going()` turns false or `seconds` pass."""
    deadline = time.monotonic() + seconds

    def attempts():
        exp = _quiet(lambda: client.get_experiment_by_name(experiment), None)
        if exp is None:
            return []
        return _quiet(lambda: client.search_runs([exp.experiment_id], "tags.`suite.kind` = 'trial'",
                                                 max_results=1000), [])

    while time.monotonic() < deadline and going():
        for run in attempts():
            pid = int(run.data.tags.get("suite.worker_pid", "0"))
            if run.info.status != "RUNNING" or (model and run.data.tags.get("suite.model") != model):
                continue
            if not _is_trial_worker(pid, ancestor):
                continue
            os.kill(pid, signal.SIGKILL)
            run_id = run.info.run_id
            procs.wait_for(lambda: _quiet(lambda: client.get_run(run_id).info.status, "RUNNING") != "RUNNING",
                           max(1.0, deadline - time.monotonic()), f"MLflow to end the killed attempt {run_id}")
            ended = client.get_run(run_id)
            if ended.info.status == "FAILED":
                return ended
            break  # it finished before the signal landed: try another attempt
        time.sleep(0.5)
    raise AssertionError(f"no RUNNING attempt with a live Ray worker was killed within {seconds:.0f} s")
