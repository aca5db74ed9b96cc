"""Report tables in the FinDNA paper's layouts, built from the tidy frame of collect.py and published.py.

    @TABLES.register("t1" | "t2" | "t3" | "t5" | "t6" | "leaderboard")   (ctx: Context) → ReportTable | None

Every table has models as rows: our runs first (one row per *entry*: a model, plus its profile / size / weights
where one model was run in several), then the published "(paper)" rows in the paper's order, then the published
rows beyond the FinDNA paper (`benchmark_rows`: today the genomic-benchmarks repository's own CNN and HyenaDNA
accuracies, labelled "(genomic-benchmarks)") for the tables whose columns they report. Columns are the
paper's tasks in the paper's order (taken from the published CSV, so nothing is typed twice); the tasks the
paper does not show follow. Our cells are mean ± std (sample std, ddof = 1) over the seeds and folds of exactly
the runs listed in `Cell.run_ids`, ×100 for metrics. Best and runner-up are marked per column among all rows,
ours and published alike (the comparison the table is for), using the values as printed (2 decimals), so ties
share a mark. Cells whose metric differs from the column's (FinDNA's covid micro-F1) are shown, flagged and not
ranked; so are published cells of another setting than the table's (a fine-tuned number in the linear-probe
table, §). The Δ column is our mean minus the published one, averaged over the tasks both have, for the published
model our card names in `compare_with` (the FinDNA paper's row when both the paper and another source have that
model name).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from suite.models import all_models
from suite.registry import Registry
from suite.reports.published import published, quote_mismatches
from suite.tasks import all_tasks, select_tasks

SCALE = 100.0  # metrics are printed ×100, as in the paper
BEYOND_PAPER = {"GB": "genomic-benchmarks"}  # published table id (not the FinDNA paper's) → its rows' label tag
SETTINGS = {"probe": {"linear_probe"}, "finetune": {"finetune", "supervised"}}  # table mode → comparable settings
REFERENCE = "FinDNA"  # the published name Table 6 divides by; our reference entry is the card that compares with it
COST_COLUMNS = {"time": ("cost/train_seconds_per_epoch", "s/epoch", 1.0),
                "memory": ("cost/peak_memory_mb", "peak MB", 1.0),
                "flops": ("cost/train_flops_per_sample", "GFLOPs/sample", 1e-9)}


@dataclass
class Cell:
    """One printed cell. `text` replaces the number when set (a missing cell says why, a factor says ×)."""

    mean: float | None = None
    std: float | None = None
    n: int = 0
    text: str = ""
    note: str = ""  # footnote marker
    mark: str = ""  # "best" | "second"
    rankable: bool = True
    link: str = ""  # MLflow run id shown as a link in HTML
    run_ids: tuple[str, ...] = ()
    delta: float | None = None  # ours − paper for this cell (tidy CSV)


@dataclass
class Row:
    label: str
    source: str  # "ours" or the published source
    cells: dict[str, Cell]
    model: str = ""
    table: str = ""  # the published table id (T2, GB …) of a published row; empty for ours


@dataclass
class ReportTable:
    key: str
    title: str
    caption: str
    columns: list[tuple[str, str]]  # (column id, header)
    rows: list[Row]
    marked: list[str] = field(default_factory=list)  # columns where best / runner-up are marked
    lower_is_better: set[str] = field(default_factory=set)
    footnotes: list[str] = field(default_factory=list)
    sortable: bool = False
    row_header: str = "model"


@dataclass
class Context:
    runs: pd.DataFrame  # prepare()d trials
    tasks: list[str] | None = None  # selected task names (None = all)
    parents: dict[str, str] = field(default_factory=dict)
    paper: bool = True
    cost_task: str = "mtcdna_1k"


TABLES: Registry[Callable[[Context], ReportTable | None]] = Registry("report table")


# ---- shared helpers -----------------------------------------------------------------------------------------
def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Adds `entry` (model + the profile/size/weights that vary within it) and `primary` (test/<task metric>)."""
    if frame.empty:
        return frame.assign(entry=pd.Series(dtype="str"), primary=pd.Series(dtype="float"))
    label = frame["model"].astype("str")
    for dim in ("profile", "size", "weights", "network"):
        varies = frame.groupby("model")[dim].transform("nunique") > 1
        label = label.where(~varies, label + " · " + frame[dim].astype("str"))
    primary = [record.get(f"test/{record['metric']}", math.nan) for record in frame.to_dict("records")]
    return frame.assign(entry=label, primary=pd.to_numeric(pd.Series(primary, index=frame.index)))


