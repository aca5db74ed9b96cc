"""The table a recipe writes: our entries (exactly the runs of each entry's planned run keys) beside the published
rows of the paper's table (and genomic-benchmarks' own numbers on its tasks), with a Δ column per entry against
the published row the recipe names. Built from the same parts as `suite report` (suite/reports/tables.py), so
cells, marks and footnotes read the same.

Extra columns: `average` (mean of the row's task means, only when it has all of them, as the paper's averages)
and `kl` (Table 4: the view dissimilarity the entry's pretraining run logged; the paper's KL values are the
released code's row-averaged variant, so that is the one compared; Eq. 10's sum is shown beside it).
"""

from __future__ import annotations

import pandas as pd

from suite.recipes.plan import RecipePlan
from suite.reports.published import published
from suite.reports.tables import (
    CELLS,
    Cell,
    Context,
    ReportTable,
    Row,
    add_deltas,
    benchmark_rows,
    columns_for,
    footnotes,
    label,
    mark,
    paper_rows,
    summarise,
)
from suite.tasks import all_tasks, select_tasks

KL_COLUMNS = {"kl": ("views/kl_code_row_mean", "KL (code: row mean)"), "kl_sum": ("views/kl_eq10_sum", "KL Eq. 10 (sum)")}


def scores_table(plan: RecipePlan, runs: pd.DataFrame, parents: dict[str, str], pretrain_metrics: dict) -> ReportTable:
    """`runs`: prepare()d trial runs (any, the entries' run keys select theirs); `pretrain_metrics`: pretraining
    folder → the metrics its MLflow run logged (for the KL columns)."""
    recipe = plan.recipe
    table_id = recipe.published or ""
    tasks = columns_for(",".join(plan.tasks), table_id, None)
    ctx = Context(runs, tasks, parents)
    ours = []
    for entry_plan in plan.entries:
        keys = {t.key for t in entry_plan.plan.trials}
        mine = runs[runs["run_key"].isin(keys)]  # collect() gives the columns even when there are no runs
        cells = {t: summarise(mine[mine["task"] == t], "primary", ctx) for t in tasks}
        if "kl" in recipe.columns:
            logged = pretrain_metrics.get(str(entry_plan.job.folder), {}) if entry_plan.job else {}
            for column, (metric, _) in KL_COLUMNS.items():
                value = logged.get(metric)
                cells[column] = Cell(value, text=f"{value:.3f}") if value is not None else Cell(text="not logged")
        ours.append(Row(entry_plan.entry.label, "ours", cells, entry_plan.entry.model))
    papers = paper_rows(table_id, tasks) + benchmark_rows(tasks, plan.mode)
    names = {e.entry.label: (e.entry.published,) if e.entry.published else () for e in plan.entries}
    add_deltas(ours, papers, tasks, names)
    for row in papers:
        row.cells["delta"] = Cell(text="–")
    columns = [(t, label(t)) for t in tasks]
    marked = list(tasks)
    if "kl" in recipe.columns:
        _paper_kl(papers, table_id)
        columns += [(c, header) for c, (_, header) in KL_COLUMNS.items()]
    if "average" in recipe.columns:
        _averages(ours, papers, tasks, table_id, [t.name for t in select_tasks(recipe.tasks)])
        columns.append(("average", "Avg"))
        marked.append("average")
    notes = [*recipe.notes, *footnotes(papers)]
    if not any(c.mean is not None for row in ours for t, c in row.cells.items() if t in tasks):
        notes.insert(0, "no finished runs of this recipe's entries yet")
    caption = (f"Recipe {recipe.name.upper()}, profile {plan.request.profile}, mode {plan.mode}, seeds "
               f"{','.join(map(str, plan.seeds))}; ours: {CELLS} over exactly the runs each entry planned; "
               "Δ = ours − the published row named by the entry, averaged over the tasks both have.")
    table = ReportTable(recipe.name, recipe.title, caption, columns + [("delta", "Δ vs paper")], ours + papers,
                        marked=marked, footnotes=notes)
    return mark(table)


