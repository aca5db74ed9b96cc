"""The `suite` command line. One short function per subcommand: parse flags, call one library function,
print with rich; every table goes through suite/tabular.py (drawn in a terminal, whole rows in a pipe or with
--format). A SuiteError becomes one line on stderr and exit code 2."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from suite.errors import SuiteError
from suite.tabular import FORMATS, prose, resolve_format, show


class ReadableHelp(typer.core.TyperGroup):
    """`--help` that reads naturally. Typer's rich help prints a type after every option, flags included
    (`--dry-run <bool>`, even `--help <bool>`) and `<list[str]>` for a repeatable one; here a flag shows none
    and a repeatable option without a metavar of its own shows `VALUE …`. Applied to each command as it is
    looked up, so every subcommand's help gets it."""

    def get_command(self, ctx: typer.Context, cmd_name: str):
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            _readable_metavars(command, ctx)
        return command

    def format_help(self, ctx: typer.Context, formatter) -> None:
        _readable_metavars(self, ctx)
        super().format_help(ctx, formatter)


def _readable_metavars(command, ctx: typer.Context) -> None:
    for param in command.get_params(ctx):
        if param.param_type_name != "option" or param.metavar is not None:
            continue
        if param.is_flag:
            param.metavar = ""
        elif param.multiple:
            param.metavar = "VALUE …"


