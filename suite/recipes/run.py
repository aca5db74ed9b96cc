"""`suite reproduce TABLE`: pretraining first (each variant once), then every entry's runs through `suite run`'s
runner (one grid: run keys, resume without duplicates, Ray, MLflow), then the table beside the paper's numbers,
written under `<out>/<table>/` as md / csv / html and logged on an MLflow run tagged suite.kind=report.

Cost recipes (T6, T8) measure their entries one after another in this process and log the figures on an MLflow
run tagged suite.kind=cost; the data recipe (T7) lists the task registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from suite.errors import SuiteError
from suite.recipes.plan import RecipePlan, ReproduceRequest, plan_recipe
from suite.reports.tables import ReportTable
from suite.runs.runner import RunSummary


@dataclass
class ReproduceResult:
    plan: RecipePlan
    table: ReportTable
    files: list[Path] = field(default_factory=list)
    run_id: str | None = None  # the MLflow report (or cost) run
    summary: RunSummary | None = None  # the grid's (scores recipes only)
    pretrained: list[Path] = field(default_factory=list)  # pretraining jobs run by this call


def run_pretraining(plan: RecipePlan, console: Console, quiet: bool = False) -> list[Path]:
    """Every job whose exported weights are not there yet, in order; each is resumable (`suite pretrain`)."""
    from suite.pretrain.loop import pretrain
    from suite.pretrain.progress import PretrainProgress

    from suite.recipes.plan import corpus_fasta

    todo = [job for job in plan.jobs if not job.present]
    fasta = corpus_fasta(plan.recipe, plan.request) if todo else None
    if todo and fasta is None and not all(job.config.tasks for job in todo):
        raise SuiteError(f"recipe {plan.recipe.name.upper()} needs pretraining first ({', '.join(str(j.folder) for j in todo)})"
                         " and no corpus was given",
                         "pass --fasta hg38.fa (the paper's corpus; any FASTA for a quick run)")
    done = []
    for job in todo:
        console.print(f"pretraining {job.folder.name} for {', '.join(job.entries)}: {job.config.total_steps} steps",
                      highlight=False)
        with PretrainProgress.of(job.config, job.folder.name, console, quiet=quiet) as progress:
            result = pretrain(job.config, fasta, job.folder.parent, name=job.folder.name,
                              tracking_uri=plan.request.tracking_uri, on_step=progress,
                              data_dir=plan.request.run.data_dir)
        if result.weights is None:
            raise SuiteError(f"pretraining {job.folder} stopped at step {result.step}/{result.total_steps}",
                             "run `suite reproduce` again to resume it")
        done.append(job.folder)
    return done


def pretrain_metrics(plan: RecipePlan) -> dict[str, dict[str, float]]:
    """Pretraining folder → the metrics its MLflow run logged (the view dissimilarity among them); none for a run
    logged to another store (the cell says "not logged")."""
    from suite.tracking import run_metrics

    return {str(job.folder): run_metrics(plan.request.tracking_uri, job.mlflow_run_id)
            for job in plan.jobs if job.mlflow_run_id}


def reproduce(request: ReproduceRequest, console: Console | None = None, quiet: bool = False) -> ReproduceResult:
    console = console or Console()
    plan = plan_recipe(request)
    kind = plan.recipe.kind
    if kind == "data":
        from suite.recipes.table import data_table

        result = ReproduceResult(plan, data_table(plan))
    elif kind == "cost":
        result = _cost(plan)
    elif kind == "study":
        return _study(request, console, quiet)
    else:
        result = _scores(plan, console, quiet)
    out = Path(request.out) / plan.recipe.name
    result.files = write_table(result.table, out)
    if kind == "scores":
        from suite.reports.collect import log_report

        result.run_id = log_report(result.summary.tracking_uri, request.experiment, out, result.files,
                                   {"recipe": plan.recipe.name, "profile": request.profile, "mode": plan.mode,
                                    "seeds": ",".join(map(str, plan.seeds)), "tasks": ",".join(plan.tasks)})
    return result


def _scores(plan: RecipePlan, console: Console, quiet: bool) -> ReproduceResult:
    from suite.recipes.table import scores_table
    from suite.reports.tables import prepare

    pretrained = run_pretraining(plan, console, quiet)
    if pretrained:
        plan = plan_recipe(plan.request)  # the weights exist now: every entry plans its runs
    summary, collected = _run_grid([plan], console, quiet)
    table = scores_table(plan, prepare(collected.runs), collected.parents, pretrain_metrics(plan))
    return ReproduceResult(plan, table, summary=summary, pretrained=pretrained)


def _run_grid(plans: list[RecipePlan], console: Console, quiet: bool):
    """Every planned trial of the plans in one grid (entries and modes may share a trial: run once), then the
    experiment's finished runs."""
    from suite.reports.collect import collect
    from suite.runs.plan import Plan
    from suite.runs.runner import execute

    trials = list({t.key: t for plan in plans for t in plan.trials()}.values())
    refused = [(f"{e.entry.label} ({plan.mode}): {what}" if len(plans) > 1 else f"{e.entry.label}: {what}", why)
               for plan in plans for e in plan.entries for what, why in e.plan.refused]
    base = plans[0].entries[0].request
    summary = execute(base, use_ray=plans[0].request.use_ray, quiet=quiet, console=console, plan=Plan(trials, refused))
    return summary, collect(plans[0].request.experiment, plans[0].request.tracking_uri, newest_only=False)