def summarise(runs: pd.DataFrame, column: str, ctx: Context, scale: float = SCALE) -> Cell:
    """mean ± std (ddof 1) of `column` over exactly these runs; a cell that says so when there are none."""
    if column not in runs:
        return Cell(text="no runs")
    values = runs[column].dropna()
    if values.empty:
        return Cell(text="no runs")
    ids = tuple(runs.loc[values.index, "run_id"])
    parent = ctx.parents.get(str(runs.loc[values.index[0], "parent_key"]), "")
    return Cell(float(values.mean()) * scale, float(values.std(ddof=1)) * scale if len(values) > 1 else None,
                len(values), link=parent or ids[0], run_ids=ids)


HEADERS = {  # the paper's column names where the task cards have no short alias (display only)
    "dummy_mouse_enhancers_ensembl": "Mouse Enh.", "demo_coding_vs_intergenomic_seqs": "Coding vs Interg.",
    "demo_human_or_worm": "Human vs Worm", "human_enhancers_cohn": "Enh. Cohn", "human_enhancers_ensembl": "Enh. Ensembl",
    "human_ensembl_regulatory": "Regulatory", "human_nontata_promoters": "Nontata Prom.", "human_ocr_ensembl": "OCR Ensembl",
    "gue_covid": "Covid"}


def label(task: str) -> str:
    """Short header: the paper's name, else a task's first upper-case alias (H3K4me3, MTcDNA-1024), else its name."""
    if task in HEADERS:
        return HEADERS[task]
    spec = all_tasks().get(task)
    aliases = [a for a in (spec.aliases if spec else ()) if "/" not in a and a != a.lower()]
    return aliases[0] if aliases else task


def columns_for(group: str, table: str, selected: list[str] | None) -> list[str]:
    """The group's tasks in the paper's order (first appearance in the published table), the rest after."""
    members = [t.name for t in select_tasks(group)]
    order = list(dict.fromkeys(r.task for r in published() if r.table == table and r.task in members))
    tasks = order + [t for t in members if t not in order]
    return [t for t in tasks if selected is None or t in selected]


def compare_names(model: str) -> tuple[str, ...]:
    spec = all_models().get(model)
    return spec.compare_with if spec else ()


def paper_rows(table: str, tasks: list[str]) -> list[Row]:
    """One "(paper)" row per published model of `table`; a cell whose metric is not the task's is flagged."""
    mismatched = {(m.model, m.task, m.quoted_in) for m in quote_mismatches()}
    rows: dict[str, Row] = {}
    for r in published():
        if r.table != table:
            continue
        row = rows.setdefault(r.model, Row(f"{r.model} (paper)", r.source, {}, r.model, table))
        if r.task in tasks:
            cell = Cell(r.mean, r.std)
            if r.metric != all_tasks()[r.task].metric:
                cell.note, cell.rankable = "‡", False
            if (r.model, r.task, r.source) in mismatched:
                cell.note += "*"
            row.cells[r.task] = cell
    for row in rows.values():
        for task in tasks:
            row.cells.setdefault(task, Cell(text="not reported"))
    return list(rows.values())


def benchmark_rows(tasks: list[str], mode: str | None = None) -> list[Row]:
    """Published rows beyond the FinDNA paper: one "MODEL (genomic-benchmarks)" row per (table of BEYOND_PAPER,
    model) that reports at least one of `tasks`, "not reported" for the others. Only cells in the task's own metric
    are shown. With `mode` (a table's run mode), cells of a setting not comparable with it (a fine-tuned or
    supervised number in a linear-probe table) are flagged § and not ranked, so they get no Δ either."""
    rows: dict[tuple[str, str], Row] = {}
    for r in published():
        if r.table not in BEYOND_PAPER or r.task not in tasks or r.metric != all_tasks()[r.task].metric:
            continue
        row = rows.setdefault((r.table, r.model),
                              Row(f"{r.model} ({BEYOND_PAPER[r.table]})", r.source, {}, r.model, r.table))
        cell = Cell(r.mean, r.std)
        if mode in SETTINGS and r.setting not in SETTINGS[mode]:
            cell.note, cell.rankable = "§", False
        row.cells[r.task] = cell
    for row in rows.values():
        for task in tasks:
            row.cells.setdefault(task, Cell(text="not reported"))
    return list(rows.values())


