"""`suite run`'s progress: an ETA from the work done, per-epoch events from the trial, plain lines in a log."""

import io
import re

import pytest
from rich.console import Console

from suite.feed import eta_seconds
from suite.runs.plan import TrialSpec, expand
from suite.runs.progress import ProgressView
from suite.runs.request import RunRequest
from suite.runs.runner import execute
from suite.runs.trial import run_trial

STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (.*)$")


class ManualClock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def spec(key: str, model: str = "cnn") -> TrialSpec:
    return TrialSpec(key=key, parent_key=f"p{key}", model_name=model, model={}, size="small", weights="none",
                     recipe={}, backbone={}, task_name="tf_mouse_2", task={"metric": "mcc"}, mode="finetune", seed=0,
                     fold=None, n_folds=None, profile="quick", hparams={}, data={}, cache_dir="", code_version="",
                     tags={"metric": "mcc"})


def log_console() -> Console:
    """A console writing to a file, as when stdout is a log: not a terminal."""
    return Console(file=io.StringIO(), width=100)


def events(console: Console) -> list[str]:
    """The timestamped lines, timestamps removed."""
    return [m.group(1) for line in console.file.getvalue().splitlines() if (m := STAMP.match(line))]


def test_eta_is_elapsed_times_work_left_over_work_done():
    assert eta_seconds(0, 4, 60) is None  # no work done: nothing to base an estimate on
    assert eta_seconds(1, 4, 60) == 180
    assert eta_seconds(4, 4, 60) is None  # nothing left


def test_the_eta_counts_running_trials_by_their_epochs_not_by_finished_trials():
    """Issue 17: a quick trial that finished first made the old ETA (mean finished duration × remaining) promise a
    minute while the others needed ten. Here running trials count by the fraction of their planned epochs."""
    clock = ManualClock()
    view = ProgressView([spec(k) for k in "abcd"], console=log_console(), clock=clock)
    clock.now = 100.0
    view.trial_started("a")
    view.trial_started("b")
    assert view.eta() is None  # started, but no epoch ended anywhere
    clock.now = 160.0
    view.trial_epoch("a", 0, 4, {"val/mcc": 0.3})  # a: 1 of 4 epochs
    view.trial_epoch("b", 1, 4, {"val/mcc": 0.2})  # b: 2 of 4
    assert view.work_done() == pytest.approx(0.75)
    assert view.eta() == pytest.approx(60 * (4 - 0.75) / 0.75)  # 0.75 trials in 60 s; 3.25 left at that pace
    clock.now = 220.0
    view.trial_ended("a", ok=True, result={"test": {"mcc": 0.4}})
    view.trial_started("c")
    assert view.work_done() == pytest.approx(1.5)  # a whole, b half, c nothing yet
    assert view.eta() == pytest.approx(120 * 2.5 / 1.5)
    view.trial_ended("b", ok=False, error="Traceback (most recent call last):\n  ...\nValueError: broken")
    assert view.work_done() == pytest.approx(2.0)  # a failed trial is work no longer left


def test_the_eta_is_never_less_than_what_the_last_trial_needs_alone():
    """The demo: with both slots busy the pace said 48 s, then the last trial ran alone for 1.6 minutes."""
    clock = ManualClock()
    view = ProgressView([spec(k) for k in "abc"], console=log_console(), clock=clock)
    view.trial_started("a")
    view.trial_started("b")
    clock.now = 60.0
    view.trial_ended("a", ok=True)
    view.trial_ended("b", ok=True)  # two trials in 60 s: the pace says one more takes 30 s
    view.trial_started("c")
    assert view.eta() == pytest.approx(60)  # but c alone takes a whole trial
    clock.now = 90.0
    view.trial_epoch("c", 1, 4, {"val/mcc": 0.3})  # c is half done
    assert view.eta() == pytest.approx(30)  # the rest of c: half of a 60-s trial


def test_a_retried_trial_starts_its_epochs_over():
    clock = ManualClock()
    view = ProgressView([spec("a"), spec("b")], console=log_console(), clock=clock)
    view.trial_started("a")
    view.trial_epoch("a", 2, 4, {"val/mcc": 0.3})
    assert view.work_done() == pytest.approx(0.75)
    view.trial_started("a")  # Ray restarted a crashed attempt
    assert view.work_done() == 0 and view.retried == 1
    assert events(view.feed.console)[-1] == "cnn × tf_mouse_2 × seed 0: started again (the worker failed)"


