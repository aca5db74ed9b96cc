"""Scale-out end to end on 127.0.0.1: PostgreSQL, an MLflow server on it (`suite server`), a Ray cluster of a
head and one extra worker node, a grid run through them with one trial process killed mid-grid, then the same
grid again; and an Optuna study in the same PostgreSQL. Needs PostgreSQL's server binaries (.ci/run installs
Debian's postgresql package when they are absent).

Two folders live outside pytest's tmp_path, made with tempfile and removed at the end: PostgreSQL's (the postgres
user cannot enter pytest's private temp folder) and Ray's (Unix socket paths below it may not exceed 107
characters)."""

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests import procs
from tests.integration.killing import kill_a_running_trial

pytestmark = pytest.mark.integration


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name) or sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found if isinstance(found, str) else (found[-1] if found else None)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(cmd: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: run its programs as the `postgres` system user then
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _wait(predicate, seconds: float, what: str) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def postgres():
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip("PostgreSQL server binaries not found: install Debian's postgresql package (.ci/run does)")
    # outside pytest's private (0700) temp folder, which the postgres user cannot enter
    root = Path(tempfile.mkdtemp(prefix="suite-pg-"))
    os.chmod(root, 0o777)
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    os.chmod(sockets, 0o777)
    port = _free_port()
    subprocess.run(_as_postgres([initdb, "-D", str(data), "-A", "trust", "-U", "suite"]), check=True,
                   capture_output=True)
    subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-l", str(root / "log"), "-w", "-o",
                                 f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1", "start"]), check=True,
                   capture_output=True)
    psql = _pg_bin("psql")
    for db in ("mlflow", "optuna"):
        subprocess.run([psql, "-h", "127.0.0.1", "-p", str(port), "-U", "suite", "-d", "postgres", "-c",
                        f"CREATE DATABASE {db}"], check=True, capture_output=True)
    yield f"postgresql://suite@127.0.0.1:{port}"
    subprocess.run(_as_postgres([pg_ctl, "-D", str(data), "-m", "fast", "stop"]), capture_output=True)
    shutil.rmtree(root, ignore_errors=True)


def _start_server(backend: str, artifacts: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "suite", "server", "--backend-store-uri", backend,
                             "--artifacts", str(artifacts), "--port", str(port), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    _wait(lambda: proc.poll() is not None or procs.answers(f"http://127.0.0.1:{port}/health"), 240,
          "the MLflow server")
    assert proc.poll() is None, "the MLflow server exited"
    return proc


def _stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def tracking_server(postgres, tmp_path_factory):
    port = _free_port()
    proc = _start_server(f"{postgres}/mlflow", tmp_path_factory.mktemp("artifacts"), port)
    yield f"http://127.0.0.1:{port}"
    _stop_server(proc)


@pytest.fixture(scope="module")
def ray_cluster():
    from ray.cluster_utils import Cluster

    # Ray's temp root is this short folder, not /tmp/ray: the cluster's sessions, and the ray_current_cluster
    # file Cluster writes (which would make a plain `ray.init()` elsewhere on the machine join this cluster)
    root = Path(tempfile.mkdtemp(prefix="sc"))
    env = pytest.MonkeyPatch()
    env.setenv("RAY_TMPDIR", str(root))
    temp = str(root / "ray")
    try:
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False,
                                                                "temp_dir": temp})
        try:
            cluster.add_node(num_cpus=1, temp_dir=temp)  # one extra worker node
            cluster.wait_for_nodes()
            yield cluster
        finally:
            cluster.shutdown()
    finally:
        env.undo()
        shutil.rmtree(root, ignore_errors=True)


def _trials(url: str, experiment: str):
    from mlflow.tracking import MlflowClient

    client = MlflowClient(url)
    exp = client.get_experiment_by_name(experiment)
    return [] if exp is None else client.search_runs([exp.experiment_id], "tags.`suite.kind` = 'trial'")