def add_deltas(ours: list[Row], papers: list[Row], tasks: list[str],
               names: dict[str, tuple[str, ...]] | None = None) -> None:
    """Δ column: our mean − the published one, per cell and averaged, for the published model the card compares
    with (or, with `names`, the published names given per row label: a recipe's entries). A name published both
    by the FinDNA paper and beyond it (HyenaDNA) is matched to the paper's row."""
    by_model: dict[str, Row] = {}
    for row in sorted(papers, key=lambda r: r.table in BEYOND_PAPER):  # stable: the paper's rows first
        by_model.setdefault(row.model, row)
    for row in ours:
        wanted = names[row.label] if names is not None and row.label in names else compare_names(row.model)
        match = next((by_model[name] for name in wanted if name in by_model), None)
        if match is None:
            row.cells["delta"] = Cell(text="–")
            continue
        deltas = []
        for task in tasks:
            mine, theirs = row.cells[task], match.cells[task]
            if mine.mean is not None and theirs.mean is not None and theirs.rankable:
                mine.delta = mine.mean - theirs.mean
                deltas.append(mine.delta)
        mean = sum(deltas) / len(deltas) if deltas else None
        name = match.label if match.table in BEYOND_PAPER else match.model
        row.cells["delta"] = Cell(mean, text=f"{mean:+.2f} vs {name} ({len(deltas)})" if deltas
                                  else f"no comparable task with {name}")


def mark(table: ReportTable | None) -> ReportTable | None:
    """Bold (best) and underline (runner-up) per marked column, on the printed values; ties share a mark."""
    for column in table.marked if table else []:
        cells = [row.cells[column] for row in table.rows
                 if column in row.cells and row.cells[column].mean is not None and row.cells[column].rankable]
        if len(cells) < 2:  # a lone number is no comparison
            continue
        values = sorted({round(c.mean, 2) for c in cells}, reverse=column not in table.lower_is_better)
        for cell in cells:
            printed = round(cell.mean, 2)
            cell.mark = "best" if printed == values[0] else "second" if len(values) > 1 and printed == values[1] else ""
    return table


def footnotes(rows: list[Row]) -> list[str]:
    """Where the published rows come from, and what their flags mean (* quoted differently, ‡ another metric,
    § another setting)."""
    notes = []
    for source in dict.fromkeys(r.source for r in rows if r.source != "ours"):
        beyond = [r for r in rows if r.source == source and r.table in BEYOND_PAPER]
        if not beyond:
            notes.append(f"(paper) rows: {source}")
            continue
        settings = {(p.table, p.model): p.setting for p in published()}
        models = ", ".join(f"{r.model} {settings.get((r.table, r.model), '?')}" for r in beyond)
        notes.append(f"({BEYOND_PAPER[beyond[0].table]}) rows: {source}; published beyond the FinDNA paper, same "
                     f"test split ({models})")
    cells = [(row, task, cell) for row in rows for task, cell in row.cells.items()]
    if any("‡" in c.note for _, _, c in cells):
        notes.append("‡ a different metric from the column's (FinDNA's covid F1 is micro-F1 = accuracy; the others "
                     "and ours are macro-F1): shown, not ranked, no Δ")
    if any("§" in c.note for _, _, c in cells):
        notes.append("§ another setting than the table's (trained from scratch or fine-tuned, not a linear probe): "
                     "shown, not ranked, no Δ")
    for m in quote_mismatches():
        if any(row.model == m.model and "*" in row.cells.get(m.task, Cell()).note for row in rows):
            notes.append(f"* {m.model} on {m.task}: the FinDNA paper quotes {m.quoted:.2f}; its original source "
                         f"({m.original_in}) reports {m.original:.2f}")
    return notes


def score_table(ctx: Context, key: str, title: str, group: str, mode: str, table: str, caption: str) -> ReportTable | None:
    tasks = columns_for(group, table, ctx.tasks)
    if not tasks:
        return None
    runs = ctx.runs[(ctx.runs["mode"] == mode) & ctx.runs["task"].isin(tasks)]
    ours = [Row(entry, "ours", {t: summarise(sub[sub["task"] == t], "primary", ctx) for t in tasks},
                str(sub["model"].iloc[0])) for entry, sub in runs.groupby("entry", sort=True)]
    papers = (paper_rows(table, tasks) + benchmark_rows(tasks, mode)) if ctx.paper else []
    add_deltas(ours, papers, tasks)
    for row in papers:
        row.cells["delta"] = Cell(text="–")
    notes = footnotes(papers)
    if not ours:
        notes.insert(0, f"no finished {mode} runs on these tasks yet (`suite run --mode {mode} --tasks {group}`)")
    return ReportTable(key, title, caption, [(t, label(t)) for t in tasks] + [("delta", "Δ vs published")],
                       ours + papers, marked=list(tasks), footnotes=notes)


