"""Harness overhead (not a test): what `suite run` adds to the trainings it runs, as figures beside the targets of
issue 20, all measured in one run.

    python benchmarks/bench_harness.py [--trials 4] [--epochs 2] [--rows 1000] [--task tf_mouse_2] [--model cnn]
                                       [--long-seconds 0]

Modes, each on the same N trials (seeds 0..N-1 of one model on one task), each into its own temporary MLflow store:
- bare loop: run_trial called N times in this process, nothing tracked (what a hand-written script costs);
- `suite run --no-ray`: the same through the runner with MLflow, no Ray;
- `suite run` on Ray + MLflow, 1 concurrent, once with 1 trial and once with N;
- the N trials on Ray with 2 concurrent.

The harness's cost is what a run's wall time adds to its trials' own time, each trial's `cost/wall_seconds` (run_trial
timed inside the worker, read back from MLflow): overhead(n) = wall(n) − Σ trial seconds. That is fitted as start +
n × per-trial from the 1- and N-trial runs, so the fixed start (the driver's `import ray.tune` included) and the
per-trial cost come apart. Trial seconds from the same run, rather than the bare loop's, keep the figures apart from
the load changing between modes; how much slower a trial itself runs in a worker than bare is its own figure. The
overhead for 30-s trials is projected from the fit for N trials of 30 s; `--long-seconds S` measures it instead,
bare against Ray, on N trials of about S seconds each (minutes), and the throughput of 2 concurrent trials against 1
on them too. The throughput of 2 concurrent trials against 1 is N / (wall − start) of each; on short trials the
second worker's own start (importing torch) weighs on it. Trials run for their epochs: the profile's step budget and
early stopping are lifted.

The machine may be loaded by other jobs: every figure carries the 1-minute load average (`os.getloadavg`) seen while
it was measured (the highest at the start and end of its modes), and timings are only compared within one run.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from targets import Figure, report


@dataclass
class Run:
    seconds: float  # wall time of the whole `suite run`
    trials: list[float]  # each trial's own seconds (run_trial, timed where it ran)
    workers: int  # distinct worker processes that ran them

    @property
    def overhead(self) -> float:
        return self.seconds - sum(self.trials)


class Load:
    """The 1-minute load average over a measurement: the highest seen at its start and end."""

    def __init__(self) -> None:
        self.seen: list[float] = []

    def __enter__(self) -> Load:
        self.seen.append(os.getloadavg()[0])
        return self

    def __exit__(self, *exc) -> None:
        self.seen.append(os.getloadavg()[0])

    def note(self) -> str:
        return f"load {max(self.seen):.1f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--task", default="tf_mouse_2")
    parser.add_argument("--model", default="cnn")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rows", type=int, default=1000, help="max_train_rows of each trial")
    parser.add_argument("--long-seconds", type=float, default=0.0,
                        help="also measure N trials of about this many seconds each, bare and on Ray (slow)")
    args = parser.parse_args()
    if args.trials < 2:
        parser.error("--trials must be >= 2 (the start and the per-trial cost are fitted from 1 and N trials)")

    from rich.console import Console

    from suite.runs.plan import expand
    from suite.runs.request import RunRequest
    from suite.runs.runner import execute
    from suite.runs.trial import run_trial
    from suite.train.cost import clock

    quiet = Console(file=open(os.devnull, "w"))
    started = clock()
    import suite.runs.fanout  # noqa: F401  ray.tune: a cost every `suite run` on Ray pays once, counted in the start
    import_seconds = clock() - started

    with tempfile.TemporaryDirectory() as tmp:
        def request(name: str, n: int, concurrent: int, epochs: int, rows: int) -> RunRequest:
            return RunRequest(models=(args.model,), tasks=args.task, seeds=tuple(range(n)),
                              # epochs alone decide a trial's length: no step budget, no early stop
                              sets={"epochs": epochs, "max_train_rows": rows, "max_steps": None, "patience": None},
                              experiment=name,
                              tracking_uri=f"sqlite:///{tmp}/{name}.db", max_concurrent=concurrent,
                              storage=f"{tmp}/ray-{name}", applied_dir=None)

        def bare(n: int, epochs: int, rows: int) -> list[float]:
            """Seconds of each of n trials run by hand, one after another in this process."""
            seconds = []
            for spec in expand(request("bare", n, 1, epochs, rows)).trials:
                start = clock()
                run_trial(spec, Path(tmp) / f"bare-{epochs}-{rows}" / spec.key, threads=1)
                seconds.append(clock() - start)
            return seconds

        def suite_run(name: str, n: int, concurrent: int, use_ray: bool, epochs: int, rows: int) -> Run:
            from mlflow.tracking import MlflowClient

            req = request(name, n, concurrent, epochs, rows)
            start = clock()
            summary = execute(req, use_ray=use_ray, quiet=True, console=quiet)
            seconds = clock() - start
            if summary.finished != n:
                raise SystemExit(f"{name}: {summary.finished} of {n} trials finished")
            client = MlflowClient(req.tracking_uri)
            runs = client.search_runs([client.get_experiment_by_name(name).experiment_id],
                                      "tags.`suite.kind` = 'trial' and attributes.status = 'FINISHED'")
            return Run(seconds, [r.data.metrics["cost/wall_seconds"] for r in runs],
                       len({r.data.tags.get("suite.worker_pid") for r in runs}))

        n = args.trials
        with Load() as bare_load:
            bare_seconds = bare(n, args.epochs, args.rows)
        with Load() as inprocess_load:
            inprocess = suite_run("inprocess", n, 1, False, args.epochs, args.rows)
        with Load() as ray_load:
            ray_one = suite_run("ray1-one", 1, 1, True, args.epochs, args.rows)
            ray_n = suite_run("ray1", n, 1, True, args.epochs, args.rows)
        with Load() as concurrent_load:
            ray_two = suite_run("ray2", n, 2, True, args.epochs, args.rows)

        long = None
        if args.long_seconds:
            # scale the epochs so that one trial takes about --long-seconds bare
            epochs = max(1, round(args.epochs * args.long_seconds / (sum(bare_seconds) / n)))
            with Load() as long_load:
                long_bare = sum(bare(n, epochs, args.rows))
                long_ray = suite_run("ray-long", n, 1, True, epochs, args.rows)
                long_two = suite_run("ray-long2", n, 2, True, epochs, args.rows)
            long = (epochs, long_bare, long_ray, long_two, long_load)

    total_bare = sum(bare_seconds)
    per_trial = (ray_n.overhead - ray_one.overhead) / (n - 1)
    fixed = ray_one.overhead - per_trial  # within a run; the driver's import ray.tune came before
    start = fixed + import_seconds
    thirty = 100 * (start + n * per_trial) / (n * 30.0)
    throughput = (ray_n.seconds - fixed) / max(ray_two.seconds - fixed, 1e-9)
    in_worker = sum(ray_n.trials) / total_bare

    what = f"{args.model} on {args.task}, {args.epochs} epochs of {args.rows:,} rows"
    print(f"\n{n} trials of {what}; wall seconds (trial seconds inside run_trial; worker processes):")
    print(f"  bare loop {total_bare:.1f}; --no-ray {inprocess.seconds:.1f} ({sum(inprocess.trials):.1f}); "
          f"import ray.tune {import_seconds:.1f}")
    for name, run in (("Ray 1 trial", ray_one), (f"Ray {n} trials", ray_n), (f"Ray {n} trials 2 concurrent", ray_two)):
        print(f"  {name}: {run.seconds:.1f} ({sum(run.trials):.1f}; {run.workers} worker(s))")
    figures = [
        Figure("bare loop, per trial", total_bare / n, "s", note=f"{n} trials of {what}; {bare_load.note()}"),
        Figure("suite run --no-ray (MLflow) overhead per trial", inprocess.overhead / n, "s",
               note=f"start included; {inprocess_load.note()}"),
        Figure("Ray + MLflow start", start, "s", 5.0,
               note=f"fit of 1 and {n} trials, 1 concurrent; import ray.tune {import_seconds:.1f} s included; "
                    f"{ray_load.note()}"),
        Figure("Ray + MLflow overhead per short trial", per_trial, "s", 1.0,
               note=f"trials of {total_bare / n:.1f} s bare; {ray_n.workers} worker process(es) for {n} trials; "
                    f"{ray_load.note()}"),
        Figure("trial time in a Ray worker vs bare", in_worker, "x",
               note=f"Σ run_trial seconds on Ray / bare loop; {ray_load.note()}"),
        Figure("Ray + MLflow overhead, 30-s trials (projected)", thirty, "%", 5.0,
               note=f"(start + {n} × per trial) / ({n} × 30 s); {ray_load.note()}"),
        Figure("2 concurrent vs 1: throughput", throughput, "x", 1.8, better="higher",
               note=f"{n} / (wall − start): {ray_n.seconds:.1f} s at 1, {ray_two.seconds:.1f} s at 2 concurrent; "
                    f"{concurrent_load.note()}"),
    ]
    if long:
        epochs, long_bare, long_ray, long_two, long_load = long
        figures.append(Figure(f"Ray + MLflow overhead, {long_bare / n:.0f}-s trials (measured)",
                              100 * (long_ray.seconds - long_bare) / long_bare, "%", 5.0,
                              note=f"{n} trials of {epochs} epochs: {long_ray.seconds:.1f} s on Ray vs "
                                   f"{long_bare:.1f} s bare, the start included; {long_load.note()}"))
        figures.append(Figure(f"2 concurrent vs 1: throughput, {long_bare / n:.0f}-s trials (measured)",
                              (long_ray.seconds - fixed) / max(long_two.seconds - fixed, 1e-9), "x", 1.8,
                              better="higher",
                              note=f"{n} / (wall − start): {long_ray.seconds:.1f} s at 1, {long_two.seconds:.1f} s "
                                   f"at 2 concurrent; {long_load.note()}"))
    report(figures, "Harness overhead (suite run on Ray + MLflow vs a bare loop)")


if __name__ == "__main__":
    main()
