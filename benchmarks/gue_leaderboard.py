"""The CPU leaderboard (not a test): baselines, FinDNA and FinDNA-T from random init on the GUE data sets that are
complete here (train + dev + test), quick (CPU) profile, 3 seeds, test MCC mean ± std, with DNABERT-2's and
NT-2500M-multi's published scores beside (reports/published/gue_dnabert2.csv), and trial time per model.

    python benchmarks/gue_leaderboard.py [--models cnn,deepbind] [--out reports/gue_cpu_leaderboard.md]

Every trial goes through `suite run`'s machinery (plan, local Ray, MLflow store under ./runs/), so the table
can be rebuilt from MLflow, and re-running the script resumes instead of re-training.
"""

from __future__ import annotations

import argparse
import csv
import math
import platform
import time
from pathlib import Path

TASKS = ["tf_human_0", "tf_human_1", "tf_human_2", "tf_human_3", "tf_human_4", "tf_mouse_0", "tf_mouse_2",
         "tf_mouse_4", "prom_core_all", "prom_core_notata", "prom_core_tata"]
PUBLISHED = ("DNABERT-2", "NT-2500M-multi")


def published(path: Path) -> dict[tuple[str, str], float]:
    with open(path) as handle:
        return {(r["model"], r["task"]): float(r["mean"]) for r in csv.DictReader(handle)}


def latest_trials(request, model: str, params: dict | None = None) -> dict[tuple[str, str], object]:
    """(task, seed) → the newest finished quick-profile trial of `model` in the experiment (and with these `params`
    values), read back by tags (a piece run earlier, perhaps by an older commit, still counts)."""
    from suite.tracking import Experiment, Tag

    runs = Experiment(request.tracking_uri, request.experiment).finished_trials(
        {Tag.MODEL: model, Tag.PROFILE: "quick"}, params)
    return {(run.data.tags[Tag.TASK], run.data.tags[Tag.SEED]): run
            for run in sorted(runs, key=lambda r: r.info.start_time)}


def finished_rows(request, model: str) -> list[dict]:
    """Per task: mean ± std of test MCC and the mean trial time over the model's latest finished trials."""
    import numpy as np

    latest = latest_trials(request, model)
    rows = []
    for task in TASKS:
        picked = [r for (t, _), r in latest.items() if t == task and "test/mcc" in r.data.metrics]
        if not picked:
            continue
        mcc = np.array([r.data.metrics["test/mcc"] for r in picked])
        wall = np.array([r.data.metrics.get("cost/wall_seconds", 0.0) for r in picked])
        rows.append({"task": task, "test/mcc_mean": float(mcc.mean()),
                     "test/mcc_std": float(mcc.std(ddof=1)) if len(mcc) > 1 else 0.0,
                     "cost/wall_seconds_mean": float(wall.mean()), "n_runs": len(picked)})
    return rows


def learning_curves(request, model: str, seed: str = "0") -> list[str]:
    """A markdown table: per task, the validation MCC after every epoch of the model's seed-`seed` trial, the best
    epoch, and what ended training (the step budget, or early stopping), so a budget-bound score shows as such."""
    from suite.tracking import metric_history

    latest = latest_trials(request, model)
    lines = [f"| task | train rows | steps / epoch | validation MCC (x100) after each epoch, seed {seed} | best epoch | "
             "ended by | test MCC (x100) |", "|---|---|---|---|---|---|---|"]
    for task in TASKS:
        run = latest.get((task, seed))
        if run is None:
            continue
        history = metric_history(request.tracking_uri, run.info.run_id, "val/mcc")
        rows = int(run.data.metrics.get("cost/train_rows", 0))
        per_epoch = math.ceil(rows / int(run.data.params["batch_size"]))
        budget = run.data.params.get("max_steps")
        by_budget = budget not in (None, "None") and len(history) * per_epoch >= int(budget)
        lines.append(f"| {task} | {rows:,} | {per_epoch} | {', '.join(f'{100 * value:.1f}' for _, value in history)} | "
                     f"{int(run.data.metrics.get('best_epoch', -1)) + 1} | "
                     f"{f'the budget ({int(budget):,} steps)' if by_budget else 'early stopping'} | "
                     f"{100 * run.data.metrics['test/mcc']:.1f} |")
    return lines


