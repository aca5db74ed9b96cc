"""Terminal feedback: a live line of trials done / running / failed with an ETA, and the final leaderboard."""

from __future__ import annotations

import time

from rich.console import Console
from rich.live import Live
from rich.table import Table


class ProgressView:
    def __init__(self, total: int, concurrency: int, quiet: bool = False, console: Console | None = None) -> None:
        self.total, self.concurrency, self.quiet = total, max(1, concurrency), quiet
        self.done = self.failed = self.running = self.retried = 0
        self.durations: list[float] = []
        self.started: dict[str, float] = {}
        self.console = console or Console()
        self.live = None if quiet else Live(self._render(), console=self.console, refresh_per_second=2, transient=True)

    def __enter__(self) -> ProgressView:
        if self.live:
            self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live:
            self.live.__exit__(*exc)

    def _render(self) -> str:
        eta = ""
        remaining = self.total - self.done - self.failed
        if self.durations and remaining:
            seconds = sum(self.durations) / len(self.durations) * remaining / self.concurrency
            eta = f" · ETA {seconds / 60:.1f} min" if seconds >= 60 else f" · ETA {seconds:.0f} s"
        retried = f" · retried {self.retried}" if self.retried else ""
        return (f"trials: {self.done}/{self.total} done · {self.running} running · {self.failed} failed"
                f"{retried}{eta}")

    def _refresh(self) -> None:
        if self.live:
            self.live.update(self._render())

    def trial_started(self, key: str) -> None:
        if key in self.started:
            self.retried += 1
        else:
            self.running += 1
        self.started[key] = time.perf_counter()
        self._refresh()

    def trial_ended(self, key: str, ok: bool) -> None:
        self.running = max(0, self.running - 1)
        if ok:
            self.done += 1
            self.durations.append(time.perf_counter() - self.started.get(key, time.perf_counter()))
        else:
            self.failed += 1
        self._refresh()


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
