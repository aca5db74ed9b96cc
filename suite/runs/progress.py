"""`suite run`'s progress: each running trial's epoch and validation metric, trials done / running / failed, an
ETA from the work done so far; and the final leaderboard.

The ETA counts work in trials: a finished or failed trial is 1, a running one the fraction of its planned epochs
done (epoch k of N after its k-th epoch; N = the epochs its step budget allows, suite/train/loop.py
planned_epochs). Left = elapsed × (total − done) / done: trials not started yet are assumed to go at the pace of
the work so far, concurrency included (it is the wall clock's pace). The mean duration of finished trials, used
before, ignored the work of the running ones and favoured whichever trials happened to finish first; it promised
a minute for trials that took 6-13. The pace alone is then floored by what the last trial needs on its own (a trial
not started counts as one whole trial at the mean trial time, a running one the rest of its own time): on the demo
the pace said 48 s for a last trial that then ran alone for 1.6 min (`ProgressView.eta`). The clock
starts with the first trial (Ray's start-up is no trial's work); nothing is shown until an epoch has ended somewhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from suite.feed import Feed, duration, eta_seconds
from suite.runs.plan import TrialSpec


def error_line(text: str) -> str:
    """The one line that says why a trial failed: a traceback's last line (the exception), else the first line."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "no reason recorded (see the trial's folder under the Ray storage)"
    if any(line.startswith("Traceback") for line in lines):
        return lines[-1]
    return lines[0]


def trial_label(spec: TrialSpec) -> str:
    """cnn × tf_mouse_2 × seed 0 (× fold 1): how a trial is named on the console."""
    fold = "" if spec.fold is None else f" × fold {spec.fold}"
    return f"{spec.model_name} × {spec.task_name} × seed {spec.seed}{fold}"


@dataclass
class Running:
    started: float  # clock time of this attempt's start
    epochs_done: int = 0
    epochs: int = 0  # planned; 0 until the first epoch reports it
    value: float | None = None  # the last epoch's validation primary metric

    @property
    def fraction(self) -> float:
        return min(1.0, self.epochs_done / self.epochs) if self.epochs else 0.0


