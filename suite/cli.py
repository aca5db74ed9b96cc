"""The `suite` command line. One short function per subcommand: parse flags, call one library function,
print with rich. A SuiteError becomes one line on stderr and exit code 2."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from suite.errors import SuiteError

app = typer.Typer(help="dna-suite: benchmark DNA sequence models on real data, every run tracked.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
data_app = typer.Typer(help="Check and inspect the benchmark data on disk.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console()

DataDir = Annotated[
    Optional[Path],
    typer.Option("--data-dir", help="Folder holding the data (before SUITE_DATA_DIR and the upstream caches)."),
]


@app.command("tasks")
def tasks_command(
    group: Annotated[str, typer.Argument(help="A group (genomic_benchmarks, gue, gue_emp, mtcdna, paper, all) or task names, comma-separated.")] = "all",
    data_dir: DataDir = None,
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
    console.print(table)
    console.print(f"{len(specs)} tasks")


@data_app.command("verify")
def data_verify_command(
    tasks: Annotated[str, typer.Argument(help="Tasks or groups, comma-separated.")] = "all",
    data_dir: DataDir = None,
    strict: Annotated[bool, typer.Option(help="Also fail (exit 1) when a split is missing, not only when corrupt.")] = False,
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
        table.add_row(task.name, f"[{style}]{check.status}[/{style}]", splits, dups, detail)
        worst.append(check.status)
    console.print(table)
    if CORRUPT in worst or (strict and MISSING in worst):
        raise typer.Exit(1)


@data_app.command("show")
def data_show_command(
    task: Annotated[str, typer.Argument(help="One task name.")],
    data_dir: DataDir = None,
) -> None:
    """Counts, class balance and a length histogram of every split on disk."""
    from suite.data.show import describe
    from suite.tasks import get_task

    console.print(describe(get_task(task), data_dir))


@app.command("models")
def models_command(
    families: Annotated[bool, typer.Option("--families", help="Also list the registered backbone families.")] = False,
) -> None:
    """List model cards: family, pooling, head, parameters of each size (built on the meta device), weights."""
    import torch

    from suite.models import FAMILIES, all_models, build_backbone

    table = Table(title="models")
    for column in ("name", "family", "pooling / head", "parameters by size (backbone)", "weights", "description"):
        table.add_column(column)
    paper_lines = []
    for spec in all_models().values():
        counts = []
        for size in spec.size_names:
            with torch.device("meta"):  # shapes only: no memory, no initialisation
                backbone = build_backbone(spec, size)
            counts.append(f"{size} {sum(p.numel() for p in backbone.parameters()):,}")
            if size == spec.default_size and hasattr(backbone, "authors_parameter_count"):
                paper_lines.append(f"{spec.name} ({size}): {backbone.authors_parameter_count():,} parameters counted "
                                   f"like the authors (+ Linear({backbone.width}→5) head)"
                                   + (f"; card says {spec.n_parameters:,}" if spec.n_parameters else ""))
        table.add_row(spec.name, spec.family, f"{spec.pooling} / {spec.head}", "\n".join(counts),
                      spec.weights.local, spec.description)
    console.print(table)
    for line in paper_lines:
        console.print(line)
    if families:
        console.print("families: " + ", ".join(FAMILIES.names()))


@app.command("pretrain")
def pretrain_command(
    model: Annotated[str, typer.Option("--model", help="findna (paper), findna-t (Transformer backbone) or cm-mnm (MNM only, no teacher).")],
    fasta: Annotated[Path, typer.Option("--fasta", help="Corpus FASTA, plain (indexed once, .fai) or gzip (read whole); e.g. hg38.fa.")],
    profile: Annotated[str, typer.Option(help="quick: small backbone, 256-bp windows, a few hundred CPU steps; paper: 100k × 1000 bp, batch 64, 50 epochs.")] = "quick",
    steps: Annotated[Optional[int], typer.Option(help="Total optimiser steps (overrides the profile's epochs; the schedules span them).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Checkpoint root; the run goes to OUT/<model>-<profile> and is registered in OUT/index.json.")] = Path("runs/checkpoints"),
    tracking_uri: Annotated[Optional[str], typer.Option(help="MLflow store (default: MLFLOW_TRACKING_URI, else sqlite ./runs/mlflow.db).")] = None,
) -> None:
    """Pretrain a backbone by self-distillation (paper §3) and export the teacher for the model cards.

    Re-running the same command resumes from the last snapshot in OUT/<model>-<profile>/steps/."""
    from suite.pretrain.loop import pretrain, profile_config

    config = profile_config(model, profile, steps=steps)
    console.print(f"pretraining {model} ({profile}): {config.total_steps} steps, {config.n_windows} windows of "
                  f"{config.window_len} bp from {fasta}", highlight=False)
    result = pretrain(config, fasta, out, tracking_uri=tracking_uri)
    last = result.history[-1] if result.history else {}
    console.print(f"step {result.step}/{result.total_steps}; loss {last.get('train/loss', float('nan')):.4f} "
                  f"(mnm {last.get('train/mnm_loss', float('nan')):.4f}, cl {last.get('train/cl_loss', float('nan')):.4f}); "
                  f"weights: {result.weights or result.run_dir}; MLflow run {result.run_id}", highlight=False)


def main() -> None:
    try:
        app()
    except SuiteError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc.line()}", highlight=False, soft_wrap=True)
        sys.exit(2)
