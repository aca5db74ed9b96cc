"""`suite report`: MLflow runs → the paper's tables, statistics and plots, written as md / tex / html / csv under
one folder and logged as artifacts of an MLflow run tagged suite.kind=report, in the experiment
`<experiment>-reports` (collect.py). The HTML leads with the user's own results (page.py); its links open runs
in the MLflow UI at --ui-url.

Layout of the output folder:
    report.md  report.tex  report.html      every table (+ plots in md/html)
    tables/<key>.csv                         each table as printed; cells.csv = every number with its run ids
    plots/*.png                              grouped bars per benchmark, CD diagram, learning curves
"""

from __future__ import annotations

import datetime as dt
import functools
import html
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from suite.errors import SuiteError
from suite import tracking
from suite.reports import collect, page, plots, render, stats
from suite.reports.runs_view import DEFAULT_UI, LEADERBOARD, LEADERBOARD_KEY, SAVED_VIEW_TAG, run_url, runs_url
from suite.reports.tables import (
    Cell,
    Context,
    ReportTable,
    Row,
    build_tables,
    label,
    prepare,
)
from suite.tasks import select_tasks

FORMATS = ("md", "tex", "html", "csv")


@dataclass(frozen=True)
class ReportRequest:
    experiment: str = "dna-suite"
    tracking_uri: str | None = None
    tasks: str | None = None  # names or groups, comma-separated; None = all
    models: str | None = None  # model names, comma-separated; None = all
    formats: tuple[str, ...] = FORMATS
    out: Path = Path("reports/out")
    pairs: tuple[tuple[str, str], ...] = ()  # paired tests; () = the leaderboard's top two
    curves: tuple[str, ...] = ()  # run ids; () = one run per entry on the most-run task
    ui_url: str = DEFAULT_UI  # where the MLflow UI serves the store, for the links in the HTML
    paper: bool = True  # show the published "(paper)" rows
    cost_task: str = "mtcdna_1k"
    log: bool = True  # log the files on an MLflow report run


@dataclass
class ReportResult:
    out: Path
    files: list[Path]
    n_runs: int
    tables: list[ReportTable]
    run_id: str | None = None
    notes: list[str] = field(default_factory=list)


def select(runs: pd.DataFrame, request: ReportRequest) -> tuple[pd.DataFrame, list[str] | None]:
    tasks = [t.name for t in select_tasks(request.tasks)] if request.tasks else None
    if tasks is not None:
        runs = runs[runs["task"].isin(tasks)]
    if request.models:
        wanted = [m.strip().lower().replace("-", "_") for m in request.models.split(",") if m.strip()]
        unknown = [m for m in wanted if m not in set(runs["model"])]
        if unknown:
            raise SuiteError(f"no finished runs of model(s) {', '.join(unknown)} in this selection",
                             f"models with runs: {', '.join(sorted(set(runs['model']))) or 'none'}")
        runs = runs[runs["model"].isin(wanted)]
    return runs, tasks


def paired_table(results: list[stats.PairedResult], a: str, b: str) -> ReportTable:
    """One row per task: both means, Δ, pairs, Wilcoxon W and p, Welch t and p."""
    def num(value: float, digits: str = ".3g") -> Cell:
        return Cell(None, text="n/a") if pd.isna(value) else Cell(value, text=format(value, digits))

    def side(values: tuple[float, ...]) -> Cell:
        series = pd.Series(values) * 100
        return Cell(float(series.mean()), float(series.std(ddof=1)) if len(series) > 1 else None, len(series))

    rows = [Row(label(r.task), "ours", {"a": side(r.values_a), "b": side(r.values_b),
                                        "diff": num(r.mean_diff * 100, "+.2f"), "pairs": num(r.n_pairs, "d"),
                                        "w": num(r.wilcoxon_stat), "wp": num(r.wilcoxon_p),
                                        "t": num(r.welch_t), "tp": num(r.welch_p)}) for r in results]
    caption = ("Per task: Wilcoxon signed-rank test on runs paired by (seed, fold), two-sided, exact for small n "
               "(with 5 pairs p cannot go below 0.0625); Welch's t-test on all runs of each model (unpaired, unequal "
               "variances), two-sided. Means ×100 ± std (n).")
    columns = [("a", a), ("b", b), ("diff", "Δ (a − b)"), ("pairs", "pairs"), ("w", "Wilcoxon W"),
               ("wp", "Wilcoxon p"), ("t", "Welch t"), ("tp", "Welch p")]
    return ReportTable(f"paired_{a}_vs_{b}".replace(" ", ""), f"Paired tests · {a} vs {b}", caption, columns, rows,
                       row_header="task")


def _learning_curves(collected: collect.Collected, runs: pd.DataFrame, request: ReportRequest, path: Path) -> Path | None:
    if request.curves:
        chosen = runs[runs["run_id"].isin(request.curves)]
    else:
        if runs.empty:
            return None
        task = runs.groupby("task")["entry"].nunique().idxmax()
        chosen = runs[runs["task"] == task].sort_values(["seed", "fold"]).drop_duplicates(["entry", "mode"])
    if chosen.empty:
        return None
    curves, metrics = {}, set(chosen["metric"])
    for record in chosen.head(8).to_dict("records"):
        name = f"{record['entry']} · {label(record['task'])} · seed {record['seed']}"
        curves[name] = tracking.metric_history(collected.uri, record["run_id"], f"val/{record['metric']}")
    return plots.learning_curves(curves, "/".join(sorted(metrics)), path,
                                 f"validation {'/'.join(sorted(metrics))} per epoch")


