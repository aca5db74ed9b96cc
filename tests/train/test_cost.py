"""suite.train.cost, the one cost module: a run's cost columns, the cost recipes (T6/T8) and the benchmarks measure
with the same clock and the same memory probe. No speed targets: what is pinned is who measures, and how."""

import re
from pathlib import Path

import torch

import suite.recipes.cost as recipe_cost
import suite.runs.trial as trial
from suite.train import convex, cost, loop

ROOT = Path(__file__).resolve().parents[2]


def test_the_probe_sees_an_allocation_and_a_reset_starts_afresh():
    memory = cost.PeakMemory(torch.device("cpu"))
    block = torch.ones(64 * 2**20 // 4)  # 64 MiB, every page written
    assert memory.peak_mb() >= memory.baseline_mb > 0
    assert memory.growth_mb() >= 32
    del block
    memory.reset()
    assert memory.growth_mb() < 32


def test_seconds_is_one_call_of_the_step_on_the_clock():
    calls = []
    before = cost.clock()
    elapsed = cost.seconds(lambda: calls.append(cost.clock()))
    assert len(calls) == 1 and before <= calls[0] <= cost.clock()
    assert elapsed >= 0


def test_runs_and_recipes_measure_with_the_same_functions():
    assert trial.cost is cost and loop.cost is cost and convex.cost is cost
    assert (recipe_cost.PeakMemory, recipe_cost.seconds, recipe_cost.count_flops) == (
        cost.PeakMemory, cost.seconds, cost.count_flops)


def test_no_other_clock_or_memory_probe():
    probes = r"ru_maxrss|getrusage\(|max_memory_allocated\(|memory_allocated\(|VmHWM|VmRSS|clear_refs|tracemalloc\."
    own = {"suite": re.compile(rf"perf_counter\(|{probes}"), "benchmarks": re.compile(probes)}
    offenders = [str(path.relative_to(ROOT)) for folder, pattern in own.items()
                 for path in sorted((ROOT / folder).rglob("*.py"))
                 if path != ROOT / "suite" / "train" / "cost.py" and pattern.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