def _study(request: ReproduceRequest, console: Console, quiet: bool) -> ReproduceResult:
    """Pretraining once for every mode, one grid over the modes, a table per mode (OUT/<name>/<mode>/) and the
    study page OUT/<name>/study.md with its figures (suite/recipes/study.py), logged as one report run."""
    from suite.recipes.plan import plan_study
    from suite.recipes.study import write_study
    from suite.recipes.table import scores_table
    from suite.reports.collect import log_report
    from suite.reports.tables import prepare

    plans = plan_study(request)
    pretrained = run_pretraining(plans[0], console, quiet)
    if pretrained:
        plans = plan_study(request)
    summary, collected = _run_grid(plans, console, quiet)
    runs = prepare(collected.runs)
    out = Path(request.out) / plans[0].recipe.name
    files, tables = [], []
    for plan in plans:
        tables.append(scores_table(plan, runs, collected.parents, pretrain_metrics(plan)))
        files += write_table(tables[-1], out / plan.mode)
    page = write_study(plans, runs, summary.tracking_uri, out, study_command(request))
    files += [page, *sorted(out.glob("*.png"))]
    run_id = log_report(summary.tracking_uri, request.experiment, out, files,
                        {"recipe": plans[0].recipe.name, "profile": request.profile,
                         "mode": ",".join(p.mode for p in plans), "seeds": ",".join(map(str, plans[0].seeds)),
                         "tasks": ",".join(plans[0].tasks)})
    return ReproduceResult(plans[0], tables[0], files, run_id, summary, pretrained)


def study_command(request: ReproduceRequest) -> str:
    """The `suite reproduce` line that re-makes this study (what the page says it ran)."""
    parts = ["suite reproduce", request.recipe, "--profile", request.profile]
    if request.seeds is not None:
        parts += ["--seeds", ",".join(map(str, request.seeds))]
    for flag, value in (("--tasks", request.tasks), ("--mode", request.mode), ("--fasta", request.fasta),
                        ("--pretrain-steps", request.pretrain_steps)):
        if value is not None:
            parts += [flag, str(value)]
    parts += [f"--pretrain-set {k}={v}" for k, v in request.pretrain_sets.items()]
    parts += [f"--set {k}={v}" for k, v in request.run.sets.items()]
    return " ".join(parts)


def _cost(plan: RecipePlan) -> ReproduceResult:
    """Measure the entries (the profile picks the sizes: paper → the cards' paper size, quick → small) and log them."""
    from suite import tracking
    from suite.recipes.cost import measure, ratios
    from suite.recipes.table import cost_table
    from suite.runs.profiles import get_profile

    recipe, request = plan.recipe, plan.request
    size = get_profile(request.profile).model_size
    entries = [_cost_entry(e, size) for e in recipe.entries]
    length, batch = request.length or recipe.length, request.batch or recipe.batch
    results, device = measure(entries, length=length, batch=batch, repeats=request.repeats, device=request.device)
    factors = ratios(results, recipe.reference)
    table = cost_table(recipe, results, factors, device, length, batch)
    writer = tracking.RunWriter(request.tracking_uri, request.experiment, f"cost · {recipe.name}")
    run_id = writer.start(params={"recipe": recipe.name, "profile": request.profile, "length": length, "batch": batch,
                                  "repeats": request.repeats, "device": device,
                                  **{f"size.{r.entry.label}": r.entry.size for r in results}},
                          tags={"suite.kind": "cost", "suite.recipe": recipe.name, "suite.device": device})
    for r in results:
        slug = r.entry.label.replace(" ", "_")
        writer.log(0, {f"{slug}/{key}": value for key, value in (
            ("ms_per_batch", r.seconds_per_batch * 1e3), ("peak_memory_mb", r.peak_memory_mb),
            ("gflops_per_batch", r.flops_per_batch * 1e-9), ("parameters", r.parameters),
            *((f"{k}_factor", v) for k, v in factors[r.entry.label].items()))})
    writer.finish()
    return ReproduceResult(plan, table, run_id=run_id)


def _cost_entry(entry, profile_size: str):
    from suite.models import get_model_spec
    from suite.recipes.cost import CostEntry

    spec = get_model_spec(entry.model)
    size = entry.size or (profile_size if profile_size in spec.size_names else spec.default_size)
    return CostEntry(entry.label, entry.model, entry.step, size)


def write_table(table: ReportTable, out: Path) -> list[Path]:
    """table.md, table.csv (as printed), cells.csv (every number with its run ids), table.html."""
    from suite.reports import render

    out.mkdir(parents=True, exist_ok=True)
    (out / "table.md").write_text(render.markdown(table), encoding="utf-8")
    render.wide_frame(table).to_csv(out / "table.csv", index=False)
    render.tidy_frame([table]).to_csv(out / "cells.csv", index=False)
    (out / "table.html").write_text(render.html_page(table.title, table.caption, [render.html_table(table)]),
                                    encoding="utf-8")
    return [out / name for name in ("table.md", "table.csv", "cells.csv", "table.html")]