# ---- the paper's tables ------------------------------------------------------------------------------------
CELLS = "mean ± std (n seeds/folds) ×100"


@TABLES.register("t1")
def t1(ctx: Context) -> ReportTable | None:
    return mark(score_table(ctx, "t1", "Table 1 · GenomicBenchmarks, linear probing (top-1 accuracy)",
                            "genomic_benchmarks", "probe", "T1", f"Backbone frozen (mode probe); {CELLS}."))


@TABLES.register("t2")
def t2(ctx: Context) -> ReportTable | None:
    return mark(score_table(ctx, "t2", "Table 2 · GenomicBenchmarks, fine-tuning (top-1 accuracy)",
                            "genomic_benchmarks", "finetune", "T2", f"All weights trained (mode finetune); {CELLS}."))


@TABLES.register("t5")
def t5(ctx: Context) -> ReportTable | None:
    return mark(score_table(ctx, "t5", "Table 5 · MTcDNA at 1024 / 4096 / 8192 bp (top-1 accuracy)", "mtcdna",
                            "finetune", "T5", f"Fine-tuning; {CELLS}."))


@TABLES.register("t3")
def t3(ctx: Context) -> ReportTable | None:
    """Table 3 plus the average of the 11 columns (only where a row has all 11) and the parameter count."""
    table = score_table(ctx, "t3", "Table 3 · GUE epigenetic marks (MCC) and Covid (F1)", "gue", "finetune", "T3",
                        f"Fine-tuning; EMP columns MCC, Covid macro-F1; {CELLS}. Avg = mean of the row's 11 columns.")
    if table is None:
        return None
    tasks = [c for c, _ in table.columns if c != "delta"]
    full = len(tasks) == len(select_tasks("gue"))
    extra = {(r.model, r.task): r for r in published() if r.table == "T3" and r.task in ("gue", "")}
    for row in table.rows:
        if row.source == "ours":
            means = [row.cells[t].mean for t in tasks]
            have = [m for m in means if m is not None]
            row.cells["avg"] = (Cell(sum(have) / len(have)) if full and len(have) == len(tasks)
                                else Cell(text=f"{len(have)}/{len(tasks)} tasks"))
            runs = ctx.runs[(ctx.runs["entry"] == row.label) & ctx.runs["task"].isin(tasks)
                            & (ctx.runs["mode"] == "finetune")]
            params = summarise(runs, "cost/parameters", ctx, scale=1e-6)
            row.cells["params"] = Cell(params.mean, text=f"{params.mean:.1f}M" if params.mean is not None else "–")
        else:
            avg, params = extra.get((row.model, "gue")), extra.get((row.model, ""))
            row.cells["avg"] = Cell(avg.mean) if avg and full else Cell(text="–")
            row.cells["params"] = Cell(params.mean, text=f"{params.mean:g}M") if params else Cell(text="–")
    table.columns = [(c, h) for c, h in table.columns if c != "delta"] + [("avg", "Avg"), ("params", "Param."),
                                                                          ("delta", "Δ vs published")]
    table.marked = [*tasks, "avg"]
    return mark(table)


