"""`suite sweep`'s progress, told by each Optuna worker about its own trials: trial #n started (its parameters),
each fold's epochs with the validation metric, each fold's score and the running mean, the trial finished or
pruned with its value and how many of the requested trials the study now holds.

It runs where the trials run (the worker), since that is where the epochs happen. One worker in a terminal
gets a live line; several workers (processes, or Ray tasks whose output Ray forwards) write plain lines, which
interleave whole where a live area of each would overwrite the others. A failed trial keeps its own one line
on stderr (suite/sweeps/study.py report_failure).
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from suite.feed import Feed


class SweepProgress:
    def __init__(self, study: str, target: int, folds: int, metric: str, console: Console | None = None,
                 live: bool = True) -> None:
        self.study, self.target, self.folds, self.metric = study, target, folds, metric
        self.now = ""  # what the live line shows: the running trial's fold and epoch
        self.feed = Feed(console or Console(), self._render, live=live)

    def __enter__(self) -> SweepProgress:
        self.feed.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.feed.__exit__(*exc)

    def _say(self, text: str, lasting: bool = True) -> None:
        self.now = text
        self.feed.event(f"sweep {self.study} {text}", lasting=lasting)
        self.feed.refresh()

    def started(self, number: int, params: dict) -> None:
        settings = ", ".join(f"{k}={_short(v)}" for k, v in params.items())
        self._say(f"trial #{number} started" + (f": {settings}" if settings else ""))

    def epoch(self, number: int, fold: int, epoch: int, epochs: int, row: dict) -> None:
        """`epoch` counts from 0 (the loop's history rows); `epochs` is the planned number."""
        value = row.get(f"val/{self.metric}")
        score = "" if value is None else f" · val {self.metric} {value:.4f}"
        self._say(f"trial #{number} fold {fold + 1}/{self.folds} epoch {epoch + 1}/{epochs}{score}", lasting=False)

    def fold_done(self, number: int, fold: int, value: float, mean: float) -> None:
        self._say(f"trial #{number} fold {fold + 1}/{self.folds} done · val {self.metric} {value:.4f} "
                  f"(mean so far {mean:.4f})")

    def ended(self, number: int, state: str, value: float | None, finished: int) -> None:
        """After a trial: COMPLETE or PRUNED (a FAIL has its stderr line), with the study's finished count."""
        if state == "COMPLETE":
            what = f"finished · cv mean {self.metric} {value:.4f}"
        elif state == "PRUNED":
            what = "pruned"
        else:
            return
        self._say(f"trial #{number} {what} · {finished}/{self.target} trials finished")

    def _render(self) -> Text:
        return Text(f"sweep {self.study}: {self.now or 'starting'}")


def _short(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)
