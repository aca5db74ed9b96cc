"""Harness overhead (not a test): N quick trials through Ray Tune + MLflow against the same trainings in a bare
loop (run_trial called directly, nothing tracked), and 1 vs 2 concurrent trials on Ray.

    python benchmarks/bench_harness.py [--trials 4] [--task tf_mouse_2] [--model cnn]

Needs the task's data (SUITE_DATA_DIR). Every mode writes into its own temporary MLflow store.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--task", default="tf_mouse_2")
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    from rich.console import Console

    from suite.runs.plan import expand
    from suite.runs.request import RunRequest
    from suite.runs.runner import execute
    from suite.runs.trial import run_trial
    from suite.train.cost import clock

    sets = {"epochs": args.epochs, "max_train_rows": 1000}
    quiet = Console(file=open(os.devnull, "w"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        def request(name: str, concurrent: int) -> RunRequest:
            return RunRequest(models=(args.model,), tasks=args.task, seeds=tuple(range(args.trials)), sets=sets,
                              experiment=name, tracking_uri=f"sqlite:///{tmp}/{name}.db", max_concurrent=concurrent,
                              storage=f"{tmp}/ray-{name}")

        plan = expand(request("bare", 1))
        start = clock()
        for spec in plan.trials:
            run_trial(spec, Path(tmp) / "bare" / spec.key, threads=1)
        rows.append(("bare loop (run_trial, no Ray, no MLflow)", clock() - start))

        start = clock()
        execute(request("inprocess", 1), use_ray=False, quiet=True, console=quiet)
        rows.append(("suite run --no-ray (MLflow, no Ray)", clock() - start))

        for concurrent in (1, 2):
            start = clock()
            execute(request(f"ray{concurrent}", concurrent), use_ray=True, quiet=True, console=quiet)
            rows.append((f"suite run on Ray + MLflow, {concurrent} concurrent", clock() - start))

    bare = rows[0][1]
    print(f"{args.trials} trials of {args.model} on {args.task} ({args.epochs} epochs, 1,000 training rows each)\n")
    print("| mode | wall (s) | per trial (s) | vs bare |\n|---|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {seconds / args.trials:.2f} | {seconds / bare:.2f}x |")


if __name__ == "__main__":
    main()