@TABLES.register("t6")
def t6(ctx: Context) -> ReportTable | None:
    """Training cost relative to FinDNA: factors of the means, then our absolute means ± std (n)."""
    task = ctx.cost_task
    if ctx.tasks is not None and task not in ctx.tasks:
        return None
    runs = ctx.runs[(ctx.runs["task"] == task) & (ctx.runs["mode"] == "finetune")]
    refs = {e: sub for e, sub in runs.groupby("entry") if REFERENCE in compare_names(str(sub["model"].iloc[0]))}
    columns = [(k, f"{k.capitalize() if k != 'flops' else 'FLOPs'} ×") for k in COST_COLUMNS]
    columns += [(f"{k}_abs", unit) for k, (_, unit, _) in COST_COLUMNS.items()]
    rows, notes = [], []
    for entry, sub in runs.groupby("entry", sort=True):
        ref_entry = next((e for e, r in refs.items() if r["profile"].iloc[0] == sub["profile"].iloc[0]), None)
        ref_entry = ref_entry or next(iter(refs), None)
        cells = {}
        for key, (metric, _, scale) in COST_COLUMNS.items():
            mine = summarise(sub, metric, ctx, scale=scale)
            cells[f"{key}_abs"] = mine
            base = summarise(refs[ref_entry], metric, ctx, scale=scale) if ref_entry else Cell(text="")
            if mine.mean is None or not base.mean:
                cells[key] = Cell(text="no runs" if mine.mean is None else f"no {REFERENCE} run")
            else:
                factor = mine.mean / base.mean
                cells[key] = Cell(factor, text=f"×{factor:.2f}", run_ids=mine.run_ids + base.run_ids, link=mine.link)
        rows.append(Row(entry, "ours", cells, str(sub["model"].iloc[0])))
        if ref_entry:
            notes.append(f"factors relative to {ref_entry} (the card comparing with {REFERENCE})")
    if ctx.paper:
        for r in published():
            if r.table == "T6":
                row = next((x for x in rows if x.label == f"{r.model} (paper)"), None)
                if row is None:
                    row = Row(f"{r.model} (paper)", r.source, {c: Cell(text="not reported") for c, _ in columns}, r.model)
                    rows.append(row)
                row.cells[r.metric.removesuffix("_factor")] = Cell(r.mean, text=f"×{r.mean:g}")
    if not any(r.source == "ours" for r in rows):
        notes.insert(0, f"no finished finetune runs on {task} yet")
    notes = list(dict.fromkeys(notes)) + footnotes([r for r in rows if r.source != "ours"])
    caption = (f"Task {task}, training. Time = seconds per epoch, memory = peak MB, FLOPs = training FLOPs per "
               "sample (cost/* metrics); factor = our mean ÷ the reference's mean; absolute = mean ± std (n).")
    return mark(ReportTable("t6", f"Table 6 · Cost relative to {REFERENCE}", caption, columns, rows,
                            marked=list(COST_COLUMNS), lower_is_better=set(COST_COLUMNS), footnotes=notes))


@TABLES.register("leaderboard")
def leaderboard(ctx: Context) -> ReportTable | None:
    """Every entry × every task it ran: primary metric, mean rank over its tasks, wins (best on a task)."""
    from suite.reports.stats import rank_matrix

    runs = ctx.runs if ctx.tasks is None else ctx.runs[ctx.runs["task"].isin(ctx.tasks)]
    if runs.empty:
        return None
    runs = runs.assign(entry=runs["entry"] + (" · " + runs["mode"]).where(runs["mode"] != "finetune", ""))
    order = list(all_tasks())
    tasks = sorted(runs["task"].unique(), key=lambda t: order.index(t) if t in order else len(order))
    rows = [Row(entry, "ours", {t: summarise(sub[sub["task"] == t], "primary", ctx) for t in tasks},
                str(sub["model"].iloc[0])) for entry, sub in runs.groupby("entry", sort=True)]
    matrix = pd.DataFrame({row.label: {t: row.cells[t].mean for t in tasks} for row in rows}).astype("float")
    ranks = rank_matrix(matrix.round(2))  # ranks of the printed values, as the marks
    for row in rows:
        mine = ranks[row.label].dropna()
        row.cells["rank"] = Cell(float(mine.mean()), text=f"{mine.mean():.2f}")
        row.cells["wins"] = Cell(float((mine == ranks.loc[mine.index].min(axis=1)).sum()))
        row.cells["wins"].text = f"{row.cells['wins'].mean:.0f}"
        row.cells["n_tasks"] = Cell(float(len(mine)), text=str(len(mine)))
    rows.sort(key=lambda r: (r.cells["rank"].mean, -r.cells["wins"].mean, r.label))
    # the summary first: with many tasks the per-task columns run past a screen's width, the ranking does not
    columns = [("rank", "mean rank"), ("wins", "wins"), ("n_tasks", "tasks")] + [(t, label(t)) for t in tasks]
    caption = (f"Primary metric per task ({CELLS}); rank 1 = best among the rows with that task (ties share the "
               "average rank); mean rank over the row's tasks; wins = tasks where the row is best (ties count).")
    return mark(ReportTable("leaderboard", "Leaderboard · all tasks", caption, columns, rows,
                            marked=[*tasks, "rank"], lower_is_better={"rank"}, sortable=True))


def build_tables(ctx: Context, keys: list[str] | None = None) -> list[ReportTable]:
    """The registered tables in paper order; a table none of whose tasks was selected is left out."""
    keys = keys or ["t1", "t2", "t3", "t5", "t6", "leaderboard"]
    return [table for table in (TABLES.get(k)(ctx) for k in keys) if table is not None]