def write_report(request: ReportRequest) -> ReportResult:
    bad = [f for f in request.formats if f not in FORMATS]
    if bad:
        raise SuiteError(f"unknown report format(s) {', '.join(bad)}", f"choose from {','.join(FORMATS)}")
    collected = collect.collect(request.experiment, request.tracking_uri)
    runs, tasks = select(prepare(collected.runs), request)
    ctx = Context(runs, tasks, collected.parents, request.paper, request.cost_task)
    tables = build_tables(ctx)
    out = Path(request.out)
    (out / "plots").mkdir(parents=True, exist_ok=True)
    notes, figures = [], []

    # ---- statistics ------------------------------------------------------------------------------------------
    board = next((t for t in tables if t.key == "leaderboard"), None)
    pairs = request.pairs or ((tuple(r.label for r in board.rows[:2]),) if board and len(board.rows) > 1 else ())
    lb_runs = runs.assign(entry=runs["entry"] + (" · " + runs["mode"]).where(runs["mode"] != "finetune", ""))
    for a, b in pairs:
        tables.append(paired_table(stats.paired_tests(lb_runs, a, b), a, b))
    if board is not None:
        task_cols = [c for c, _ in board.columns if c not in ("rank", "wins", "n_tasks")]
        scores = pd.DataFrame({r.label: {t: r.cells[t].mean for t in task_cols} for r in board.rows}).astype("float")
        try:
            fr = stats.friedman(scores.round(2))
            notes.append(f"Friedman test over the {fr.n_tasks} tasks every leaderboard model ran: χ² = {fr.statistic:.3f}, "
                         f"p = {fr.p:.3g} ({len(fr.mean_ranks)} models); Nemenyi critical difference at α = {fr.alpha} "
                         f"is CD = {fr.cd:.3f} (mean ranks closer than CD are not significantly different).")
            figures.append((plots.cd_diagram(fr.mean_ranks, fr.cd, out / "plots" / "cd_diagram.png",
                                             f"Critical difference (Nemenyi, α = {fr.alpha}, N = {fr.n_tasks} tasks)"),
                            "Critical-difference diagram of the leaderboard's mean ranks"))
        except SuiteError as exc:
            notes.append(f"No Friedman test: {exc.what}.")

    # ---- plots -----------------------------------------------------------------------------------------------
    colors = plots.palette(runs["entry"].unique())
    for (benchmark, mode), sub in runs.groupby(["benchmark", "mode"], sort=True):
        name = f"bars_{benchmark or 'other'}_{mode}.png"
        labels = {t: label(t) for t in sub["task"].unique()}
        figures.append((plots.grouped_bars(sub, f"{benchmark} · {mode} (mean ± std over runs)", out / "plots" / name,
                                           labels, colors), f"{benchmark}, {mode}: primary metric per task"))
    curve = _learning_curves(collected, lb_runs, request, out / "plots" / "learning_curves.png")
    if curve:
        figures.append((curve, "Learning curves: validation metric per epoch (MLflow metric history)"))

    # ---- files -----------------------------------------------------------------------------------------------
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    meta = (f"{len(runs)} finished trial runs from experiment '{collected.experiment}' "
            f"({collected.uri}), {stamp}")
    files = [p for p, _ in figures]
    if "md" in request.formats:
        files.append(_write(out / "report.md", page.markdown_report(tables, notes, figures, meta, out)))
    if "tex" in request.formats:
        files.append(_write(out / "report.tex", render.latex_document(tables)))
    if "csv" in request.formats:
        (out / "tables").mkdir(exist_ok=True)
        for t in tables:
            path = out / "tables" / f"{t.key}.csv"
            render.wide_frame(t).to_csv(path, index=False)
            files.append(path)
        render.tidy_frame(tables).to_csv(out / "tables" / "cells.csv", index=False)
        files.append(out / "tables" / "cells.csv")
    if "html" in request.formats:
        saved = SAVED_VIEW_TAG + LEADERBOARD_KEY in collected.tags  # `suite ui` saved the view with the columns
        board_url = runs_url(request.ui_url, collected.experiment_id, LEADERBOARD,
                             share_key=LEADERBOARD_KEY if saved else None)
        page_meta = (html.escape(meta) + f" · links open runs in the MLflow UI at <code>{html.escape(request.ui_url)}"
                     f'</code> · <a href="{html.escape(board_url)}">the leaderboard there</a>')
        links = functools.partial(run_url, request.ui_url, collected.experiment_id)
        files.append(_write(out / "report.html", page.html_report(tables, notes, figures, page_meta, links)))
    result = ReportResult(out, files, len(runs), tables, notes=notes)
    if request.log:
        result.run_id = collect.log_report(collected.uri, collected.experiment, out, files,
                                           {"tasks": request.tasks or "all", "models": request.models or "all",
                                            "formats": ",".join(request.formats), "n_runs": len(runs)})
    return result


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