def test_in_a_log_every_event_is_a_timestamped_line_in_order():
    clock = ManualClock()
    console = log_console()
    view = ProgressView([spec("a", "cnn"), spec("b", "kmer_lr")], console=console, clock=clock)
    with view:
        view.trial_started("a")
        clock.now = 10.0
        view.trial_epoch("a", 0, 2, {"val/mcc": 0.25, "val/loss": 0.7})
        clock.now = 20.0
        view.trial_epoch("a", 1, 2, {"val/mcc": 0.5})
        view.trial_ended("a", ok=True, result={"test": {"mcc": 0.45}})
        view.trial_started("b")
        view.trial_ended("b", ok=False, error="Traceback (most recent call last):\n  x\nInvalidResult: no [step] ran")
    assert events(console) == [
        "cnn × tf_mouse_2 × seed 0: started",
        "cnn × tf_mouse_2 × seed 0: epoch 1/2 · val mcc 0.2500 · ETA 30 s",  # half a trial of two in 10 s
        "cnn × tf_mouse_2 × seed 0: epoch 2/2 · val mcc 0.5000 · ETA 20 s",
        "cnn × tf_mouse_2 × seed 0: finished · test mcc 0.4500 · 20 s · 1/2 done, 0 failed · ETA 20 s",
        "kmer_lr × tf_mouse_2 × seed 0: started",
        "kmer_lr × tf_mouse_2 × seed 0: failed · InvalidResult: no [step] ran · 0 s · 1/2 done, 1 failed",
    ]


def test_in_a_terminal_the_live_area_holds_the_running_trials_epochs_and_no_line_is_printed_for_them():
    console = Console(file=io.StringIO(), width=120, force_terminal=True)
    view = ProgressView([spec("a"), spec("b", "kmer_lr")], console=console, clock=ManualClock())
    assert view.feed.live is not None and not view.feed.lines
    with view:
        view.trial_started("a")
        view.trial_started("b")
        view.trial_epoch("a", 1, 4, {"val/mcc": 0.3})
        shown = log_console()
        shown.print(view._render())
    assert shown.file.getvalue().splitlines() == [
        "trials: 0/2 done · 2 running · 0 failed",  # no time has passed: no pace, no ETA
        "  cnn × tf_mouse_2 × seed 0: epoch 2/4 · val mcc 0.3000",
        "  kmer_lr × tf_mouse_2 × seed 0: started",
    ]
    printed = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", console.file.getvalue())  # the terminal's control codes out
    lasting = [m.group(1) for line in printed.splitlines() if (m := STAMP.match(line))]
    assert lasting == ["cnn × tf_mouse_2 × seed 0: started", "kmer_lr × tf_mouse_2 × seed 0: started"]


def test_quiet_prints_nothing():
    console = log_console()
    with ProgressView([spec("a")], quiet=True, console=console) as view:
        view.trial_started("a")
        view.trial_epoch("a", 0, 1, {"val/mcc": 0.1})
        view.trial_ended("a", ok=True, result={"test": {"mcc": 0.1}})
    assert console.file.getvalue() == ""


SMALL = {"epochs": 2, "max_train_rows": 400}


def test_a_trial_reports_every_epoch_with_the_epochs_its_step_budget_allows(data_env, tmp_path):
    """50 epochs asked, but 10 optimizer steps of batches of 64 over 400 rows (7 a epoch) are 2 epochs."""
    trial = expand(RunRequest(models=("cnn",), tasks="tf_mouse_2", seeds=(0,), applied_dir=None,
                              sets={"epochs": 50, "max_steps": 10, "batch_size": 64, "max_train_rows": 400})).trials[0]
    reports = []
    result = run_trial(trial, tmp_path / "trial", threads=1,
                       report=lambda epoch, row, epochs: reports.append((epoch, epochs, row)))
    assert [(epoch, epochs) for epoch, epochs, _ in reports] == [(0, 2), (1, 2)]
    assert [row for _, _, row in reports] == result.history and "val/mcc" in reports[0][2]


def test_a_small_run_without_a_terminal_writes_one_line_per_event(data_env, tmp_path):
    """`suite run --no-ray` into a log: started, each epoch with its validation MCC, finished with the test MCC; a
    trial that diverges: started, failed with its one-line reason."""
    console = log_console()
    common = dict(models=("cnn",), tasks="tf_mouse_2", seeds=(0,), applied_dir=None, storage=str(tmp_path / "ray"),
                  tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    execute(RunRequest(**common, sets=SMALL, experiment="fine"), use_ray=False, console=console)
    execute(RunRequest(**common, sets={**SMALL, "lr": 1e9}, experiment="diverges"), use_ray=False, console=console)
    label, took = "cnn × tf_mouse_2 × seed 0", r"[\d.]+ (s|min|h)"  # however long the machine takes
    lines = events(console)
    assert len(lines) == 6, lines
    assert lines[0] == f"{label}: started"
    assert re.fullmatch(rf"{label}: epoch 1/2 · val mcc -?\d\.\d{{4}} · ETA {took}", lines[1]), lines[1]
    assert re.fullmatch(rf"{label}: epoch 2/2 · val mcc -?\d\.\d{{4}}", lines[2]), lines[2]  # all done: no ETA
    finished = rf"{label}: finished · test mcc -?\d\.\d{{4}} · {took} · 1/1 done, 0 failed"
    assert re.fullmatch(finished, lines[3]), lines[3]
    assert lines[4] == f"{label}: started"
    assert lines[5].startswith(f"{label}: failed · InvalidResult: training diverged: the train loss is nan"), lines[5]
    assert lines[5].endswith("0/1 done, 1 failed")
