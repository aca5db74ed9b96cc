"""How long the listing commands take a user (not a test): each one run as a fresh `python -m suite` process,
timed end to end (interpreter start, imports, output), `--repeats` times, the median held against 2 s (issue 20).

    python benchmarks/bench_commands.py [--repeats 3]

The commands run in a temporary SUITE_CACHE_DIR. Its first `suite models` counts every card's backbones (torch,
transformers) and stores the counts there (suite.models.parameter_counts); that run is reported beside the others
as the one-off cost, without a target. The timed runs then find the counts, as every later `suite models` does.
Wall-clock times on a loaded machine overstate what a user waits, so each note also gives the CPU time of the
process (user + system, from the OS) and the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from targets import Figure, report

from suite.train.cost import cpu_seconds

REPO = Path(__file__).resolve().parent.parent
COMMANDS = (("suite --help", ["--help"]), ("suite tasks", ["tasks"]), ("suite models", ["models"]),
            ("suite reproduce --list", ["reproduce", "--list"]))
TARGET_S = 2.0


def run(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one `python -m suite ARGS` process; refuses a failed command."""
    before = cpu_seconds(children=True)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "suite", *args], env=env, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"suite {' '.join(args)} failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    return wall, cpu_seconds(children=True) - before


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    figures = []
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "SUITE_CACHE_DIR": cache, "COLUMNS": "200",
               "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)}
        wall, cpu = run(["models"], env)
        figures.append(Figure("suite models, first run (counts the backbones once)", wall, "s",
                              note=f"cpu {cpu:.2f} s; later runs read the counts from SUITE_CACHE_DIR"))
        for name, command in COMMANDS:
            times = [run(command, env) for _ in range(args.repeats)]
            wall = statistics.median(t for t, _ in times)
            cpu = statistics.median(c for _, c in times)
            figures.append(Figure(f"{name} (cold process)", wall, "s", TARGET_S,
                                  note=f"median of {args.repeats}; cpu {cpu:.2f} s; load {os.getloadavg()[0]:.1f}"))
    report(figures, "commands (issue 20 item 5)")


if __name__ == "__main__":
    main()