def _paper_kl(papers: list[Row], table_id: str) -> None:
    kl = {r.model: r.mean for r in published() if r.table == table_id and r.metric == "kl_views"}
    for row in papers:
        row.cells["kl"] = Cell(kl[row.model], text=f"{kl[row.model]:.3f}") if row.model in kl else Cell(text="–")
        row.cells["kl_sum"] = Cell(text="–")


def _averages(ours: list[Row], papers: list[Row], tasks: list[str], table_id: str, recipe_tasks: list[str]) -> None:
    """The paper's averages are over all of a table's tasks: a row's average is ranked (and the paper's shown)
    only when the table has every task of the recipe and the row has all of them."""
    given = {r.model: r.mean for r in published() if r.table == table_id and r.metric.endswith("_average")}
    full, n_table = set(recipe_tasks) <= set(tasks), len(recipe_tasks)
    for row in ours:
        done = [t for t in tasks if row.cells[t].mean is not None]
        means = [row.cells[t].mean for t in done]
        if full and len(means) == len(tasks):
            row.cells["average"] = Cell(sum(means) / len(means))
        elif means:  # shown for reading, not ranked: the paper's averages are over all of its tasks
            theirs = sum(t in recipe_tasks for t in done)  # --tasks can name tasks the paper's table does not have
            over = (f"{len(means)} of {n_table} tasks" if theirs == len(means)
                    else f"{len(means)} tasks, {theirs} of the paper's {n_table}")
            row.cells["average"] = Cell(sum(means) / len(means), rankable=False,
                                        text=f"{sum(means) / len(means):.2f} ({over})")
        else:
            row.cells["average"] = Cell(text="no runs")
    for row in papers:
        row.cells["average"] = Cell(given[row.model]) if full and row.model in given else Cell(text="–")


def data_table(plan: RecipePlan) -> ReportTable:
    """Table 7: the registry's official sizes and median lengths beside the paper's, with the differences named."""
    paper = {(r.task, r.metric): r.mean for r in published() if r.table == (plan.recipe.published or "")}
    specs = all_tasks()
    rows, notes = [], list(plan.recipe.notes)
    for task in plan.tasks:
        spec = specs[task]
        ours = {"median_len": spec.median_len, "train_size": spec.sizes.train, "test_size": spec.sizes.test}
        cells = {"classes": Cell(float(spec.n_classes), text=str(spec.n_classes))}
        for metric, value in ours.items():
            theirs = paper.get((task, metric))
            cells[metric] = Cell(None, text="–" if value is None else f"{value:,}")
            cells[f"paper_{metric}"] = Cell(None, text="–" if theirs is None else f"{theirs:,.0f}")
            if value is not None and theirs is not None and value != theirs:
                cells[metric].note = "≠"
        rows.append(Row(label(task), "registry", cells, task))
    if any(c.note for r in rows for c in r.cells.values()):
        notes.append("≠ the registry (official split definitions) differs from the paper's number")
    columns = [("classes", "classes"), ("train_size", "train"), ("test_size", "test"), ("median_len", "median bp"),
               ("paper_train_size", "train (paper)"), ("paper_test_size", "test (paper)"),
               ("paper_median_len", "median bp (paper)")]
    caption = "Official split sizes and median lengths from the task cards (`suite tasks`), beside the paper's Table 7."
    return ReportTable(plan.recipe.name, plan.recipe.title, caption, columns, rows, footnotes=notes, row_header="task")


COST_UNITS = {"time": ("ms/batch", 1e3), "memory": ("peak MiB", 1.0), "flops": ("GFLOP/batch", 1e-9)}


