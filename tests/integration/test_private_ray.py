"""The local Ray of `suite run` (no --address) is a new instance of its own, bound to 127.0.0.1: it never joins
a cluster it finds (RAY_ADDRESS here points at one started for the test), and nothing of it outlives its driver,
not even a driver killed with SIGKILL.

Ray's temp folders hold Unix sockets, whose paths may not exceed 107 characters, too few for pytest's tmp_path:
they go to a short private folder made with tempfile and removed at the end."""

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
from tests.integration.killing import running_trials

pytestmark = pytest.mark.integration

RUN = ["--models", "kmer_lr", "--tasks", "tf_mouse_2", "--seeds", "1", "--set", "max_train_rows=300"]


@pytest.fixture(scope="module")
def short_root():
    root = Path(tempfile.mkdtemp(prefix="sr"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def _gcs_up(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def outside_cluster(short_root):
    """A Ray head of its own (`ray start --head --block`, its own temp folder), up and answering before any
    test uses it; stopped at the end by signalling only the processes it started."""
    port = procs.free_port()
    temp = short_root / "outside"
    ray_cli = Path(sys.executable).parent / "ray"
    with (short_root / "outside.log").open("w") as log:
        head = subprocess.Popen([str(ray_cli), "start", "--head", "--port", str(port), "--num-cpus", "1",
                                 "--temp-dir", str(temp), "--include-dashboard", "false", "--disable-usage-stats",
                                 "--block"], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    tree: set[int] = set()
    try:
        procs.wait_for(lambda: head.poll() is not None or ((temp / "ray_current_cluster").is_file() and _gcs_up(port)),
                       240, "the outside Ray head")
        assert head.poll() is None, (short_root / "outside.log").read_text()
        yield {"address": f"127.0.0.1:{port}", "port": port, "temp": temp, "head": head}
    finally:
        tree = procs.descendants(head.pid)
        head.send_signal(signal.SIGTERM)  # `ray start --block` stops the processes it started
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(procs.alive(pid) for pid in tree):
            time.sleep(0.5)
        procs.kill(tree)  # Ray's agents can take a minute to go on their own
        if head.poll() is None:
            head.kill()
            head.wait()


def _drivers(temp: Path) -> list[Path]:
    """Log files of the drivers a Ray instance has had (each driver that connects writes one)."""
    return sorted(temp.glob("session_2*/logs/python-core-driver-*"))


def _suite_run(args, cwd: Path, env: dict, **kwargs):
    return subprocess.run([sys.executable, "-m", "suite", "run", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, **kwargs)


def test_suite_run_starts_its_own_ray_and_ignores_a_cluster_in_reach(outside_cluster, shared_data, short_root,
                                                                     tmp_path):
    private = short_root / "run"
    private.mkdir()
    env = {**os.environ, "SUITE_DATA_DIR": str(shared_data), "RAY_ADDRESS": outside_cluster["address"],
           "RAY_TMPDIR": str(private)}
    assert _drivers(outside_cluster["temp"]) == []
    out = _suite_run([*RUN, "--tracking-uri", f"sqlite:///{tmp_path}/mlflow.db", "--experiment", "private"],
                     tmp_path, env, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 finished, 0 failed" in out.stdout, out.stdout
    assert _drivers(outside_cluster["temp"]) == []  # the outside cluster never saw a driver
    heads = list(private.glob("ray/s*/session_2*/logs/gcs_server.out"))
    assert len(heads) == 1  # a new head node of the run's own
    assert outside_cluster["head"].poll() is None
    assert not procs.using(private)  # and nothing of it is left


PROBE = """
import os, sys
import ray
from suite.runs.fanout import private_ray, run_remote

def where():
    return ray.get_runtime_context().gcs_address

with private_ray(num_cpus=1, log_to_driver=False, logging_level="ERROR"):
    @ray.remote
    def pid():
        return os.getpid()
    print(ray.get_runtime_context().gcs_address, ray.get(pid.remote()), flush=True)
    sys.stdin.readline()  # the test measures now
run_remote(where, (), 1, cpus=1, gpus=0, address=None)
print("run_remote done", flush=True)
"""


def test_the_private_ray_listens_on_127_0_0_1_only(outside_cluster, short_root):
    private = short_root / "probe"
    private.mkdir()
    env = {**os.environ, "RAY_ADDRESS": outside_cluster["address"], "RAY_TMPDIR": str(private)}
    proc = subprocess.Popen([sys.executable, "-c", PROBE], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    tree: set[int] = set()
    try:
        line = proc.stdout.readline().split()
        assert len(line) == 2, proc.stderr.read() if proc.poll() is not None else line
        gcs, worker = line[0], int(line[1])
        tree = procs.descendants(proc.pid)
        assert worker in tree  # Ray is up, with a worker that has run a task
        listeners = procs.listening(tree)
        assert {pid for _, _, pid in listeners} >= {worker}  # the worker's own server counts too
        assert all(procs.loopback(ip) for ip, _, _ in listeners), listeners
        assert gcs.startswith("127.0.0.1:") and gcs != outside_cluster["address"]
        proc.stdin.write("\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        assert "run_remote done" in out  # run_remote without an address starts a private instance too
        assert _drivers(outside_cluster["temp"]) == []
        assert not procs.using(private)
    finally:
        procs.kill(tree)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_driver_killed_with_sigkill_leaves_no_ray_process(shared_data, short_root, tmp_path):
    """Ray's fate-sharing ends the GCS and raylet with the driver, its workers follow; its agents would hang on
    for a minute: the watchdog (suite/runs/reaper.py) kills them at once."""
    private = short_root / "killed"
    private.mkdir()
    env = {**os.environ, "SUITE_DATA_DIR": str(shared_data), "RAY_TMPDIR": str(private)}
    db = tmp_path / "mlflow.db"
    args = ["--models", "cnn", "--tasks", "tf_mouse_2", "--seeds", "1", "--set", "epochs=30", "--set", "patience=30",
            "--set", "max_train_rows=2000", "--tracking-uri", f"sqlite:///{db}", "--experiment", "killed"]
    driver = subprocess.Popen([sys.executable, "-m", "suite", "run", *args], cwd=tmp_path, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    tree: set[int] = set()
    try:
        def training() -> bool:
            names = [procs.cmdline(pid) for pid in procs.descendants(driver.pid)]
            return driver.poll() is not None or (running_trials(db) > 0
                                                 and any(n.startswith("ray::ImplicitFunc") for n in names))

        procs.wait_for(training, 300, "a RUNNING trial in a Ray worker")
        assert driver.poll() is None
        tree = procs.descendants(driver.pid)
        names = {pid: procs.cmdline(pid) for pid in tree}
        watchdog = [pid for pid, name in names.items() if "reaper.py" in name]
        assert len(watchdog) == 1, names
        assert any(n.startswith("ray::RuntimeEnvAgent") for n in names.values()), names
        driver.kill()
        driver.wait()
        procs.wait_for(lambda: not procs.alive(watchdog[0]), 60, "the watchdog to finish")
        assert not {pid: name for pid, name in names.items() if procs.alive(pid)}
        assert not procs.using(private)
    finally:
        procs.kill(tree)
        if driver.poll() is None:
            driver.kill()
            driver.wait()
