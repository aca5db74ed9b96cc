"""`suite run` end to end: a real local Ray cluster, a real SQLite MLflow store, real data, the real CLI."""

import itertools
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests import procs
from tests.integration.killing import kill_a_running_trial, running_trials

pytestmark = pytest.mark.integration

GRID = ["--models", "cnn,kmer_lr", "--tasks", "tf_mouse_2,prom_core_tata", "--seeds", "2",
        "--set", "epochs=2", "--set", "max_train_rows=800", "--max-concurrent", "2"]


def suite_run(args, cwd, experiment, popen: bool = False, **options):
    """`suite run` to its end, or started (`popen`, with Popen `options`) for a test to signal it."""
    cmd = [sys.executable, "-m", "suite", "run", *args, "--experiment", experiment]
    env = {**os.environ, "COLUMNS": "200"}
    if popen:
        return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                **options)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def store(cwd: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(f"sqlite:///{cwd / 'runs' / 'mlflow.db'}")


def runs_of(client, experiment, kind="trial"):
    exp = client.get_experiment_by_name(experiment)
    return client.search_runs([exp.experiment_id], f"tags.`suite.kind` = '{kind}'", max_results=1000)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, shared_data):
    os.environ["SUITE_DATA_DIR"] = str(shared_data)
    return tmp_path_factory.mktemp("run")


@pytest.fixture(scope="module")
def grid(workdir):
    out = suite_run(GRID, workdir, "grid")
    assert out.returncode == 0, out.stdout + out.stderr
    return out


def test_every_trial_is_a_finished_child_run_with_tags_metrics_and_artifacts(grid, workdir):
    client = store(workdir)
    trials = runs_of(client, "grid")
    assert len(trials) == 8 and {r.info.status for r in trials} == {"FINISHED"}
    combos = {(r.data.tags["suite.model"], r.data.tags["suite.task"], r.data.tags["suite.seed"]) for r in trials}
    assert len(combos) == 8
    for run in trials:
        tags = run.data.tags
        for tag in ("suite.run_key", "suite.benchmark", "suite.fold", "suite.mode", "suite.profile", "suite.git",
                    "suite.data_sha256", "mlflow.parentRunId"):
            assert tag in tags, tag
        assert tags["suite.mode"] == "finetune" and tags["suite.profile"] == "quick"
        assert tags["suite.data_sha256"].startswith("train:")
        metrics = run.data.metrics
        for name in ("test/mcc", "test/accuracy", "test/macro_f1", "test/auroc", "cost/wall_seconds",
                     "cost/peak_memory_mb", "cost/parameters", "cost/train_flops_per_sample",
                     "cost/train_seconds_per_epoch"):
            assert name in metrics, name
        assert -1 <= metrics["test/mcc"] <= 1
        history = client.get_metric_history(run.info.run_id, "val/mcc")
        assert [m.step for m in history] == list(range(int(metrics["cost/epochs"])))
        assert run.data.params["epochs"] == "2" and run.data.params["max_train_rows"] == "800"
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
        assert artifacts == {"predictions.csv", "confusion.csv", "history.csv", "trial.json", "settings.tsv"}


def test_parent_runs_hold_mean_and_std_over_seeds(grid, workdir):
    client = store(workdir)
    parents = runs_of(client, "grid", kind="parent")
    assert len(parents) == 4
    trials = runs_of(client, "grid")
    for parent in parents:
        children = [r for r in trials if r.data.tags["mlflow.parentRunId"] == parent.info.run_id]
        values = np.array([c.data.metrics["test/mcc"] for c in children])
        assert len(children) == 2 and parent.data.metrics["n_runs"] == 2
        assert parent.data.metrics["test/mcc_mean"] == pytest.approx(values.mean())
        assert parent.data.metrics["test/mcc_std"] == pytest.approx(values.std(ddof=1))
        assert parent.data.metrics["test/primary_mean"] == pytest.approx(values.mean())
    assert "leaderboard" in grid.stdout and "8 finished, 0 failed" in grid.stdout