class ProgressView:
    """Driven by the fan-out (suite/runs/fanout.py): trial_started, trial_epoch, trial_ended, by run key."""

    def __init__(self, trials: list[TrialSpec], quiet: bool = False, console: Console | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.specs = {t.key: t for t in trials}
        self.total, self.clock = len(self.specs), clock
        self.began: float | None = None  # the first trial's start
        self.done = self.failed = self.retried = 0
        self.running: dict[str, Running] = {}
        self.durations: list[float] = []  # wall seconds of each finished trial
        self.feed = Feed(console or Console(), self._render, quiet=quiet)

    def __enter__(self) -> ProgressView:
        self.feed.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.feed.__exit__(*exc)

    # ---- what the view knows -------------------------------------------------------------------------------
    def work_done(self) -> float:
        """Trials' worth of work done: ended trials whole, running ones by their fraction of planned epochs."""
        return self.done + self.failed + sum(r.fraction for r in list(self.running.values()))

    def trial_seconds(self) -> float | None:
        """How long one trial takes: the mean of the finished ones, else projected from the running ones' pace."""
        if self.durations:
            return sum(self.durations) / len(self.durations)
        now = self.clock()
        paces = [(now - r.started) / r.fraction for r in list(self.running.values()) if r.fraction > 0]
        return sum(paces) / len(paces) if paces else None

    def eta(self) -> float | None:
        """The pace of the work done so far (all slots busy), but never less than the last trial needs: a trial
        not started yet takes a whole trial, a running one the rest of it. Without that floor the ETA promised
        48 s for a last trial that then ran alone for 1.6 minutes."""
        if self.began is None:
            return None
        pace = eta_seconds(self.work_done(), self.total, self.clock() - self.began)
        per_trial = self.trial_seconds()
        if pace is None or per_trial is None:
            return pace
        waiting = self.total - self.done - self.failed - len(self.running)
        rest = 1.0 if waiting > 0 else max((1.0 - r.fraction for r in list(self.running.values())), default=0.0)
        return max(pace, rest * per_trial)

    def _metric(self, key: str) -> str:
        spec = self.specs.get(key)
        return (spec.tags.get("metric") or spec.task.get("metric", "")) if spec else ""

    def _label(self, key: str) -> str:
        return trial_label(self.specs[key]) if key in self.specs else key[:16]

    # ---- events ----------------------------------------------------------------------------------------------
    def trial_started(self, key: str) -> None:
        again = key in self.running  # Ray retries a crashed attempt: its epochs start over
        self.retried += again
        self.running[key] = Running(started=self.clock())
        if self.began is None:
            self.began = self.running[key].started
        self.feed.event(f"{self._label(key)}: {'started again (the worker failed)' if again else 'started'}")
        self.feed.refresh()

    def trial_epoch(self, key: str, epoch: int, epochs: int, row: dict) -> None:
        """`epoch` counts from 0 (the loop's history rows); `epochs` is the planned number."""
        state = self.running.get(key)
        if state is None:
            return
        metric = self._metric(key)
        state.epochs_done, state.epochs, state.value = epoch + 1, epochs, row.get(f"val/{metric}")
        self.feed.event(f"{self._label(key)}: {self._epoch_text(key, state)}{self._eta_text()}", lasting=False)
        self.feed.refresh()

    def trial_ended(self, key: str, ok: bool, result: dict | None = None, error: str = "") -> None:
        state = self.running.pop(key, None)
        took = f" · {duration(self.clock() - state.started)}" if state else ""
        metric = self._metric(key)
        if ok:
            self.done += 1
            if state:
                self.durations.append(self.clock() - state.started)
            score = (result or {}).get("test", {}).get(metric)
            what = f"finished · test {metric} {score:.4f}" if score is not None else "finished"
        else:
            self.failed += 1
            what = f"failed · {error_line(error)}"
        tally = f" · {self.done}/{self.total} done, {self.failed} failed"
        self.feed.event(f"{self._label(key)}: {what}{took}{tally}{self._eta_text()}")
        self.feed.refresh()

    # ---- text ------------------------------------------------------------------------------------------------
    def _epoch_text(self, key: str, state: Running) -> str:
        if not state.epochs:
            return "started"
        value = "" if state.value is None else f" · val {self._metric(key)} {state.value:.4f}"
        return f"epoch {state.epochs_done}/{state.epochs}{value}"

    def _eta_text(self) -> str:
        seconds = self.eta()
        return "" if seconds is None else f" · ETA {duration(seconds)}"

    def _render(self) -> Group:
        retried = f" · retried {self.retried}" if self.retried else ""
        running = list(self.running.items())  # one copy: the live display's thread draws while events arrive
        head = (f"trials: {self.done}/{self.total} done · {len(running)} running · {self.failed} failed"
                f"{retried}{self._eta_text()}")
        lines = [f"  {self._label(key)}: {self._epoch_text(key, state)}" for key, state in running]
        return Group(*(Text(line) for line in [head, *lines]))


def leaderboard(rows: list[dict]) -> Table:
    """Per task, models sorted by the task's primary test metric: mean ± std (n runs)."""
    table = Table(title="leaderboard (test set, mean ± std over seeds/folds)")
    for column in ("task", "metric", "model", "score", "runs", "mode", "init", "min/trial"):
        table.add_column(column)
    for task in sorted({r["task"] for r in rows}):
        ranked = [r for r in rows if r["task"] == task]
        metric = ranked[0]["metric"]
        ranked.sort(key=lambda r: r.get(f"test/{metric}_mean", float("-inf")), reverse=True)
        for rank, r in enumerate(ranked):
            mean, std = r.get(f"test/{metric}_mean"), r.get(f"test/{metric}_std", 0.0)
            score = f"{100 * mean:.2f} ± {100 * std:.2f}" if mean is not None else "-"
            minutes = r.get("cost/wall_seconds_mean", 0.0) / 60
            table.add_row(task if rank == 0 else "", metric if rank == 0 else "", r["model"],
                          f"[bold]{score}[/bold]" if rank == 0 else score, str(r["n_runs"]), r["mode"],
                          _init(r["weights"]), f"{minutes:.2f}")
    return table


def _init(weights: str) -> str:
    """How the backbone started: from scratch, the card's pretrained weights, or a given checkpoint folder."""
    return {"none": "random", "card": "pretrained"}.get(weights, f"from {weights}")