def write_page(out: str, lines: list[str]) -> None:
    """A benchmark's markdown page: written to `out` (folders made) and printed."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def execute_logged(request, label: str) -> list[dict]:
    """Run (or resume) `request` through `suite run`'s machinery; one status line; the leaderboard rows."""
    from rich.console import Console

    from suite.runs.runner import execute

    start = time.perf_counter()
    summary = execute(request, quiet=True, console=Console(stderr=True))
    print(f"{label}: {summary.finished} finished, {summary.failed} failed, {summary.skipped} resumed, "
          f"{(time.perf_counter() - start) / 60:.1f} min", flush=True)
    return summary.leaderboard


MODELS = ("cnn", "deepbind", "kmer_lr", "findna", "findna_t")  # random init, quick (CPU) profile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default=",".join(MODELS),
                        help="the models to run now (the table shows every model already in the experiment)")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--concurrent", type=int, default=2)
    parser.add_argument("--experiment", default="gue-cpu-leaderboard")
    parser.add_argument("--out", default="reports/gue_cpu_leaderboard.md")
    parser.add_argument("--curves", default="findna,findna_t",
                        help="models whose learning curves (validation MCC per epoch, seed 0) follow the table")
    args = parser.parse_args()

    from suite.runs.profiles import get_profile
    from suite.runs.request import RunRequest

    chosen = [m.strip() for m in args.models.split(",") if m.strip()]
    results: dict[str, dict[str, dict]] = {}
    # the chosen models run in the order given; the others only read back what is finished (resume, no training)
    for model in chosen + [m for m in MODELS if m not in chosen]:
        request = RunRequest(models=(model,), tasks=",".join(TASKS), seeds=tuple(range(args.seeds)),
                             profile="quick", experiment=args.experiment, max_concurrent=args.concurrent)
        rows = execute_logged(request, model) if model in chosen else finished_rows(request, model)
        results[model] = {row["task"]: row for row in rows}

    refs = published(Path(__file__).resolve().parent.parent / "reports" / "published" / "gue_dnabert2.csv")
    profile = get_profile("quick")
    lines = [
        "# GUE on this CPU: the leaderboard under the converging CPU profile",
        "",
        f"Test MCC (x100), mean ± std over {args.seeds} seeds, random initialisation, `--profile quick` "
        f"({profile.description}); GUE's official dev split for model selection and early stopping, test "
        "evaluated once. Settings per model are its card's `training.quick` block. Published columns: DNABERT-2 "
        "paper, full GUE table (pretrained, fine-tuned on the full data, GPU). Generated by "
        f"`python benchmarks/gue_leaderboard.py`; runs in MLflow experiment `{args.experiment}`. Machine: "
        f"{platform.machine()}, 2 CPU cores, {args.concurrent} trials at once, one thread each.",
        "",
        "| task | " + " | ".join(MODELS) + " | " + " | ".join(f"{p} (published)" for p in PUBLISHED) + " |",
        "|---|" + "---|" * (len(MODELS) + len(PUBLISHED)),
    ]
    for task in TASKS:
        cells = []
        for model in MODELS:
            row = results[model].get(task)
            cells.append(f"{100 * row['test/mcc_mean']:.2f} ± {100 * row['test/mcc_std']:.2f}" if row else "not run")
        cells += [f"{refs[(p, task)]:.2f}" for p in PUBLISHED]
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    means, walls = [], []
    for model in MODELS:
        rows = [results[model][t] for t in TASKS if t in results[model]]
        complete = len(rows) == len(TASKS)
        means.append(f"{100 * sum(r['test/mcc_mean'] for r in rows) / len(rows):.2f}" + ("" if complete else
                     f" ({len(rows)} tasks)") if rows else "-")
        seconds = sum(r.get("cost/wall_seconds_mean", 0.0) * r.get("n_runs", 0) for r in rows)
        walls.append(f"{seconds / 60:.1f}" if rows else "-")
    means += [f"{sum(refs[(p, t)] for t in TASKS) / len(TASKS):.2f}" for p in PUBLISHED]
    lines.append("| **average** | " + " | ".join(means) + " |")
    lines.append("| trial time, summed (min) | " + " | ".join(walls) + " | | |")
    lines += ["", "Trial time is the sum over the model's trials of each trial's own wall time (data, training, "
              "evaluation; one CPU thread), so a run resumed in pieces counts every trial once."]
    for model in [m.strip() for m in args.curves.split(",") if m.strip()]:
        request = RunRequest(models=(model,), tasks=",".join(TASKS), seeds=(0,), profile="quick",
                             experiment=args.experiment)
        lines += ["", f"## Learning curve: {model}", "", *learning_curves(request, model)]
    write_page(args.out, lines)


if __name__ == "__main__":
    main()