def test_grid_on_a_ray_cluster_and_a_postgres_tracking_server(tracking_server, ray_cluster, shared_data, tmp_path):
    args = [sys.executable, "-m", "suite", "run", "--models", "cnn,kmer_lr", "--tasks", "tf_mouse_2", "--seeds", "3",
            "--set", "epochs=2", "--set", "max_train_rows=800", "--address", ray_cluster.address,
            "--tracking-uri", tracking_server, "--experiment", "cluster", "--max-failures", "2", "--quiet"]
    env = {**os.environ, "SUITE_DATA_DIR": str(shared_data)}
    log = tmp_path / "run.log"
    with log.open("w") as out:
        proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        from mlflow.tracking import MlflowClient

        # the cluster's nodes are this process's children: the worker is looked for below it
        killed = kill_a_running_trial(MlflowClient(tracking_server), "cluster", os.getpid(),
                                      going=lambda: proc.poll() is None, model="cnn")
        assert proc.wait(timeout=600) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = log.read_text()
    assert "worker failed" in killed.data.tags["suite.error"]  # the killed attempt is recorded, not lost
    runs = _trials(tracking_server, "cluster")
    finished = [r.data.tags["suite.run_key"] for r in runs if r.info.status == "FINISHED"]
    assert len(finished) == 6 and len(set(finished)) == 6, output  # every trial finished, exactly once
    assert killed.data.tags["suite.run_key"] in finished  # ... the killed one on a retry
    artifacts = {a.path for a in __import__("mlflow").tracking.MlflowClient(tracking_server).list_artifacts(
        next(r for r in runs if r.info.status == "FINISHED").info.run_id)}
    assert "predictions.csv" in artifacts  # uploaded through the server

    again = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(_trials(tracking_server, "cluster")) == len(runs)  # nothing ran twice, nothing duplicated


def test_sweep_workers_on_the_cluster_share_postgres_optuna_storage(postgres, tracking_server, ray_cluster,
                                                                    shared_data, tmp_path):
    import optuna

    args = [sys.executable, "-m", "suite", "sweep", "--model", "kmer_lr", "--task", "tf_mouse_2", "--trials", "2",
            "--cv", "2", "--set", "epochs=1", "--set", "max_train_rows=400", "--storage", f"{postgres}/optuna",
            "--tracking-uri", tracking_server, "--workers", "2", "--address", ray_cluster.address]
    out = subprocess.run(args, cwd=tmp_path, env={**os.environ, "SUITE_DATA_DIR": str(shared_data)},
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    study = optuna.load_study(study_name="kmer_lr__tf_mouse_2", storage=f"{postgres}/optuna")
    assert sum(t.state.name in ("COMPLETE", "PRUNED") for t in study.trials) >= 2


def test_grid_goes_on_when_the_tracking_server_restarts(postgres, ray_cluster, shared_data, tmp_path):
    """The server is stopped while trials run and started again a few seconds later: the driver's MLflow calls
    back off and retry, the grid finishes, and every trial has exactly one finished run."""
    psql = _pg_bin("psql")
    host, port_db = postgres.rsplit("@", 1)[1].split(":")
    subprocess.run([psql, "-h", host, "-p", port_db, "-U", "suite", "-d", "postgres", "-c", "CREATE DATABASE restart"],
                   check=True, capture_output=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = _start_server(f"{postgres}/restart", tmp_path / "artifacts", port)
    args = [sys.executable, "-m", "suite", "run", "--models", "cnn", "--tasks", "tf_mouse_2", "--seeds", "2",
            "--set", "epochs=3", "--set", "max_train_rows=800", "--address", ray_cluster.address,
            "--tracking-uri", url, "--experiment", "restart", "--quiet"]
    env = {**os.environ, "SUITE_DATA_DIR": str(shared_data), "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait(lambda: any(r.info.status == "RUNNING" for r in _trials(url, "restart")), 300, "a running trial")
        _stop_server(server)
        time.sleep(5)
        server = _start_server(f"{postgres}/restart", tmp_path / "artifacts", port)
        output, _ = proc.communicate(timeout=600)
        assert proc.returncode == 0, output
        finished = [r.data.tags["suite.run_key"] for r in _trials(url, "restart") if r.info.status == "FINISHED"]
        assert len(finished) == 2 and len(set(finished)) == 2
    finally:
        _stop_server(server)
