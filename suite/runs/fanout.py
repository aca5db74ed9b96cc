"""Ray Tune fan-out of planned trials (the only module that imports ray).

Each trial is a Tune trial of one function trainable with its own resources (`--cpus-per-trial`,
`--gpus-per-trial`, fractions allowed), at most `--max-concurrent` at once, retried on a crash
(FailureConfig). The driver-side TuneWriter callback is the only MLflow writer, and it writes synchronously: a
worker's report waits until the driver has taken it in, so MLflow's view (RUNNING, the worker's pid, FINISHED) is
never behind the workers. Data reaches workers through the encoding cache on disk (memory-mapped; the driver encodes
every task once before the fan-out), so no trial re-reads or re-encodes the raw files, and the workers share its
pages through the page cache.

Workers are reused (Tune's `reuse_actors`): one worker process per concurrent slot imports torch and the suite once
and runs trial after trial, each from the state a new process has (run_trial resets it: suite/runs/trial.py). A
trial that crashed its worker is retried in a new one; Tune never reuses the actor of a trial that raised.
`--address` joins an existing cluster; otherwise a new, private Ray starts in-process (`private_ray`): it never
joins a cluster it finds on the machine.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

from ray.tune import Callback

from suite.errors import InvalidResult, SuiteError
from suite.runs import reaper
from suite.runs.plan import TrialSpec
from suite.runs.progress import ProgressView
from suite.tracking import RunTracker, Tag


@contextmanager
def _private_environment(token: str):
    """For the length of a local `ray.init`, whose new processes inherit this environment: RAY_ADDRESS out of it
    (`address="local"` already ignores it), the instance's marker in it (the reaper finds the processes by it),
    and Ray's node address the loopback. Ray turns an explicit 127.0.0.1 into the machine's address unless its
    cluster mode is off (as it is on macOS and Windows); with it off, GCS, raylet, agents and workers all listen
    on 127.0.0.1 only."""
    from ray._private import ray_constants

    saved = {name: os.environ.pop(name, None) for name in ("RAY_ADDRESS", reaper.MARKER)}
    os.environ[reaper.MARKER] = token
    saved_mode = ray_constants.ENABLE_RAY_CLUSTER
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_mode
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


# Ray's longest socket path below its temp folder: /session_<date>_<time>_<µs>_<pid>/sockets/plasma_store
_MAX_TEMP_DIR = 107 - len("/session_2026-01-01_00-00-00_000000_4194304/sockets/plasma_store")


# Ray's raylet exits when its dashboard agent has not written its port file within 15 s, a fixed limit that a busy
# machine can pass (ray-project/ray#65983); ray.init then says "The current node timed out during startup".
_START_ATTEMPTS = 3


@contextmanager
def private_ray(num_cpus: int | None = None, **kwargs):
    """A new Ray instance of this process alone, bound to 127.0.0.1, shut down on leaving the block.

    `address="local"` starts a fresh head even when RAY_ADDRESS is set or `ray start` left a cluster behind
    (/tmp/ray/ray_current_cluster). Its temp folder is its own (<Ray's temp root>/s<6 hex>, beside Ray's usual
    session folders; short, for the Unix socket paths below it). Ray's fate-sharing stops the GCS and raylet
    (and with them the workers) when this process dies, even by SIGKILL; the watchdog of suite/runs/reaper.py,
    started first in its own session, kills what remains of the instance once this process has left the block
    or is gone. A start that times out (Ray's agents slow on a busy machine) is cleared away and tried again."""
    import ray

    token = uuid.uuid4().hex
    folder = Path(os.environ.get("RAY_TMPDIR") or tempfile.gettempdir()).resolve() / "ray" / f"s{token[:6]}"
    if len(str(folder)) > _MAX_TEMP_DIR:
        raise SuiteError(f"Ray's socket paths under {folder} would pass the 107-byte limit of Unix sockets",
                         "set RAY_TMPDIR to a short folder, e.g. RAY_TMPDIR=/tmp")
    env = {k: v for k, v in os.environ.items() if k != reaper.MARKER}
    watchdog = subprocess.Popen(
        [sys.executable, "-I", reaper.__file__, token, str(os.getpid()), str(os.getsid(0)), str(folder)],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        for attempt in range(1, _START_ATTEMPTS + 1):
            try:
                with _private_environment(token):
                    ray.init(address="local", num_cpus=num_cpus, _node_ip_address="127.0.0.1",
                             _temp_dir=str(folder), include_dashboard=False, **kwargs)
                break
            except Exception as exc:
                if "timed out during startup" not in str(exc):
                    raise
                if attempt == _START_ATTEMPTS:
                    raise SuiteError(f"Ray did not start in {_START_ATTEMPTS} tries: its agents were too slow for its "
                                     "raylet (a busy machine)", "run again when the machine is less busy, or "
                                     "pass --no-ray") from exc
                # what the failed start left running (its processes carry the marker) goes before the next try
                reaper.reap(token, str(folder), os.getsid(0), spare={os.getpid(), watchdog.pid})
        try:
            yield
        finally:
            ray.shutdown()
    finally:
        watchdog.stdin.close()  # the watchdog reaps what ray.shutdown left, then exits
        try:
            watchdog.wait(timeout=60)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait()


def _connect(stack: ExitStack, address: str | None, num_cpus: int | None = None, log_to_driver: bool = False) -> None:
    """Join the cluster at `address`, or start a private local instance; either is shut down with `stack`.
    `log_to_driver`: the workers' output is printed here (Ray prefixes each line with its process)."""
    import ray

    kwargs = dict(log_to_driver=log_to_driver, logging_level="ERROR")
    if address:
        ray.init(address=address, include_dashboard=False, **kwargs)
        stack.callback(ray.shutdown)
    else:
        stack.enter_context(private_ray(num_cpus=num_cpus, **kwargs))


# Tune hands a worker its next trial once the last one's thread has ended, waiting this long for it; its default,
# 2 s, can pass on a loaded machine (the reset then fails and the next trial needs a new worker). Read in the worker.
_THREAD_TIMEOUT = ("TUNE_FUNCTION_THREAD_TIMEOUT_S", "60")


def _trainable(config: dict) -> None:
    from ray import tune

    os.environ.setdefault(*_THREAD_TIMEOUT)  # read by the reset that hands this worker its next trial

    from suite.runs.trial import run_trial

    spec = TrialSpec.from_dict(config["trial"])
    out_dir = Path(tune.get_context().get_trial_dir())
    # which process runs this attempt (MLflow tags suite.worker_host / suite.worker_pid): to inspect it, or kill it
    tune.report({"kind": "worker", "host": socket.gethostname(), "pid": os.getpid()})

    def report(epoch: int, row: dict, epochs: int) -> None:  # reaches TuneWriter.on_trial_result on the driver
        tune.report({"kind": "epoch", "row_json": json.dumps(row), "epochs": epochs})

    try:
        result = run_trial(spec, out_dir, report=report, threads=config["threads"])
    except InvalidResult as exc:  # deterministic: recorded FAILED with its reason, not retried
        tune.report({"kind": "invalid", "error": f"{type(exc).__name__}: {exc}"})
        return
    tune.report({"kind": "final", "result_json": json.dumps(result.to_dict(), default=float)})


class TuneWriter(Callback):
    """Ray callback on the driver: trial events (start, each epoch, the result, a failure) → MLflow child runs and
    the progress view.
    Tune pickles its run config (this callback included) into the experiment state; the live MLflow client
    and terminal view stay out of that pickle."""

    def __init__(self, tracker: RunTracker, progress: ProgressView, outcomes: dict) -> None:
        self.tracker, self.progress, self.outcomes = tracker, progress, outcomes

    def __getstate__(self) -> dict:
        return {}

    @staticmethod
    def _key(trial) -> str:
        return trial.config["trial"]["key"]

    def on_trial_start(self, iteration, trials, trial, **info):
        self.tracker.start(TrialSpec.from_dict(trial.config["trial"]).tracked())
        self.progress.trial_started(self._key(trial))

    def on_trial_recover(self, iteration, trials, trial, **info):
        self.tracker.end(self._key(trial), "FAILED", error=f"worker failed, retry {trial.num_failures}")

    def on_trial_result(self, iteration, trials, trial, result, **info):
        key = self._key(trial)
        if result.get("kind") == "worker":
            self.tracker.tag(key, {Tag.WORKER_HOST: result["host"], Tag.WORKER_PID: result["pid"]})
        elif result.get("kind") == "epoch":
            row = json.loads(result["row_json"])
            self.tracker.epoch(key, row)
            self.progress.trial_epoch(key, int(row.get("epoch", 0)), int(result.get("epochs", 0)), row)
        elif result.get("kind") == "final":
            outcome = json.loads(result["result_json"])
            self.tracker.complete(key, outcome)
            self.outcomes[key] = outcome
            self.progress.trial_ended(key, ok=True, result=outcome)
        elif result.get("kind") == "invalid":
            self.tracker.end(key, "FAILED", error=result["error"])
            self.outcomes[key] = None
            self.progress.trial_ended(key, ok=False, error=result["error"])

    def on_trial_error(self, iteration, trials, trial, **info):
        key = self._key(trial)
        path = Path(trial.local_path or "") / "error.txt"
        error = path.read_text()[-5000:] if path.is_file() else ""
        self.tracker.end(key, "FAILED", error=error)
        self.outcomes.setdefault(key, None)
        self.progress.trial_ended(key, ok=False, error=error)


def run_on_ray(trials: list[TrialSpec], tracker: RunTracker, progress: ProgressView, *, cpus_per_trial: float,
               gpus_per_trial: float, max_concurrent: int | None, max_failures: int, address: str | None,
               storage: Path, name: str) -> dict[str, dict | None]:
    """Run the trials; returns run key → result dict (None for a trial that failed for good)."""
    import ray
    from ray import tune

    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    outcomes: dict[str, dict | None] = {}
    with ExitStack() as stack:
        if not ray.is_initialized():
            _connect(stack, address, num_cpus=max(os.cpu_count() or 1, math.ceil(cpus_per_trial)))
        resources = {"cpu": cpus_per_trial, "gpu": gpus_per_trial}
        tuner = tune.Tuner(
            tune.with_resources(_trainable, resources),
            param_space={"threads": max(1, int(cpus_per_trial)),
                         "trial": tune.grid_search([t.to_dict() for t in trials])},
            tune_config=tune.TuneConfig(max_concurrent_trials=max_concurrent or 0, reuse_actors=True),
            run_config=tune.RunConfig(
                name=name, storage_path=str(storage.resolve()), verbose=0,
                failure_config=tune.FailureConfig(max_failures=max_failures),
                callbacks=[TuneWriter(tracker, progress, outcomes)],
            ),
        )
        tuner.fit()
    return outcomes


def run_in_process(trials: list[TrialSpec], tracker: RunTracker, progress: ProgressView, storage: Path,
                   threads: int | None) -> dict[str, dict | None]:
    """The same trials one after another in this process, without Ray (debugging; `--no-ray`)."""
    from suite.runs.trial import run_trial

    outcomes: dict[str, dict | None] = {}
    for spec in trials:
        tracker.start(spec.tracked())
        progress.trial_started(spec.key)

        def report(epoch: int, row: dict, epochs: int, key: str = spec.key) -> None:
            tracker.epoch(key, row)
            progress.trial_epoch(key, epoch, epochs, row)

        try:
            result = run_trial(spec, storage / spec.key, report=report, threads=threads).to_dict()
        except Exception as exc:  # noqa: BLE001  recorded as FAILED, the grid goes on
            error = f"{type(exc).__name__}: {exc}"
            tracker.end(spec.key, "FAILED", error=error)
            outcomes[spec.key] = None
            progress.trial_ended(spec.key, ok=False, error=error)
            continue
        tracker.complete(spec.key, json.loads(json.dumps(result, default=float)))
        outcomes[spec.key] = result
        progress.trial_ended(spec.key, ok=True, result=result)
    return outcomes


def run_remote(function, args: tuple, copies: int, *, cpus: float, gpus: float, address: str | None,
               env: dict | None = None, forward_output: bool = False) -> None:
    """Run `copies` copies of function(*args) as Ray tasks (e.g. Optuna workers of `suite sweep --address`);
    `env` reaches the workers' environment (the nodes were started without this shell's variables);
    `forward_output`: what the tasks print (their progress lines) appears on this console."""
    import ray

    with ExitStack() as stack:
        if not ray.is_initialized():
            _connect(stack, address, log_to_driver=forward_output)
        task = ray.remote(num_cpus=cpus, num_gpus=gpus)(function).options(runtime_env={"env_vars": env or {}})
        ray.get([task.remote(*args) for _ in range(copies)])
