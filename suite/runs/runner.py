"""`suite run` end to end: plan → skip finished keys → encode each task once → fan out → aggregate → leaderboard."""

from __future__ import annotations

import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from suite.runs.plan import Plan, TrialSpec, expand
from suite.runs.progress import ProgressView, error_line, leaderboard, trial_label
from suite.runs.request import RunRequest
from suite.tabular import show
from suite.tracking import RunTracker


@dataclass
class RunSummary:
    planned: int
    skipped: int  # already finished (resume)
    finished: int
    failed: int
    refused: list[tuple[str, str]]
    leaderboard: list[dict] = field(default_factory=list)
    tracking_uri: str = ""


def warm_cache(trials: list[TrialSpec]) -> None:
    """Encode every planned split once, on the driver, so workers only memory-map the cache."""
    from suite.cards import build
    from suite.data.cache import load_split
    from suite.tasks.spec import TaskSpec

    seen = set()
    for trial in trials:
        for split, entry in trial.data.items():
            if (trial.task_name, split) in seen:
                continue
            seen.add((trial.task_name, split))
            load_split(build(TaskSpec, trial.task, trial.task_name), split, path=Path(entry["path"]),
                       cache_root=Path(trial.cache_dir))


@contextmanager
def terminate_as_interrupt():
    """SIGTERM (`kill`, a scheduler preempting the job) takes Ctrl-C's way out: KeyboardInterrupt in the main
    thread, so the `finally` below ends every open run KILLED instead of leaving it RUNNING forever."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def execute(request: RunRequest, use_ray: bool = True, quiet: bool = False, console: Console | None = None,
            plan: Plan | None = None, table_format: str = "auto") -> RunSummary:
    console = console or Console()
    plan = plan or expand(request)
    for task, reason in plan.refused:
        console.print(f"[yellow]skipped {escape(task)}:[/yellow] {escape(reason)}", highlight=False, soft_wrap=True)
    tracker = RunTracker(request.tracking_uri, request.experiment)
    finished = tracker.finished_keys()
    unique = list({t.key: t for t in plan.trials}.values())
    todo = [t for t in unique if t.key not in finished]
    skipped = len(unique) - len(todo)
    if skipped and not quiet:
        console.print(f"{skipped} of {len(unique)} trials already finished (same run key): skipped")
    warm_cache(todo)
    storage = Path(request.storage)
    outcomes: dict = {}
    try:
        with terminate_as_interrupt(), ProgressView(todo, quiet=quiet, console=console) as progress:
            if not todo:
                pass
            elif use_ray:
                from suite.runs.fanout import run_on_ray

                outcomes = run_on_ray(
                    todo, tracker, progress, cpus_per_trial=request.cpus_per_trial,
                    gpus_per_trial=request.gpus_per_trial, max_concurrent=request.max_concurrent,
                    max_failures=request.max_failures, address=request.address, storage=storage,
                    name=f"{request.experiment}-{time.strftime('%Y%m%d-%H%M%S')}",
                )
            else:
                from suite.runs.fanout import run_in_process

                outcomes = run_in_process(todo, tracker, progress, storage, threads=int(request.cpus_per_trial))
    finally:
        tracker.end_all("KILLED")  # anything still open did not finish (Ctrl-C, a crash of the driver)
    for trial in todo:  # one line per failed trial, beside its MLflow tag suite.error
        if outcomes.get(trial.key) is None and trial.key in tracker.errors:
            console.print(f"[red]failed[/red] {trial.key[:16]} {escape(trial_label(trial))}: "
                          f"{escape(error_line(tracker.errors[trial.key]))}", highlight=False, soft_wrap=True)
    keys_by_parent: dict[str, set[str]] = {}
    for trial in unique:
        keys_by_parent.setdefault(trial.parent_key, set()).add(trial.key)
    rows = tracker.aggregate(keys_by_parent)
    summary = RunSummary(
        planned=len(unique), skipped=skipped, finished=sum(1 for v in outcomes.values() if v),
        failed=len(todo) - sum(1 for v in outcomes.values() if v), refused=plan.refused, leaderboard=rows,
        tracking_uri=tracker.uri,
    )
    if not quiet:
        if rows:
            show(leaderboard(rows), console, table_format, whole=("task", "model"), repeat=("task", "metric"),
                 notes=console)
        console.print(f"{summary.finished} finished, {summary.failed} failed, {summary.skipped} skipped; "
                      f"tracking: {summary.tracking_uri} (experiment '{request.experiment}')", highlight=False)
    return summary