def test_a_log_gets_each_trials_start_epochs_and_end_from_the_ray_workers(grid):
    """stdout is a pipe here, not a terminal: one timestamped line per event, epochs included, in order."""
    events = [line.split(" ", 2)[2] for line in grid.stdout.splitlines()
              if re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", line)]
    for model, task, seed in itertools.product(("cnn", "kmer_lr"), ("tf_mouse_2", "prom_core_tata"), (0, 1)):
        mine = [e.split(": ", 1)[1] for e in events if e.startswith(f"{model} × {task} × seed {seed}: ")]
        assert mine[0] == "started" and mine[-1].startswith("finished · test mcc "), mine
        epochs = mine[1:-1]
        assert epochs and all(re.match(r"epoch \d+/\d+ · val mcc ", e) for e in epochs), mine
        assert epochs[0].startswith("epoch 1/"), mine


def test_same_command_again_runs_nothing_and_duplicates_nothing(grid, workdir):
    client = store(workdir)
    before = {r.info.run_id for r in runs_of(client, "grid")}
    aggregates = {p.info.run_id: p.data.metrics["test/mcc_mean"] for p in runs_of(client, "grid", kind="parent")}
    again = suite_run(GRID, workdir, "grid")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "8 of 8 trials already finished" in again.stdout
    assert {r.info.run_id for r in runs_of(client, "grid")} == before
    assert {p.info.run_id: p.data.metrics["test/mcc_mean"] for p in runs_of(client, "grid", kind="parent")} == aggregates


def test_a_killed_trial_process_is_retried_and_finishes_exactly_once(workdir):
    args = ["--models", "cnn", "--tasks", "tf_mouse_4", "--seeds", "2", "--set", "epochs=3",
            "--set", "patience=5", "--max-concurrent", "1", "--max-failures", "2"]
    proc = suite_run(args, workdir, "killed", popen=True)
    try:
        procs.wait_for(lambda: proc.poll() is not None or running_trials(workdir / "runs" / "mlflow.db",
                                                                           experiment="killed") > 0, 240,
                       "a RUNNING trial")
        killed = kill_a_running_trial(store(workdir), "killed", proc.pid, going=lambda: proc.poll() is None)
        output, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, output
    trials = runs_of(store(workdir), "killed")
    finished = [r for r in trials if r.info.status == "FINISHED"]
    keys = [r.data.tags["suite.run_key"] for r in finished]
    assert len(keys) == 2 and len(set(keys)) == 2  # every trial finished, exactly once
    assert "worker failed" in killed.data.tags["suite.error"]
    assert killed.data.tags["suite.run_key"] in keys  # the killed attempt's key finished on retry
    again = suite_run(args, workdir, "killed")
    assert "2 of 2 trials already finished" in again.stdout
    assert len([r for r in runs_of(store(workdir), "killed") if r.info.status == "FINISHED"]) == 2


@pytest.mark.parametrize("ray", [True, False], ids=["ray", "no-ray"])
def test_a_driver_stopped_with_sigterm_leaves_no_run_running(workdir, ray):
    """`kill PID` (or a scheduler preempting the job) takes Ctrl-C's way out: the open runs are ended KILLED, not
    left RUNNING. Through Ray and with --no-ray (the trial then trains in the driver itself)."""
    experiment = f"terminated-{ray}"
    # a trial that cannot end before the signal (30 epochs took 15 s: on an idle machine it finished first); the
    # profile's step budget (max_steps 1,000 = 32 epochs here) is lifted with the epochs
    args = ["--models", "cnn", "--tasks", "tf_mouse_4", "--seeds", "1", "--set", "epochs=100000",
            "--set", "max_steps=100000000", "--set", "patience=100000", "--set", "max_train_rows=2000",
            *([] if ray else ["--no-ray"])]
    db = workdir / "runs" / "mlflow.db"
    proc = suite_run(args, workdir, experiment, popen=True)
    try:
        def training() -> bool:
            names = [procs.cmdline(pid) for pid in procs.descendants(proc.pid)]
            return proc.poll() is not None or (running_trials(db, experiment=experiment) > 0 and (
                not ray or any(n.startswith("ray::ImplicitFunc") for n in names)))

        procs.wait_for(training, 300, "a RUNNING trial")
        assert proc.poll() is None, proc.communicate()[0]  # the driver is still training when the signal is sent
        proc.terminate()
        output, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0 and "Traceback" not in output, output
    trials = runs_of(store(workdir), experiment)
    assert [r.info.status for r in trials] == ["KILLED"]  # not RUNNING: resume will run it again


def test_the_trials_reuse_their_worker_processes(grid, workdir):
    """A worker process per concurrent slot imports torch once and runs trial after trial: the 8 trials of the grid
    (2 at a time) ran in fewer processes than trials."""
    pids = {r.data.tags["suite.worker_pid"] for r in runs_of(store(workdir), "grid")}
    assert len(pids) < 8, pids


def test_ctrl_c_records_no_unfinished_trial_as_finished_and_the_same_command_resumes(workdir):
    """Ctrl-C (SIGINT to the driver's process group, as a terminal sends it) once a trial has finished in a worker
    and the next runs in the same worker: the run ends, nothing is left RUNNING, every FINISHED trial has its
    test metrics, and the same command again runs only what did not finish."""
    args = ["--models", "cnn", "--tasks", "tf_mouse_2", "--seeds", "3", "--set", "epochs=8", "--set", "patience=9",
            "--set", "max_train_rows=1500", "--max-concurrent", "1"]
    db = workdir / "runs" / "mlflow.db"
    proc = suite_run(args, workdir, "interrupted", popen=True, start_new_session=True)  # its own process group
    try:
        procs.wait_for(lambda: proc.poll() is not None or (running_trials(db, "FINISHED", "interrupted") >= 1
                                                           and running_trials(db, "RUNNING", "interrupted") >= 1), 600,
                       "a finished trial and a running one")
        assert proc.poll() is None, proc.communicate()[0]  # still running: the state this test interrupts
        os.killpg(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    trials = runs_of(store(workdir), "interrupted")
    statuses = [r.info.status for r in trials]
    assert "RUNNING" not in statuses, (statuses, output)
    assert set(statuses) <= {"FINISHED", "KILLED", "FAILED"}, (statuses, output)
    finished = {r.data.tags["suite.run_key"] for r in trials if r.info.status == "FINISHED"}
    assert 1 <= len(finished) < 3, (statuses, output)  # interrupted: not everything finished
    assert all("test/mcc" in r.data.metrics for r in trials if r.info.status == "FINISHED")
    again = suite_run(args, workdir, "interrupted")
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{len(finished)} of 3 trials already finished" in again.stdout, again.stdout
    done = [r.data.tags["suite.run_key"] for r in runs_of(store(workdir), "interrupted")
            if r.info.status == "FINISHED"]
    assert len(done) == 3 and len(set(done)) == 3 and finished <= set(done)
