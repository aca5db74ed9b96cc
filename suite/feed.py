"""Where the progress of a long command goes: a live area in a terminal, timestamped lines anywhere else.

A rich Live display redraws in place, which only a terminal can show: written to a file or a CI log it printed
nothing for a whole run. So a Feed decides once, from the console: in a terminal, a Live area shows what is
running now and lasting events (a trial started, finished, failed) are printed above it; anywhere else, every
event is one line `YYYY-mm-dd HH:MM:SS <event>`, flushed as it happens, so a log says what happened and when.
`suite run`, `suite pretrain` and `suite sweep` each describe their own events (suite/runs/progress.py,
suite/pretrain/progress.py, suite/sweeps/progress.py) and hand them to a Feed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console, RenderableType
from rich.live import Live


class Feed:
    """`event(text)` for what happened, `refresh()` after a change of what is running. `quiet`: nothing at all."""

    def __init__(self, console: Console, render: Callable[[], RenderableType], quiet: bool = False,
                 live: bool = True) -> None:
        self.console, self.render, self.quiet = console, render, quiet
        # `live=False`: lines even in a terminal (e.g. several worker processes that share one terminal). The live
        # area is redrawn twice a second by rich's thread from `render`, so an ETA keeps moving between events.
        self.live = Live(get_renderable=render, console=console, refresh_per_second=2, transient=True) \
            if live and console.is_terminal and not quiet else None

    def __enter__(self) -> Feed:
        if self.live:
            self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live:
            self.live.__exit__(*exc)

    @property
    def lines(self) -> bool:
        """True when events are written as plain timestamped lines (not a terminal, or live=False)."""
        return not self.quiet and self.live is None

    def event(self, text: str, lasting: bool = True) -> None:
        """One event. A passing one (an epoch) is only a line where there is no live area to show it in."""
        if self.quiet or (self.live and not lasting):
            return
        self.console.print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}", markup=False, highlight=False,
                           soft_wrap=True, emoji=False)

    def refresh(self) -> None:
        """Redraw now, not at the next tick."""
        if self.live:
            self.live.refresh()


def eta_seconds(done: float, total: float, elapsed: float) -> float | None:
    """Seconds left if the remaining work goes at the pace of the work done so far: elapsed × left / done.

    `done` and `total` are in any one unit of work (trials, with running trials counted by the fraction of their
    planned epochs; optimizer steps). None until some work is done: no pace, no estimate."""
    if done <= 0 or elapsed <= 0 or done >= total:
        return None
    return elapsed * (total - done) / done


def duration(seconds: float) -> str:
    """42 s, 3.5 min, 2.1 h."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
