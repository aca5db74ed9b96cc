"""`suite sweep`: an Optuna study over one model x task, cross-validated on the training split only.

- Objective: the mean validation metric over K stratified folds of train (the same `run_trial` as `suite run`,
  planned with the train split alone, so test sequences are never even loaded). The running mean is reported
  after each fold, so a pruner (median or successive halving) can stop a bad trial early.
- Storage: an Optuna RDB (default SQLite `./runs/optuna.db`; any SQLAlchemy URL, e.g. PostgreSQL, for a
  cluster) is the single source of truth. The same `--study` resumes: trials run until the study holds the
  requested number of finished (complete or pruned) trials. A trial that raises is recorded as FAIL and the
  study goes on; a worker killed mid-trial leaves a trial whose heartbeat stops, marked FAIL on the next start.
- Parallelism: `--workers N` runs N Optuna worker processes against the shared storage, on this machine or, with
  `--address`, as Ray tasks on a cluster (then the storage must be a database every node reaches, e.g.
  PostgreSQL).
- MLflow: after the study, the driver writes one parent run for the study and one nested run per Optuna trial
  (params, per-fold validation metrics, state, trial number; idempotent on resume) and the best trial's values.
- Progress: each worker tells about its own trials as they run (started, every fold's epochs, finished or pruned
  with the study's count): a live line for a single worker in a terminal, timestamped lines otherwise
  (suite/sweeps/progress.py).
- `--apply` writes runs/applied/<model>__<task>.yaml; `suite run` uses it as its fourth configuration layer and
  tags the runs `suite.params_from=<study>`.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from suite.errors import SuiteError
from suite.sweeps.progress import SweepProgress
from suite.sweeps.space import SweepSpec, load_space, space_path, suggest

FINISHED_STATES = ("COMPLETE", "PRUNED")
MAX_CONSECUTIVE_FAILURES = 5


@dataclass(frozen=True)
class SweepRequest:
    model: str
    task: str
    trials: int = 20
    cv: int | None = None  # folds of train; None = the search space's objective.cv_folds
    study: str | None = None  # default: <model>__<task>
    storage: str | None = None  # default: sqlite:///./runs/optuna.db
    space: str | None = None  # a YAML file replacing the family's search space
    timeout: float | None = None  # seconds, per worker
    workers: int = 1
    profile: str = "quick"
    seed: int = 0  # training seed and fold seed of every trial (so trials differ only by their settings)
    sets: dict = field(default_factory=dict)  # fixed settings (--set), not searched
    data_dir: str | None = None
    tracking_uri: str | None = None
    experiment: str = "dna-suite-sweeps"
    applied_dir: str = "runs/applied"
    address: str | None = None  # run the workers as Ray tasks on this cluster ("auto" or host:port)
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0

    @property
    def study_name(self) -> str:
        return self.study or f"{self.model}__{self.task}"

    def check(self) -> None:
        """Refuse, before the study opens, numbers that cannot mean anything (one line each)."""
        if self.trials < 1:
            raise SuiteError(f"--trials {self.trials}: a study needs at least 1 trial", "e.g. --trials 20")
        if self.workers < 1:
            raise SuiteError(f"--workers {self.workers}: needs at least 1 worker", "e.g. --workers 1")
        if self.cv is not None and self.cv < 2:
            raise SuiteError(f"--cv {self.cv}: cross-validation needs at least 2 folds", "use --cv 2 or more")
        if self.timeout is not None and self.timeout <= 0:
            raise SuiteError(f"--timeout {self.timeout:g}: must be > 0 seconds", "e.g. --timeout 3600, or leave it out")
        if self.cpus_per_worker <= 0:
            raise SuiteError(f"--cpus-per-worker {self.cpus_per_worker:g}: must be > 0", "e.g. --cpus-per-worker 1")
        if self.gpus_per_worker < 0:
            raise SuiteError(f"--gpus-per-worker {self.gpus_per_worker:g}: must be >= 0", "e.g. --gpus-per-worker 1")
        if self.address is None and (self.gpus_per_worker > 0 or self.cpus_per_worker != 1.0):
            raise SuiteError("--cpus-per-worker / --gpus-per-worker size Ray tasks on a cluster; without --address "
                             "the workers are local processes that ignore them",
                             "pass --address of the cluster, or drop them (a local worker uses a GPU when torch "
                             "sees one)")
        if self.address is not None and storage_url(self.storage).startswith("sqlite"):
            raise SuiteError(f"--address {self.address} with a SQLite Optuna storage: workers on other machines "
                             "cannot share a file", "pass --storage postgresql://USER:PASSWORD@HOST/DB")


DEFAULT_STORAGE = Path("runs") / "optuna.db"
STORAGE_FIX = "use sqlite:///runs/optuna.db (one machine) or postgresql://USER:PASSWORD@HOST/DB (a cluster)"


def storage_url(url: str | None) -> str:
    return url or "sqlite:///" + str(DEFAULT_STORAGE.resolve())


def check_storage(url: str | None) -> str:
    """Refuse, in one line and within seconds, a storage Optuna could not use: a malformed URL, an unknown
    database kind or missing driver, a SQLite file in a folder that cannot be written (the default's folder, runs/,
    is created here), a database server that does not answer. Returns the URL used."""
    from suite.preflight import probe_database

    url = storage_url(url)
    probe_database(url, "Optuna storage", STORAGE_FIX)
    return url


def _storage(url: str):
    import optuna

    if url.startswith(("sqlite", "postgresql", "mysql")):
        # heartbeats: a trial whose process died is marked FAIL when the next worker starts (fail_stale_trials)
        return optuna.storages.RDBStorage(url, heartbeat_interval=10, grace_period=30)
    return url


def _space_for(request: SweepRequest) -> tuple[SweepSpec, dict]:
    from suite.models import get_model_spec

    family = get_model_spec(request.model).family
    spec = load_space(family, request.space)
    check_space_keys(spec, space_path(family, request.space))
    # a setting fixed with --set is not searched
    return spec, {k: v for k, v in spec.for_task(request.task).items() if k not in request.sets}


def run_setting_keys() -> set[str]:
    """The keys `suite run --set` (suite/runs/settings.py resolve_settings) accepts, `model.<key>` aside."""
    from suite.runs.settings import known_settings

    return set(known_settings())


def check_space_keys(spec: SweepSpec, path: Path) -> None:
    """Refuse, before any trial, a search space naming a setting `suite run` does not know (every trial would
    fail on it)."""
    from suite.errors import closest

    known = run_setting_keys()
    for task, params in [("", spec.space), *spec.tasks.items()]:
        for key in params:
            if key in known or (key.startswith("model.") and len(key) > len("model.")):
                continue
            guess = closest(key, known)
            where = f"search space {path}{f' (task {task})' if task else ''}"
            raise SuiteError(f"{where}: '{key}' is not a setting of `suite run`",
                             f"did you mean '{guess}'?" if guess else
                             "use a training setting (e.g. lr, epochs), head, pooling or model.<backbone key>")


def _pruner(spec: SweepSpec):
    import optuna

    (name, options), = spec.pruner.items()
    options = options or {}
    if name == "median":
        return optuna.pruners.MedianPruner(**options)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(**options)
    return optuna.pruners.NopPruner()


def open_study(request: SweepRequest, spec: SweepSpec):
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeats: not for the user
    return optuna.create_study(
        study_name=request.study_name, storage=_storage(storage_url(request.storage)), direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=request.seed), pruner=_pruner(spec), load_if_exists=True,
    )


def fold_trials(request: SweepRequest, params: dict, folds: int):
    """The K fold trials of one parameter set, planned on the training split alone."""
    from suite.runs.plan import expand
    from suite.runs.request import RunRequest

    plan = expand(
        RunRequest(models=(request.model,), tasks=request.task, seeds=(request.seed,), folds=folds,
                   profile=request.profile, sets={**request.sets, **params}, data_dir=request.data_dir,
                   applied_dir=None),
        splits=("train",),
    )
    if plan.refused:
        raise SuiteError(f"sweep of {request.model} on {request.task}: {plan.refused[0][1]}", "see the message")
    return plan.trials


ERROR_ATTR = "error"


def error_line(exc: BaseException) -> str:
    """Why a trial failed, in one line: a SuiteError's own line, else the exception's type and first line."""
    if isinstance(exc, SuiteError):
        return exc.line()
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def report_failure(study, trial) -> None:
    """One line on stderr per failed trial (Optuna's own warning, with its traceback, is silenced)."""
    import sys

    if trial.state.name == "FAIL":
        print(f"sweep trial #{trial.number} failed: {trial.user_attrs.get(ERROR_ATTR, 'no reason recorded')}",
              file=sys.stderr, flush=True)


def objective(request: SweepRequest, space: dict, folds: int, threads: int, progress: SweepProgress):
    """Optuna objective: mean validation metric over the folds of train; reports the running mean per fold (to
    the pruner) and every epoch and fold to `progress`."""
    import optuna

    from suite.runs.trial import run_trial

    metric = progress.metric

    def run(trial: optuna.Trial) -> float:
        params = suggest(trial, space)
        progress.started(trial.number, params)
        scores = []
        try:
            with tempfile.TemporaryDirectory() as tmp:
                for spec in fold_trials(request, params, folds):
                    def report(epoch: int, row: dict, epochs: int, fold: int = spec.fold) -> None:
                        progress.epoch(trial.number, fold, epoch, epochs, row)

                    result = run_trial(spec, Path(tmp) / str(spec.fold), report=report, threads=threads)
                    scores.append(result.val[metric])
                    trial.set_user_attr(f"fold_{spec.fold}", result.val)
                    trial.report(statistics.fmean(scores), step=spec.fold)
                    progress.fold_done(trial.number, spec.fold, result.val[metric], statistics.fmean(scores))
                    if trial.should_prune():
                        raise optuna.TrialPruned()
        except optuna.TrialPruned:
            raise
        except Exception as exc:  # the trial is FAIL (Optuna records it); its reason is kept as one line
            trial.set_user_attr(ERROR_ATTR, error_line(exc))
            raise
        return statistics.fmean(scores)

    return run


def _work(request_dict: dict, folds: int, threads: int, live: bool = True) -> None:
    """One worker: optimise until the study holds `trials` finished trials (or the timeout). `live`: this worker
    alone writes to the terminal, so it may keep a live line there (suite/sweeps/progress.py)."""
    import optuna
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    from suite.tasks import get_task

    request = SweepRequest(**request_dict)
    spec, space = _space_for(request)
    study = open_study(request, spec)
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a failed trial: our one line (report_failure), no traceback
    progress = SweepProgress(request.study_name, request.trials, folds, get_task(request.task).metric, live=live)

    def tell(study, trial) -> None:
        progress.ended(trial.number, trial.state.name, trial.value, finished(study))

    with progress:
        study.optimize(
            objective(request, space, folds, threads, progress), timeout=request.timeout, catch=(Exception,),
            callbacks=[tell, report_failure,
                       MaxTrialsCallback(request.trials, states=(TrialState.COMPLETE, TrialState.PRUNED)),
                       stop_after_failures(MAX_CONSECUTIVE_FAILURES)],
        )


def stop_after_failures(limit: int):
    """A failing configuration is recorded and the study goes on, but `limit` failures in a row mean something
    is broken for every configuration (data, environment): stop instead of failing forever."""

    def check(study, trial) -> None:
        recent = [t for t in study.get_trials(deepcopy=False) if t.state.name != "RUNNING"][-limit:]
        if len(recent) == limit and all(t.state.name == "FAIL" for t in recent):
            study.stop()

    return check


def finished(study) -> int:
    return sum(t.state.name in FINISHED_STATES for t in study.get_trials(deepcopy=False))


def run_sweep(request: SweepRequest) -> dict:
    """Run (or resume) the study; returns a summary with the best trial."""
    import optuna

    request.check()
    check_storage(request.storage)
    spec, _ = _space_for(request)  # an unknown setting in the search space is refused here, before any trial
    folds = request.cv or int(spec.objective.get("cv_folds", 3))
    if folds < 2:
        raise SuiteError(f"search space objective.cv_folds {folds}: cross-validation needs at least 2 folds",
                         "use --cv 2 or more")
    fold_trials(request, {}, folds)  # fail fast: unknown names, missing train split
    study = open_study(request, spec)
    optuna.storages.fail_stale_trials(study)  # trials of a worker that died are FAIL, not RUNNING forever
    if finished(study) < request.trials:
        threads = max(1, (os.cpu_count() or 1) // request.workers)
        if request.address:  # Optuna workers as Ray tasks; the storage must be a database they all reach
            from suite.runs.fanout import run_remote

            env = {k: v for k, v in os.environ.items() if k.startswith(("SUITE_", "MLFLOW_"))}
            run_remote(_work, (asdict(request), folds, max(1, int(request.cpus_per_worker)), False), request.workers,
                       cpus=request.cpus_per_worker, gpus=request.gpus_per_worker, address=request.address, env=env,
                       forward_output=True)
        elif request.workers == 1:
            _work(asdict(request), folds, threads)
        else:
            context = multiprocessing.get_context("spawn")
            workers = [context.Process(target=_work, args=(asdict(request), folds, threads, False))
                       for _ in range(request.workers)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
    study = open_study(request, spec)
    summary = summarize(study, folds)
    summary["mlflow_run_id"] = log_study(request, study, summary)
    return summary


def summarize(study, folds: int) -> dict:
    trials = study.get_trials(deepcopy=False)
    counts = {state: sum(t.state.name == state for t in trials) for state in ("COMPLETE", "PRUNED", "FAIL",
                                                                               "RUNNING")}
    best = study.best_trial if counts["COMPLETE"] else None
    failed = [t for t in trials if t.state.name == "FAIL"]
    return {"study": study.study_name, "folds": folds, "counts": counts,
            "best_value": best.value if best else None, "best_params": dict(best.params) if best else {},
            "best_trial": best.number if best else None,
            "last_error": failed[-1].user_attrs.get(ERROR_ATTR, "no reason recorded") if failed else None}


def log_study(request: SweepRequest, study, summary: dict) -> str:
    """Parent run for the study + one nested run per Optuna trial not logged yet (the driver is the only
    MLflow writer); the best trial's values go on the parent as tags and metrics."""
    from suite.tracking import Experiment, Kind, Tag

    store, name = Experiment(request.tracking_uri, request.experiment), study.study_name
    found = store.study_runs(name)
    parent = found[0].info.run_id if found else store.create_run(f"sweep {name}", {
        Tag.KIND: Kind.SWEEP, Tag.STUDY: name, Tag.MODEL: request.model, Tag.TASK: request.task,
        Tag.STORAGE: storage_url(request.storage)})
    logged = {r.data.tags.get(Tag.OPTUNA_TRIAL) for r in store.study_runs(name, Kind.SWEEP_TRIAL)}
    for trial in study.get_trials(deepcopy=False):
        if str(trial.number) in logged or trial.state.name == "RUNNING":
            continue
        run = store.create_run(f"{name} #{trial.number}", {
            Tag.KIND: Kind.SWEEP_TRIAL, Tag.STUDY: name, Tag.OPTUNA_TRIAL: str(trial.number),
            Tag.STATE: trial.state.name, Tag.PARENT_RUN: parent,
            **({Tag.ERROR: str(trial.user_attrs[ERROR_ATTR])[:5000]} if ERROR_ATTR in trial.user_attrs else {}),
        }, {**trial.params, "trial_number": trial.number})
        for key, values in trial.user_attrs.items():  # fold_<k> → that fold's validation metrics
            if key.startswith("fold_") and isinstance(values, dict):
                store.log_metrics(run, {f"cv/{k}": v for k, v in values.items()}, int(key[len("fold_"):]))
        for step, value in trial.intermediate_values.items():
            store.log_metrics(run, {"cv/running_mean": value}, int(step))
        store.log_metrics(run, {"cv/mean": trial.value})  # none for a trial without a value
        store.end_run(run, "FINISHED" if trial.state.name in FINISHED_STATES else "FAILED")
    if summary["best_value"] is not None:
        store.log_metrics(parent, {"best/cv_mean": summary["best_value"]})
        store.set_tags(parent, {**{f"{Tag.BEST}{k}": v for k, v in summary["best_params"].items()},
                                f"{Tag.BEST}trial": summary["best_trial"]})
    # a study none of whose trials finished has no result: its parent run is FAILED, never FINISHED
    store.end_run(parent, "FINISHED" if finished(study) else "FAILED")
    return parent


def apply_best(request: SweepRequest, summary: dict) -> Path:
    """Write the best parameters where `suite run` reads them (layer 4 of the configuration)."""
    if not summary["best_params"]:
        raise SuiteError(f"study {summary['study']} has no complete trial yet", "run more trials before --apply")
    path = Path(request.applied_dir) / f"{request.model}__{request.task}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"study": summary["study"], "storage": storage_url(request.storage),
                                    "cv_mean": summary["best_value"], "params": summary["best_params"]},
                                   sort_keys=False))
    return path


def dashboard(storage: str | None, port: int) -> None:
    """optuna-dashboard on 127.0.0.1 against the study storage (blocks until Ctrl-C)."""
    import shutil
    import subprocess

    exe = shutil.which("optuna-dashboard")
    if exe is None:
        raise SuiteError("optuna-dashboard is not installed", "pip install optuna-dashboard")
    subprocess.run([exe, check_storage(storage), "--host", "127.0.0.1", "--port", str(port)], check=False)
