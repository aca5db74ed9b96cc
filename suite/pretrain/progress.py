"""`suite pretrain`'s progress (and the pretraining of `suite reproduce`): step s/T, epoch e/E, the loss, an ETA.

The loop calls it after every optimizer step (`pretrain(..., on_step=progress)`). In a terminal the live line
follows every step; in a log a line is written at the first step of the call, at every snapshot (`save_every`:
where a resumed run would continue), at the end of every epoch and at the last step, so a paper run (78k steps)
writes about a hundred lines, not 78k. The loss on a line is the mean over the steps since the previous line
(one step's loss is noisy); the ETA is the pace since the first step of this call (setup and a resumed run's
earlier steps left out), so it appears from the second step on.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from rich.console import Console
from rich.text import Text

from suite.feed import Feed, duration, eta_seconds

PARTS = (("loss", "train/loss"), ("mnm", "train/mnm_loss"), ("cl", "train/cl_loss"))


class PretrainProgress:
    def __init__(self, name: str, total_steps: int, steps_per_epoch: int, save_every: int,
                 console: Console | None = None, quiet: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.name, self.total, self.save_every = name, total_steps, save_every
        self.steps_per_epoch = max(1, steps_per_epoch)
        self.epochs = math.ceil(total_steps / self.steps_per_epoch)
        self.clock = clock
        self.first: tuple[int, float] | None = None  # (step, clock) of this call's first step
        self.step = 0
        self.sums = {name: 0.0 for name, _ in PARTS}
        self.count = 0  # steps summed since the last line
        self.loss = ""  # the loss text last shown
        self.feed = Feed(console or Console(), self._render, quiet=quiet)

    @classmethod
    def of(cls, config, name: str, console: Console | None = None, quiet: bool = False) -> PretrainProgress:
        """For a PretrainConfig (suite/pretrain/loop.py)."""
        return cls(name, config.total_steps, config.steps_per_epoch, config.save_every, console, quiet)

    def __enter__(self) -> PretrainProgress:
        self.feed.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.feed.__exit__(*exc)

    def __call__(self, step: int, metrics: dict) -> None:
        """After optimizer step `step` (counted from 1) with its metrics."""
        now = self.clock()
        if self.first is None:
            self.first = (step, now)
        self.step = step
        for name, key in PARTS:
            self.sums[name] += float(metrics.get(key, math.nan))
        self.count += 1
        epoch_end = step % self.steps_per_epoch == 0
        if step == self.first[0] or step % self.save_every == 0 or epoch_end or step == self.total:
            self.feed.event(self._text(), lasting=epoch_end or step == self.total)
            self.sums = dict.fromkeys(self.sums, 0.0)
            self.count = 0

    def eta(self) -> float | None:
        if self.first is None:
            return None
        start, began = self.first
        return eta_seconds(self.step - start, self.total - start, self.clock() - began)

    def _text(self) -> str:
        epoch = math.ceil(self.step / self.steps_per_epoch)
        text = f"pretraining {self.name}: step {self.step}/{self.total} · epoch {epoch}/{self.epochs}"
        sums, count = self.sums, self.count  # read once: rich's thread redraws the live area while steps run
        if count:
            (_, loss), *parts = [(name, sums[name] / count) for name, _ in PARTS]
            self.loss = f" · loss {loss:.4f} ({', '.join(f'{name} {value:.4f}' for name, value in parts)})"
        text += self.loss  # just after a line: that line's loss
        seconds = self.eta()
        return text + ("" if seconds is None else f" · ETA {duration(seconds)}")

    def _render(self) -> Text:
        return Text(self._text() if self.step else f"pretraining {self.name}: preparing")
