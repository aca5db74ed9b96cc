"""Readouts chosen by evidence (not a test): the sequence readouts (`pooling`) of the ChordMixer (`findna`) and
Transformer (`findna_t`) families on the GUE data sets that are complete here, random initialisation, the quick
(CPU) profile with a shorter step budget, one seed; test MCC per task and the mean, so a card's default readout is
the one that wins on average.

    python benchmarks/gue_readouts.py [--models findna,findna_t] [--readouts cls_mean,mean,max,cls_and_max]
                                      [--steps 300] [--out reports/gue_readouts.md]
    python benchmarks/gue_readouts.py --models findna --weights runs/checkpoints/findna-quick-steps-1250 \
        --experiment gue-readouts-pretrained --out reports/gue_readouts_pretrained.md

`--weights` starts every trial from a `suite pretrain` checkpoint (the card's `weights:` loader, `match: intersect`)
instead of random weights, so the same readouts are compared after pretraining.

Every trial goes through `suite run`'s machinery (plan, local Ray, MLflow store under ./runs/, experiment
`gue-readouts`); re-running the script resumes instead of re-training, so it can run in pieces.
"""

from __future__ import annotations

import argparse
import platform

from gue_leaderboard import TASKS, execute_logged, latest_trials, write_page

READOUTS = ("cls_mean", "mean", "max", "cls_and_max")


def finished(request, readout: str, steps: int) -> list[dict]:
    """Leaderboard-like rows (task, test/mcc_mean, cost) from the newest finished trial of each task with this
    readout and step budget (params `pooling`, `max_steps`) and the request's seed, read back from MLflow."""
    latest = latest_trials(request, request.models[0], {"pooling": readout, "max_steps": steps})
    return [{"task": task, "test/mcc_mean": run.data.metrics["test/mcc"], "n_runs": 1,
             "cost/wall_seconds_mean": run.data.metrics.get("cost/wall_seconds", 0.0)}
            for (task, seed), run in latest.items() if seed == str(request.seeds[0])]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="findna,findna_t")
    parser.add_argument("--readouts", default=",".join(READOUTS))
    parser.add_argument("--tasks", default=",".join(TASKS), help="a subset of the 11 tasks (e.g. for a longer budget)")
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps per trial (max_steps)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--concurrent", type=int, default=2)
    parser.add_argument("--experiment", default="gue-readouts")
    parser.add_argument("--out", default="reports/gue_readouts.md")
    parser.add_argument("--weights", default="",
                        help="a `suite pretrain` checkpoint folder to start from, or one per model as "
                             "'findna=PATH,findna_t=PATH' (default: random initialisation)")
    parser.add_argument("--report-only", action="store_true",
                        help="train nothing: the table from the finished trials already in MLflow")
    args = parser.parse_args()

    from suite.runs.request import RunRequest

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    weights = dict(part.split("=", 1) for part in args.weights.split(",")) if "=" in args.weights else \
        {model: args.weights for model in models if args.weights}
    readouts = [r.strip() for r in args.readouts.split(",") if r.strip()]
    columns: list[tuple[str, str]] = []
    results: dict[tuple[str, str], dict[str, float]] = {}
    minutes: dict[tuple[str, str], float] = {}
    for model in models:
        for readout in readouts:
            request = RunRequest(models=(model,), tasks=args.tasks, seeds=(args.seed,), profile="quick",
                                 sets={"pooling": readout, "max_steps": args.steps,
                                       **({"weights": weights[model]} if model in weights else {})},
                                 experiment=args.experiment,
                                 max_concurrent=args.concurrent)
            rows = finished(request, readout, args.steps) if args.report_only else \
                execute_logged(request, f"{model} {readout}")
            columns.append((model, readout))
            results[(model, readout)] = {row["task"]: row["test/mcc_mean"] for row in rows}
            minutes[(model, readout)] = sum(row.get("cost/wall_seconds_mean", 0.0) * row.get("n_runs", 0)
                                            for row in rows) / 60

    lines = [
        "# Readouts on GUE: which sequence vector a classifier should read",
        "",
        f"Test MCC (x100), seed {args.seed}, "
        + ("initialised from the pretraining checkpoints " + ", ".join(f"`{w}` ({m})" for m, w in weights.items())
           if weights else "random initialisation")
        + f", `--profile quick` with `--set max_steps={args.steps}` (the CPU sizes; GUE's dev split for model "
        "selection, test evaluated once), one column per `--set pooling=...`. Generated by `python benchmarks/gue_readouts.py`; runs in MLflow experiment "
        f"`{args.experiment}`. Machine: {platform.machine()}, 2 CPU cores, {args.concurrent} trials at once, one "
        "thread each.",
        "",
        "| task | " + " | ".join(f"{m} `{r}`" for m, r in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    tasks = [t for t in TASKS if t in args.tasks.split(",")]
    for task in tasks:
        cells = [f"{100 * results[c][task]:.2f}" if task in results[c] else "not run" for c in columns]
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    means = []
    for column in columns:
        done = [results[column][t] for t in tasks if t in results[column]]
        means.append(f"**{100 * sum(done) / len(done):.2f}**" + ("" if len(done) == len(tasks) else
                     f" ({len(done)} tasks)") if done else "-")
    lines.append("| **average** | " + " | ".join(means) + " |")
    wins = []
    for model, readout in columns:
        rivals = [c for c in columns if c[0] == model]
        wins.append(str(sum(1 for t in tasks if t in results[(model, readout)] and all(
            results[(model, readout)][t] >= results[c].get(t, -1.0) for c in rivals))))
    lines.append("| tasks won (within the model) | " + " | ".join(wins) + " |")
    lines.append("| trial time, summed (min) | " + " | ".join(f"{minutes[c]:.1f}" for c in columns) + " |")
    write_page(args.out, lines)


if __name__ == "__main__":
    main()