app = typer.Typer(help="dna-suite: benchmark DNA sequence models on real data, every run tracked.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False, cls=ReadableHelp)
data_app = typer.Typer(help="Check, inspect and fetch the benchmark data.", no_args_is_help=True,
                       cls=ReadableHelp)
app.add_typer(data_app, name="data")
console = Console()

TrackingUri = Annotated[
    Optional[str],
    typer.Option("--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI, else sqlite ./runs/mlflow.db)."),
]
DataDir = Annotated[
    Optional[Path],
    typer.Option("--data-dir", help="Folder holding the data (before SUITE_DATA_DIR and the upstream caches)."),
]
TableFormat = Annotated[
    str,
    typer.Option("--format", metavar="FORMAT",
                 help=f"How tables print: {', '.join(FORMATS)}. auto = drawn (table) in a terminal, tsv when piped or "
                      "redirected; tsv, csv, json and md print every row whole on one line, notes on stderr."),
]


def _check_writes(tracking_uri: str | None, *folders: tuple[Path, str, str]) -> None:
    """Before anything runs: the tracking store (well-formed, reachable within seconds, its folder writable) and
    every folder the command will write, each refused in one line naming it (suite/preflight.py)."""
    from suite.preflight import writable_folder
    from suite.tracking import check_uri

    check_uri(tracking_uri)
    for folder, what, fix in folders:
        writable_folder(folder, what, fix)


def _cache_folder() -> tuple[Path, str, str]:
    from suite.data.cache import cache_dir

    return cache_dir(), "encoding cache", "set SUITE_CACHE_DIR to a folder you can write"


def _no_ray_gpus(no_ray: bool, gpus: float) -> None:
    if no_ray and gpus > 0:
        raise SuiteError(f"--gpus-per-trial {gpus:g} with --no-ray: trials then run one by one in this process, "
                         "which ignores it", "drop --gpus-per-trial (the process uses a GPU when torch sees one) "
                         "or drop --no-ray")


@app.command("tasks")
def tasks_command(
    group: Annotated[str, typer.Argument(help="A group (genomic_benchmarks, gue, gue_emp, mtcdna, paper, all) or task names, comma-separated.")] = "all",
    data_dir: DataDir = None,
    format_: TableFormat = "auto",
) -> None:
    """List tasks: benchmark, classes, metric, official sizes, median length, which splits are on disk."""
    from suite.data.sources import find
    from suite.tasks import select_tasks

    table = Table(title=f"tasks: {group}")
    for column in ("name", "benchmark", "classes", "metric", "train/dev/test", "median bp", "data"):
        table.add_column(column)
    specs = select_tasks(group)
    for task in specs:
        sizes = "/".join(str(n) if n is not None else "-" for n in (task.sizes.train, task.sizes.dev, task.sizes.test))
        present = [split for split in task.splits if find(task, split, data_dir)]
        status = "all splits" if len(present) == len(task.splits) else (", ".join(present) or "missing")
        table.add_row(task.name, task.benchmark, str(task.n_classes), task.metric, sizes, str(task.median_len or "?"), status)
    show(table, console, format_, whole=("name", "benchmark", "metric"))
    prose(console, format_).print(f"{len(specs)} tasks")


@data_app.command("verify")
def data_verify_command(
    tasks: Annotated[str, typer.Argument(help="Tasks or groups, comma-separated.")] = "all",
    data_dir: DataDir = None,
    strict: Annotated[bool, typer.Option(help="Also fail (exit 1) when a split is missing, not only when corrupt.")] = False,
    format_: TableFormat = "auto",
) -> None:
    """Check checksums (MANIFEST.tsv), row counts (official sizes) and characters; count train/dev/test duplicates.

    Exit code 1 when any split is CORRUPT (or MISSING with --strict)."""
    from suite.data.verify import CORRUPT, MISSING, verify_task
    from suite.tasks import select_tasks

    table = Table(title="data verify")
    for column in ("task", "status", "splits (rows / official)", "duplicates across splits", "detail"):
        table.add_column(column)
    worst = []
    for task in select_tasks(tasks):
        check = verify_task(task, data_dir)
        splits = ", ".join(
            f"{s.split} {s.status if s.status != 'OK' else ''}{'' if s.rows is None else f'{s.rows}/{s.expected_rows}'}".replace("  ", " ")
            for s in check.splits
        )
        dups = ", ".join(f"{k} {v}" for k, v in check.duplicates.items()) or "-"
        detail = "; ".join(f"{s.split}: {s.detail}" for s in check.splits if s.detail)
        iupac = sum(s.n_iupac for s in check.splits)
        detail = "; ".join(x for x in (detail, f"{iupac} IUPAC bases read as N" if iupac else "") if x)
        style = {"OK": "green", "MISSING": "yellow", "CORRUPT": "red"}[check.status]
        table.add_row(task.name, f"[{style}]{check.status}[/{style}]", escape(splits), dups, escape(detail))
        worst.append(check.status)
    show(table, console, format_)
    if CORRUPT in worst or (strict and MISSING in worst):
        raise typer.Exit(1)


@data_app.command("show")
def data_show_command(
    task: Annotated[str, typer.Argument(help="One task name.")],
    data_dir: DataDir = None,
    format_: TableFormat = "auto",
) -> None:
    """Counts, class balance and a length histogram of every split on disk."""
    from suite.data.show import describe
    from suite.tasks import get_task

    for table in describe(get_task(task), data_dir).renderables:
        show(table, console, format_)


@data_app.command("fetch")
def data_fetch_command(
    tasks: Annotated[str, typer.Argument(help="Tasks or groups, comma-separated.")],
    data_dir: DataDir = None,
    format_: TableFormat = "auto",
) -> None:
    """Download the tasks' data where an upstream package can (GenomicBenchmarks, into its cache), and say for
    the others how to get them by hand and where to put them.

    The only command that goes online for data (`suite run` also downloads a missing GenomicBenchmarks task).
    Exit code 1 when a task is still missing afterwards."""
    from suite.data.sources import fetch
    from suite.errors import DataNotFound
    from suite.tasks import select_tasks

    table = Table(title="data fetch")
    for column in ("task", "status", "how to get it"):
        table.add_column(column)
    missing = 0
    for task in select_tasks(tasks):
        try:
            table.add_row(task.name, fetch(task, data_dir), "")
        except DataNotFound as exc:
            missing += 1
            table.add_row(task.name, "[yellow]missing[/yellow]", escape(exc.line()))
    show(table, console, format_)
    if missing:
        raise typer.Exit(1)


models_app = typer.Typer(help="List model cards, show one's settings (`suite models show NAME`), or fetch a published "
                              "model's weights (`suite models fetch NAME`).",
                         invoke_without_command=True, cls=ReadableHelp)
app.add_typer(models_app, name="models")


def _weights_status(spec) -> str:
    """Where a card's weights are and whether they are on this machine (no network)."""
    if spec.weights.is_hub:
        from suite.models.hub import find_snapshot

        found = find_snapshot(spec.weights)
        where = f"{spec.weights.hub_id}@{spec.weights.revision}"
        return f"{where}\n[green]present[/green] {found}" if found else f"{where}\n[yellow]missing[/yellow] (suite models fetch {spec.name})"
    if spec.weights.is_random:
        return "none (random init)"
    present = (Path(spec.weights.local) / spec.weights.file).is_file()
    return f"{spec.weights.local}\n" + ("[green]present[/green]" if present else "[yellow]missing[/yellow] (suite pretrain)")


@models_app.callback()
def models_command(
    ctx: typer.Context,
    families: Annotated[bool, typer.Option("--families", help="Also list the registered backbone families.")] = False,
    format_: TableFormat = "auto",
) -> None:
    """List model cards: family, tokenizer, max input, pooling / head, parameters of each size (the built backbone's,
    counted once and cached: suite.models.parameter_counts), where the weights are and whether they are present
    locally; then the aliases (models/aliases.csv)."""
    if ctx.invoked_subcommand is not None:
        return
    from suite.models import all_models, family_names, model_aliases, parameter_counts

    table = Table(title="models")
    for column in ("name", "family", "tokenizer / max input", "pooling / head", "parameters by size (backbone)",
                   "weights", "description"):
        table.add_column(column)
    paper_lines = []
    for spec in all_models().values():
        counts = parameter_counts(spec)
        for size, count in counts.items():
            if size == spec.default_size and count.authors is not None:
                paper_lines.append(f"{spec.name} ({size}): {count.authors:,} parameters counted "
                                   f"like the authors (+ Linear({count.width}→5) head)"
                                   + (f"; card says {spec.n_parameters:,}" if spec.n_parameters else ""))
        max_input = spec.max_length or (f"{spec.params['max_len']} bp" if spec.params.get("max_len") else "task length")
        table.add_row(spec.name, spec.family, f"{spec.tokenizer}\n{max_input}", f"{spec.pooling} / {spec.head}",
                      "\n".join(f"{size} {count.backbone:,}" for size, count in counts.items()), _weights_status(spec),
                      spec.description)
    show(table, console, format_)
    notes = prose(console, format_)
    for line in paper_lines:
        notes.print(line, highlight=False)
    notes.print("aliases: " + ", ".join(f"{a.name} → {a.card}" for a in model_aliases().values()), highlight=False)
    if families:
        notes.print("families: " + ", ".join(family_names()), highlight=False)


@models_app.command("show")
def models_show_command(
    name: Annotated[str, typer.Argument(help="A model card or alias.")],
    task: Annotated[Optional[str], typer.Option("--task", help="Also the layers of this task (its paper recipe, the card's training.tasks and recipes: entries).")] = None,
    format_: TableFormat = "auto",
) -> None:
    """The card's settings in each profile and mode, each with the layer it came from (`suite run --explain` gives
    a plan's); without --task, the per-task layers are left out."""
    from suite.models import get_model_spec
    from suite.runs.plan import MODES
    from suite.runs.profiles import PROFILES
    from suite.runs.request import RunRequest
    from suite.runs.settings import resolve_settings, settings_table
    from suite.tasks import get_task

    spec, task_spec = get_model_spec(_model_name(name, prose(console, format_))), get_task(task) if task else None
    seeds = ",".join(map(str, RunRequest.seeds))  # suite run's default
    groups = [((profile, mode), resolve_settings(spec, task_spec, profile, {}, mode).rows(seeds))
              for profile in PROFILES for mode in MODES]
    show(settings_table(f"{spec.name}{f' on {task}' if task else ''}", ("profile", "mode"), groups), console,
         format_, whole=("profile", "mode", "setting"), repeat=("profile", "mode"))


@models_app.command("fetch")
def models_fetch_command(
    names: Annotated[str, typer.Argument(help="Model cards with a hub id (see `suite models`), comma-separated, e.g. dnabert6.")],
    to: Annotated[Optional[Path], typer.Option("--to", help="Download into this folder (then use --set weights=DIR or SUITE_MODELS_DIR) instead of the Hugging Face cache.")] = None,
) -> None:
    """Download published models' snapshots (config, tokenizer files, one weights format) from the Hugging Face hub.

    The only command that goes online for weights; runs afterwards find the snapshots offline."""
    from suite.models.hub import fetch

    cards = _model_names(names, console)
    if to is not None and len(cards) > 1:
        raise SuiteError(f"--to with {len(cards)} models: their snapshots would share one folder",
                         "fetch one model per --to, or drop --to (the Hugging Face cache keeps them apart)")
    for name in cards:
        folder = fetch(name, to)
        console.print(f"{name}: snapshot in {folder}; pin the card's weights.revision to "
                      f"{folder.name if to is None else 'the commit you fetched'}", highlight=False, soft_wrap=True)


def _model_names(text: str, say: Console) -> tuple[str, ...]:
    """Card names from a comma-separated list of cards and aliases, in order, each once."""
    return tuple(dict.fromkeys(_model_name(name, say) for name in text.split(",") if name.strip()))


def _model_name(name: str, say: Console) -> str:
    """The card a name means: itself, or the card of an alias (models/aliases.csv), said in one line with why."""
    from suite.models import resolve_model_name

    card, alias = resolve_model_name(name)
    if alias is not None:
        say.print(escape(alias.line()), highlight=False, soft_wrap=True)
    return card


@app.command("run")
def run_command(
    models: Annotated[str, typer.Option("--models", help="Model cards or aliases (hyenadna, nt, dnabert …), comma-separated (see `suite models`).")],
    tasks: Annotated[str, typer.Option("--tasks", help="Tasks or groups, comma-separated (see `suite tasks`).")],
    seeds: Annotated[str, typer.Option(help="How many seeds (0..N-1), or a list '1,7,42'. The paper reports 5.")] = "5",
    folds: Annotated[Optional[int], typer.Option(help="k-fold cross-validation over train (validation = fold k); default: the official dev split, else 10 % of train.")] = None,
    fold: Annotated[Optional[int], typer.Option(help="Run only this fold of --folds.")] = None,
    mode: Annotated[str, typer.Option(help="finetune (all weights train) or probe (backbone frozen, linear head).")] = "finetune",
    profile: Annotated[str, typer.Option(help="quick: CPU-sized, random init; paper: the paper's sizes, weights and settings.")] = "quick",
    set_: Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE", help="Override a setting (repeatable), e.g. --set lr=1e-3 --set epochs=2 --set model.layers=2.")] = None,
    data_dir: DataDir = None,
    drop_duplicates: Annotated[bool, typer.Option("--drop-duplicates", help="Drop training sequences that also occur in dev/test (leakage; `suite data verify` counts them). Recorded on the runs.")] = False,
    experiment: Annotated[str, typer.Option(help="MLflow experiment name.")] = "dna-suite",
    tracking_uri: TrackingUri = None,
    cpus_per_trial: Annotated[float, typer.Option(help="CPUs per trial (also its torch threads).")] = 1.0,
    gpus_per_trial: Annotated[float, typer.Option(help="GPUs per trial; fractions share a GPU (e.g. 0.5).")] = 0.0,
    max_concurrent: Annotated[Optional[int], typer.Option(help="At most this many trials at once (default: as resources allow).")] = None,
    max_failures: Annotated[int, typer.Option(help="Retries of a crashed trial.")] = 1,
    address: Annotated[Optional[str], typer.Option(help="Join a running Ray cluster ('auto' or host:port); default: a local Ray.")] = None,
    no_ray: Annotated[bool, typer.Option("--no-ray", help="Run trials one by one in this process (debugging).")] = False,
    allow_unverified: Annotated[bool, typer.Option("--allow-unverified", help="Train on data whose sha256 differs from MANIFEST.tsv (data you changed on purpose); recorded on every trial as suite.unverified.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan as a table and exit.")] = False,
    explain: Annotated[bool, typer.Option("--explain", help="Print every setting of each model x task with the layer it came from (FitConfig default, task card, model card, profile, sweep, --set) and exit.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No live view or tables (for scripts).")] = False,
    format_: TableFormat = "auto",
) -> None:
    """Train and test models x tasks x seeds (x folds) on Ray Tune; every trial tracked in MLflow.

    Re-running the same command skips trials that already finished (same run key) and re-runs failed ones."""
    from suite.runs.plan import expand
    from suite.runs.request import RunRequest, parse_seeds, parse_sets

    say = prose(console, format_) if dry_run or explain else console  # a run's log keeps its notes; a table is data
    request = RunRequest(
        models=_model_names(models, say), tasks=tasks,
        seeds=parse_seeds(seeds), folds=folds, fold=fold, mode=mode, profile=profile,
        sets={**({"drop_duplicates": True} if drop_duplicates else {}), **parse_sets(set_ or [])},
        data_dir=str(data_dir) if data_dir else None, experiment=experiment, tracking_uri=tracking_uri,
        cpus_per_trial=cpus_per_trial, gpus_per_trial=gpus_per_trial, max_concurrent=max_concurrent,
        max_failures=max_failures, address=address, allow_unverified=allow_unverified,
    )
    _no_ray_gpus(no_ray, gpus_per_trial)
    request.check()
    request.check_weights_apply()
    if not (dry_run or explain):
        _check_writes(tracking_uri, _cache_folder(),
                      (Path(request.storage).absolute(), "run storage", "run from a folder you can write"))
    plan = expand(request)
    refused = _refusals(plan, request)
    if explain:
        from suite.runs.settings import explain_table

        show(explain_table(plan.trials), console, format_, whole=("model", "task", "setting"),
             repeat=("model", "task"))
    elif dry_run:
        table = Table(title=f"plan: {len(plan.trials)} trials")
        for column in ("run key", "model", "size", "task", "seed", "fold", "mode", "epochs", "batch", "lr", "train data"):
            table.add_column(column)
        for t in plan.trials:
            table.add_row(t.key, t.model_name, t.size, t.task_name, str(t.seed), "-" if t.fold is None else str(t.fold),
                          t.mode, str(t.hparams["epochs"]), str(t.hparams["batch_size"]), f"{t.hparams['lr']:g}",
                          t.data["train"]["sha256"][:12])
        show(table, console, format_, whole=("run key", "model", "task"))
    for line in refused:
        say.print(line, highlight=False, soft_wrap=True)
    if dry_run or explain:
        return
    if not plan.trials:
        raise typer.Exit(1)
    from suite.runs.runner import execute

    plan = dataclasses.replace(plan, refused=[])  # said above, once
    summary = execute(request, use_ray=not no_ray, quiet=quiet, console=console, plan=plan, table_format=format_)
    if summary.failed:
        raise typer.Exit(1)


def _refusals(plan, request) -> list[str]:
    """What the plan refused, as lines to print (rich markup): data and weights not on this machine as one short
    summary with the command that fetches them (suite/runs/missing.py), then any other refusal, one line each."""
    from suite.runs.missing import summary

    said = {m.reason for m in plan.missing}
    return [escape(line) for line in summary(plan, request)] + [
        f"[yellow]skipped {escape(task)}:[/yellow] {escape(reason)}" for task, reason in plan.refused
        if reason not in said]


@app.command("pretrain")
def pretrain_command(
    model: Annotated[str, typer.Option("--model", help="findna (paper), findna-t (Transformer backbone) or cm-mnm (MNM only, no teacher).")],
    fasta: Annotated[Optional[Path], typer.Option("--fasta", help="Genome FASTA: plain, bgzip (.fa.gz/.fna.gz, read by block) or gzip (decompressed once to the cache); e.g. hg38.fa.gz.")] = None,
    tasks: Annotated[Optional[str], typer.Option("--tasks", help="In-domain corpus: the train splits (never dev/test) of these tasks or groups, alone or mixed with --fasta (task_fraction, default 0.5).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE", help="A pretraining setting, e.g. --set lr=1e-3 --set n_windows=40000 --set window_len=100 --set soft_mask=n.")] = None,
    profile: Annotated[str, typer.Option(help="quick: small backbone, 256-bp windows, a few hundred CPU steps; paper: 100k × 1000 bp, batch 64, 50 epochs.")] = "quick",
    steps: Annotated[Optional[int], typer.Option(help="Total optimiser steps (overrides the profile's epochs; the schedules span them).")] = None,
    views: Annotated[Optional[str], typer.Option("--views", help="Student+teacher views: paper (MDIT+NR), code (the released MNR+T), a Table 4 preset (M+NoAug, M+DIT, MDT+DIT, MDT+NR) or any pair of letters M D I T N R.")] = None,
    student_view: Annotated[Optional[str], typer.Option("--student-view", help="The student's augmentations by name, comma-separated (masking,deletion,insertion,translocation,noise,reverse_complement); with --teacher-view.")] = None,
    teacher_view: Annotated[Optional[str], typer.Option("--teacher-view", help="The teacher's augmentations by name, comma-separated ('' = none).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Checkpoint root; the run goes to OUT/<model>-<profile>[-views-…] and is registered in OUT/index.json.")] = Path("runs/checkpoints"),
    tracking_uri: TrackingUri = None,
) -> None:
    """Pretrain a backbone by self-distillation (paper §3) and export the teacher for the model cards.

    Re-running the same command resumes from the last snapshot in OUT/<model>-<profile>/steps/."""
    from suite.pretrain.augment import pair_from_lists
    from suite.pretrain.loop import check_corpus, pretrain, profile_config, run_name, with_views
    from suite.pretrain.progress import PretrainProgress

    from suite.runs.request import parse_sets

    config = profile_config(model, profile, steps=steps, **parse_sets(set_ or []), **({"tasks": tasks} if tasks else {}))
    if (student_view is None) != (teacher_view is None):
        raise SuiteError("--student-view and --teacher-view go together", "give both (use '' for no augmentation)")
    if student_view is not None and views is not None:
        raise SuiteError("--views and --student-view/--teacher-view both given", "use one way to name the views")
    pair = pair_from_lists(student_view, teacher_view) if student_view is not None else views
    if pair is not None:
        config = with_views(config, pair)
    check_corpus(config, fasta)
    _check_writes(tracking_uri, (out, "checkpoint folder", "pass --out a folder you can write"))
    corpus = " and ".join(([str(fasta)] if fasta else []) + ([f"the train splits of {tasks}"] if tasks else []))
    console.print(f"pretraining {model} ({profile}): {config.total_steps} steps, {config.n_windows} windows of "
                  f"{config.window_len} bp from {corpus or 'nothing (give --fasta and/or --tasks)'}", highlight=False)
    with PretrainProgress.of(config, run_name(config), console) as progress:
        result = pretrain(config, fasta, out, tracking_uri=tracking_uri, on_step=progress)
    last = result.history[-1] if result.history else {}
    console.print(f"step {result.step}/{result.total_steps}; loss {last.get('train/loss', float('nan')):.4f} "
                  f"(mnm {last.get('train/mnm_loss', float('nan')):.4f}, cl {last.get('train/cl_loss', float('nan')):.4f}); "
                  f"weights: {result.weights or result.run_dir}; MLflow run {result.run_id}", highlight=False)


@app.command("sweep")
def sweep_command(
    model: Annotated[Optional[str], typer.Option("--model", help="One model card.")] = None,
    task: Annotated[Optional[str], typer.Option("--task", help="One task.")] = None,
    trials: Annotated[int, typer.Option(help="Finished (complete or pruned) trials the study should hold.")] = 20,
    cv: Annotated[Optional[int], typer.Option(help="Folds of train per trial (default: the search space's objective.cv_folds).")] = None,
    study: Annotated[Optional[str], typer.Option(help="Study name; the same name resumes (default MODEL__TASK).")] = None,
    storage: Annotated[Optional[str], typer.Option(help="Optuna storage URL (default sqlite:///./runs/optuna.db; e.g. postgresql://... for a cluster).")] = None,
    space: Annotated[Optional[Path], typer.Option(help="Search-space YAML replacing sweeps/<family>.yaml.")] = None,
    timeout: Annotated[Optional[float], typer.Option(help="Stop starting trials after this many seconds (per worker).")] = None,
    workers: Annotated[int, typer.Option(help="Parallel Optuna worker processes on the shared storage.")] = 1,
    address: Annotated[Optional[str], typer.Option(help="Run the workers as Ray tasks on this cluster ('auto' or host:port); needs a database storage.")] = None,
    cpus_per_worker: Annotated[float, typer.Option(help="CPUs per worker on the cluster.")] = 1.0,
    gpus_per_worker: Annotated[float, typer.Option(help="GPUs per worker on the cluster (fractions allowed).")] = 0.0,
    profile: Annotated[str, typer.Option(help="quick or paper (model size, weights, caps).")] = "quick",
    set_: Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE", help="Fixed settings, not searched (e.g. --set epochs=2).")] = None,
    data_dir: DataDir = None,
    tracking_uri: TrackingUri = None,
    apply: Annotated[bool, typer.Option("--apply", help="Make the best parameters the ones `suite run` uses for this model x task.")] = False,
    dashboard: Annotated[bool, typer.Option("--dashboard", help="Open optuna-dashboard on the storage (127.0.0.1) instead of running.")] = False,
    port: Annotated[int, typer.Option(help="Port of --dashboard.")] = 8080,
) -> None:
    """Optuna search (TPE) over a model's settings on one task: objective = mean validation metric over K
    stratified folds of TRAIN (never test), pruned per fold, resumable, every trial in MLflow."""
    from suite.runs.request import parse_sets
    from suite.sweeps import study as sweeps

    if dashboard:
        sweeps.dashboard(storage, port)
        return
    if not model or not task:
        raise SuiteError("suite sweep needs --model and --task", "e.g. suite sweep --model cnn --task tf_mouse_2")
    request = sweeps.SweepRequest(
        model=_model_name(model, console), task=task, trials=trials, cv=cv, study=study,
        storage=storage, space=str(space) if space else None, timeout=timeout, workers=workers, profile=profile,
        sets=parse_sets(set_ or []), data_dir=str(data_dir) if data_dir else None, tracking_uri=tracking_uri,
        address=address, cpus_per_worker=cpus_per_worker, gpus_per_worker=gpus_per_worker,
    )
    request.check()
    applied = [(Path(request.applied_dir).absolute(), "applied-parameters folder", "run from a folder you can write")]
    _check_writes(tracking_uri, _cache_folder(), *(applied if apply else []))
    summary = sweeps.run_sweep(request)
    counts = summary["counts"]
    console.print(f"study {summary['study']}: {counts['COMPLETE']} complete, {counts['PRUNED']} pruned, "
                  f"{counts['FAIL']} failed ({summary['folds']}-fold CV on train)", highlight=False)
    if counts["FAIL"] and not counts["COMPLETE"] + counts["PRUNED"]:
        Console(stderr=True).print(
            f"[red]error:[/red] every trial of study {escape(summary['study'])} failed ({counts['FAIL']}; last: "
            f"{escape(str(summary['last_error']))}); fix the cause and run the same command again (the study "
            "resumes)", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    if summary["best_value"] is not None:
        console.print(f"best trial #{summary['best_trial']}: cv mean {summary['best_value']:.4f} with "
                      + ", ".join(f"{k}={v}" for k, v in summary["best_params"].items()), highlight=False)
    if apply:
        console.print(f"applied: {sweeps.apply_best(request, summary)} (used by `suite run` for this model x task)")


@app.command("reproduce")
def reproduce_command(
    table: Annotated[Optional[str], typer.Argument(help="A paper table: T1 … T9 (see --list).")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List every recipe with its grid size and exit.")] = False,
    profile: Annotated[str, typer.Option(help="quick: CPU-sized models, quick pretraining; paper: the paper's sizes, pretraining, seeds.")] = "quick",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the pretraining jobs and the grid (every entry x task x seed) and exit.")] = False,
    fasta: Annotated[Optional[Path], typer.Option("--fasta", help="Pretraining corpus (the paper: hg38.fa); needed when a variant is not pretrained yet.")] = None,
    seeds: Annotated[Optional[str], typer.Option(help="Replace the recipe's seeds: a count or a list '1,7,42'.")] = None,
    tasks: Annotated[Optional[str], typer.Option("--tasks", help="Replace the recipe's tasks (names or groups, comma-separated).")] = None,
    mode: Annotated[Optional[str], typer.Option(help="Replace the recipe's mode (finetune or probe).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", metavar="KEY=VALUE", help="A run setting for every entry, e.g. --set epochs=2 --set max_train_rows=500.")] = None,
    pretrain_steps: Annotated[Optional[int], typer.Option(help="Pretraining steps of every variant (default: the pretraining profile's).")] = None,
    pretrain_set: Annotated[Optional[list[str]], typer.Option("--pretrain-set", metavar="KEY=VALUE", help="A pretraining setting, e.g. --pretrain-set size=tiny --pretrain-set window_len=128.")] = None,
    checkpoints: Annotated[Path, typer.Option(help="Where pretraining variants are written and found (the cards point at runs/checkpoints).")] = Path("runs/checkpoints"),
    out: Annotated[Path, typer.Option("--out", help="The table goes to OUT/<table>/ (md, csv, html).")] = Path("reports/reproduce"),
    data_dir: DataDir = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment of the runs.")] = "dna-suite",
    tracking_uri: TrackingUri = None,
    cpus_per_trial: Annotated[float, typer.Option(help="CPUs per trial.")] = 1.0,
    gpus_per_trial: Annotated[float, typer.Option(help="GPUs per trial; fractions share a GPU.")] = 0.0,
    max_concurrent: Annotated[Optional[int], typer.Option(help="At most this many trials at once.")] = None,
    address: Annotated[Optional[str], typer.Option(help="Join a running Ray cluster ('auto' or host:port).")] = None,
    no_ray: Annotated[bool, typer.Option("--no-ray", help="Run trials one by one in this process.")] = False,
    device: Annotated[Optional[str], typer.Option(help="Cost recipes: cpu or cuda (default: cuda when present).")] = None,
    repeats: Annotated[int, typer.Option(help="Cost recipes: timed steps per entry (median).")] = 3,
    length: Annotated[Optional[int], typer.Option(help="Cost recipes: input length in bp (default: the recipe's, 1024).")] = None,
    batch: Annotated[Optional[int], typer.Option(help="Cost recipes: batch size (default: the recipe's, 16).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No live view.")] = False,
    format_: TableFormat = "auto",
) -> None:
    """Re-run a table of the FinDNA paper by name: pretraining first (each variant once), then its grid through
    `suite run` (resumable, Ray, MLflow), then the table beside the paper's numbers with a Δ column."""
    from suite.recipes.plan import ReproduceRequest
    from suite.runs.request import RunRequest, parse_seeds, parse_sets

    if list_:
        _list_recipes(profile, format_)
        return
    if not table:
        raise SuiteError("suite reproduce needs a table", "e.g. suite reproduce T2, or suite reproduce --list")
    from suite.recipes import get_recipe

    get_recipe(table)  # an unknown name is refused before any folder or store is touched
    run = RunRequest(models=(), tasks="", sets=parse_sets(set_ or []), data_dir=str(data_dir) if data_dir else None,
                     experiment=experiment, tracking_uri=tracking_uri, cpus_per_trial=cpus_per_trial,
                     gpus_per_trial=gpus_per_trial, max_concurrent=max_concurrent, address=address)
    _no_ray_gpus(no_ray, gpus_per_trial)
    run.check()
    request = ReproduceRequest(
        recipe=table, profile=profile, seeds=parse_seeds(seeds) if seeds else None, tasks=tasks, mode=mode, run=run,
        pretrain_steps=pretrain_steps, pretrain_sets=parse_sets(pretrain_set or []),
        fasta=str(fasta) if fasta else None, checkpoints=str(checkpoints), use_ray=not no_ray, out=str(out),
        device=device, repeats=repeats, length=length, batch=batch,
    )
    if dry_run:
        _print_recipe_plan(request, format_)
        return
    _check_writes(tracking_uri, _cache_folder(), (out, "output folder", "pass --out a folder you can write"),
                  (Path(run.storage).absolute(), "run storage", "run from a folder you can write"))
    from suite.recipes.run import reproduce
    from suite.reports.render import markdown

    result = reproduce(request, console=console, quiet=quiet)
    console.print(markdown(result.table), highlight=False, soft_wrap=True)
    console.print(f"written: {', '.join(str(f) for f in result.files)}"
                  + (f"; MLflow run {result.run_id}" if result.run_id else ""), highlight=False, soft_wrap=True)
    summary = result.summary  # as `suite run`: exit 1 when a trial failed or nothing could be planned
    if summary is not None and (summary.failed or (summary.refused and not summary.planned)):
        raise typer.Exit(1)


def _list_recipes(profile: str, format_: str) -> None:
    from suite.recipes import all_recipes
    from suite.recipes.plan import ReproduceRequest, plan_recipe

    table = Table(title=f"recipes: the paper's tables and the studies (profile {profile})")
    for column in ("table", "what", "entries", "grid", "pretraining"):
        table.add_column(column)
    for name, recipe in all_recipes().items():
        plan = plan_recipe(ReproduceRequest(name, profile=profile), runs=False)
        entries = "\n".join(e.label for e in recipe.entries) or "task registry"
        if recipe.kind in ("scores", "study"):
            modes = recipe.all_modes if recipe.kind == "study" else (plan.mode,)
            tasks = recipe.tasks if ',' not in recipe.tasks else f"{len(plan.tasks)} tasks"
            what = f"{recipe.published or 'study'}: {', '.join(modes)}, {tasks}"
            grid = (f"{len(plan.entries)} x {len(plan.tasks)} x {len(plan.seeds)}"
                    + (f" x {len(modes)} modes" if len(modes) > 1 else "")
                    + f"\n= {plan.grid_size * len(modes)} trials")
            jobs = "\n".join(f"{j.folder.name} ({'present' if j.present else 'to run'})" for j in plan.jobs) or "-"
        elif recipe.kind == "cost":
            what = f"{recipe.published}: cost per training batch"
            grid = f"{len(recipe.entries)} in one process\n{recipe.batch} x {recipe.length} bp"
            jobs = "-"
        else:
            what, grid, jobs = f"{recipe.published}: data", f"{len(plan.tasks)} tasks", "-"
        table.add_row(name.upper() if recipe.published else name, what, entries, grid, jobs)
    show(table, console, format_)


def _print_recipe_plan(request, format_: str) -> None:
    from suite.recipes.plan import grid_rows, plan_study

    plans = plan_study(request)
    plan, recipe = plans[0], plans[0].recipe
    say = prose(console, format_)
    if recipe.kind not in ("scores", "study"):
        what = (f"{len(recipe.entries)} entries measured in one process: " + ", ".join(e.label for e in recipe.entries)
                if recipe.kind == "cost" else f"the task registry's sizes of {len(plan.tasks)} tasks")
        say.print(f"{recipe.name.upper()} ({recipe.kind}): {what}", highlight=False)
        return
    for job in plan.jobs:
        say.print(f"pretraining {job.folder} ({'present, reused' if job.present else 'to run'}): "
                      f"{job.config.total_steps} steps, views {job.config.method.views}, for {', '.join(job.entries)}",
                      highlight=False, soft_wrap=True)
    rows = [row for each in plans for row in grid_rows(each)]
    reasons = list(dict.fromkeys(r["status"] for r in rows if r["status"] != "planned"))
    modes = f" x {len(plans)} modes" if len(plans) > 1 else ""
    table = Table(title=f"{recipe.name.upper()} grid ({request.profile}): {len(plan.entries)} entries x "
                        f"{len(plan.tasks)} tasks x {len(plan.seeds)} seeds{modes} = {len(rows)} trials")
    for column in ("entry", "model", "task", "seed", "mode", "run key", "status"):
        table.add_column(column)
    drawn = resolve_format(format_, console) == "table"  # drawn: reasons as footnotes; data: each row says its own
    for r in rows:
        status = r["status"] if r["status"] == "planned" or not drawn else f"not yet ({reasons.index(r['status']) + 1})"
        table.add_row(r["entry"], r["model"], r["task"], str(r["seed"]), r["mode"], r["key"] or "-", escape(status))
    show(table, console, format_, whole=("entry", "model", "task"))
    planned = sum(r["status"] == "planned" for r in rows)
    say.print(f"{len(rows)} trials: {planned} planned now, {len(rows) - planned} not yet", highlight=False)
    for i, reason in enumerate(reasons if drawn else [], 1):
        say.print(f"({i}) {escape(reason)}", highlight=False, soft_wrap=True)


@app.command("server")
def server_command(
    backend_store_uri: Annotated[str, typer.Option(help="Database of the runs, e.g. postgresql://user:password@host:5432/mlflow.")],
    artifacts: Annotated[Path, typer.Option(help="Folder the server stores artifacts in (served to clients over HTTP).")] = Path("runs/server-artifacts"),
    host: Annotated[str, typer.Option(help="Interface to bind; 127.0.0.1 unless workers on other machines must reach it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 5000,
    workers: Annotated[int, typer.Option(help="Server worker processes.")] = 2,
) -> None:
    """Start an MLflow tracking server on a real database (runs then use --tracking-uri http://HOST:PORT)."""
    from suite.server import serve

    raise typer.Exit(serve(backend_store_uri, str(artifacts), host, port, workers))


@app.command("report")
def report_command(
    experiment: Annotated[str, typer.Option(help="MLflow experiment holding the runs.")] = "dna-suite",
    tracking_uri: TrackingUri = None,
    tasks: Annotated[Optional[str], typer.Option("--tasks", help="Only these tasks or groups, comma-separated (default: every task with runs).")] = None,
    models: Annotated[Optional[str], typer.Option("--models", help="Only these model cards, comma-separated (published rows are always shown).")] = None,
    format_: Annotated[str, typer.Option("--format", help="Any of md,tex,html,csv, comma-separated.")] = "md,tex,html,csv",
    out: Annotated[Path, typer.Option("--out", help="Folder for report.* , tables/ and plots/ (overwritten).")] = Path("reports/out"),
    pair: Annotated[Optional[list[str]], typer.Option("--pair", metavar="A,B", help="Paired tests between two leaderboard rows, 'A,B' (repeatable; default: the top two).")] = None,
    curves: Annotated[Optional[str], typer.Option("--curves", help="Run ids whose learning curves to plot, comma-separated (default: one run per model on the most-run task).")] = None,
    cost_task: Annotated[str, typer.Option(help="Task of the cost table (the paper: mtcdna_1k).")] = "mtcdna_1k",
    ui_url: Annotated[Optional[str], typer.Option("--ui-url", help="Address of the MLflow UI the HTML's run links open (default http://127.0.0.1:5000, `suite ui`'s).")] = None,
    port: Annotated[Optional[int], typer.Option("--port", help="Shortcut for --ui-url http://127.0.0.1:PORT (`suite ui --port PORT`).")] = None,
    no_paper: Annotated[bool, typer.Option("--no-paper", help="Leave out the published (paper) rows.")] = False,
    no_log: Annotated[bool, typer.Option("--no-log", help="Do not log the report as an MLflow run (suite.kind=report).")] = False,
) -> None:
    """Tables in the paper's layouts (T1, T2, T3, T5, T6 + a leaderboard) from the finished runs, beside the
    published numbers, with paired tests, a Friedman test, a CD diagram and plots."""
    pairs = []
    for text in pair or []:
        names = [n.strip() for n in text.split(",")]
        if len(names) != 2 or not all(names):
            raise SuiteError(f"--pair '{text}' is not two rows", "write --pair findna,cnn")
        pairs.append((names[0], names[1]))
    from suite.reports.runs_view import ui_address

    ui = ui_address(ui_url, port)
    _check_writes(tracking_uri, (out, "output folder", "pass --out a folder you can write"))
    from suite.reports.report import ReportRequest, write_report

    request = ReportRequest(
        experiment=experiment, tracking_uri=tracking_uri, tasks=tasks, models=models,
        formats=tuple(f.strip() for f in format_.split(",") if f.strip()), out=out, pairs=tuple(pairs),
        curves=tuple(c.strip() for c in (curves or "").split(",") if c.strip()), ui_url=ui, paper=not no_paper,
        cost_task=cost_task, log=not no_log,
    )
    result = write_report(request)
    console.print(f"{result.n_runs} finished runs → {len(result.tables)} tables, {len(result.files)} files in {result.out}"
                  + (f"; MLflow report run {result.run_id}" if result.run_id else ""), highlight=False)
    for note in result.notes:
        console.print(note, highlight=False, soft_wrap=True)


@app.command("ui")
def ui_command(
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1.")] = 5000,
    tracking_uri: TrackingUri = None,
    experiment: Annotated[str, typer.Option(help="MLflow experiment whose leaderboard the UI opens on.")] = "dna-suite",
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Only print the leaderboard's URL, open no browser.")] = False,
) -> None:
    """The MLflow UI on 127.0.0.1 for the suite's store, opened on the experiment's leaderboard: its parent runs,
    best test/primary_mean first, with the metric and n_runs columns (saved on the experiment as a view)."""
    from suite.reports.ui import serve

    raise typer.Exit(serve(tracking_uri, port, experiment, open_browser=not no_browser))


def main() -> None:
    from suite.server import retry_defaults

    retry_defaults()  # MLflow client calls back off and retry while a tracking server restarts
    try:
        app()
    except SuiteError as exc:
        # markup off for the message itself: brackets such as [low, high] print as written
        Console(stderr=True).print(f"[red]error:[/red] {escape(exc.line())}", highlight=False, soft_wrap=True)
        sys.exit(2)