def cost_table(recipe, results: list, factors: dict, device: str, length: int, batch: int) -> ReportTable:
    """Tables 6 and 8: our factors (÷ the reference entry, measured in the same process) and absolute figures, then
    the paper's factors (Table 6 prints them; Table 8 prints ms and GB, from which its factors are computed)."""
    rows = []
    for result in results:
        entry = result.entry
        cells = {key: Cell(factors[entry.label][key], text=f"×{factors[entry.label][key]:.2f}") for key in COST_UNITS}
        cells["time_abs"] = Cell(result.seconds_per_batch * 1e3, text=f"{result.seconds_per_batch * 1e3:,.0f}")
        cells["memory_abs"] = Cell(result.peak_memory_mb, text=f"{result.peak_memory_mb:,.0f}")
        cells["flops_abs"] = Cell(result.flops_per_batch * 1e-9, text=f"{result.flops_per_batch * 1e-9:,.1f}")
        cells["params"] = Cell(float(result.parameters), text=f"{result.parameters / 1e6:.1f}M")
        rows.append(Row(entry.label, "ours", cells, entry.model))
    papers = _paper_cost_rows(recipe)
    by_name = {row.model: row for row in papers}
    for row, entry in zip(rows, recipe.entries):
        match = by_name.get(entry.published or "")
        shared = [k for k in COST_UNITS if match and match.cells.get(k, Cell()).mean is not None]
        if entry.label == recipe.reference:
            row.cells["delta"] = Cell(text="reference")
        elif shared:
            deltas = {k: row.cells[k].mean - match.cells[k].mean for k in shared}
            row.cells["delta"] = Cell(None, text=", ".join(f"{k} {v:+.2f}" for k, v in deltas.items()))
        else:
            row.cells["delta"] = Cell(text="–")
    for row in papers:
        row.cells["delta"] = Cell(text="–")
    columns = [(k, f"{k.capitalize() if k != 'flops' else 'FLOPs'} ×") for k in COST_UNITS]
    columns += [(f"{k}_abs", unit) for k, (unit, _) in COST_UNITS.items()] + [("params", "params"),
                                                                            ("delta", "Δ factor vs paper")]
    caption = (f"One training step per batch of {batch} × {length} bp, every entry measured one after another in one "
               f"process on {device}; factor = ours ÷ {recipe.reference}'s. Time = median ms per batch, memory = "
               "peak during the steps above the process's memory before the entry was built, FLOPs = torch's "
               "counter over one full step: forward, backward, optimiser (matmuls, convolutions, attention; "
               "element-wise work counts 0). Random weights: the cost does not depend on their values.")
    notes = [*recipe.notes, *footnotes(papers)]
    return ReportTable(recipe.name, recipe.title, caption, columns, rows + papers, footnotes=notes)


def _paper_cost_rows(recipe) -> list[Row]:
    cells: dict[str, dict[str, float]] = {}
    source = {}
    for r in published():
        if r.table == recipe.published:
            cells.setdefault(r.model, {})[r.metric] = r.mean
            source[r.model] = r.source
    reference = next((e.published for e in recipe.entries if e.label == recipe.reference), None)
    base = cells.get(reference or "", {})
    rows = []
    for model, values in cells.items():
        row = Row(f"{model} (paper)", source[model], {}, model)
        for key, factor_metric, absolute, unit in (("time", "time_factor", "ms_per_batch", "ms"),
                                                   ("memory", "memory_factor", "GB_memory", "GB"),
                                                   ("flops", "flops_factor", None, "")):
            if factor_metric in values:
                row.cells[key] = Cell(values[factor_metric], text=f"×{values[factor_metric]:g}")
            elif absolute in values and base.get(absolute):
                factor = values[absolute] / base[absolute]
                row.cells[key] = Cell(factor, text=f"×{factor:.2f}")
            else:
                row.cells[key] = Cell(text="not reported")
            if absolute in values:
                row.cells[f"{key}_abs"] = Cell(values[absolute], text=f"{values[absolute]:g} {unit}")
        rows.append(row)
    return rows
