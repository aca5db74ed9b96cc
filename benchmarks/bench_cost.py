"""Training cost relative to FinDNA, all models measured in ONE process (paper Table 6 and Table 8; facts §8).

Not a test. Builds every row with suite.recipes.cost.measure, one after another in this process, on one device
and thread count, so the factors relative to FinDNA are fair; the absolute figures hold for the device printed
under the table only.

- t8 (paper Table 8, "ms and GB per training batch"): one *pretraining* step of FinDNA (student + EMA teacher,
  K = 10 [CLS] tokens, MNM + CL loss, clip 0.5, AdamW, EMA/centre update: suite/pretrain/loop.py's step) vs
  CM-MNM (MNM only: no teacher, no [CLS], no CL), both at the card's `--size` with max_len = `--length`.
- t6 (paper Table 6, "time, memory and FLOPs during training" on MTcDNA-1024, batch 16): one *fine-tuning*
  step (forward with the wrapper's tokenization, cross-entropy, backward, AdamW) of the 2-class classifier of
  FinDNA, DNABERT-2 and NT-500M-human at `--size` (the hub cards at their published architecture with random
  weights; weights do not change the cost).

Input: `--batch` random ACGT sequences of exactly `--length` bp (seed 0). Per row:
- ms/batch: median wall time of `--repeats` steps after one warm-up step; the rows' timed steps run round robin
  (A, B, C, A, B, C, ...) so that other load on a shared machine hits every row alike (CUDA: synchronised);
- peak MiB: the growth of suite.train.cost.PeakMemory (CUDA: max_memory_allocated; CPU: peak RSS) over build +
  two steps: weights, gradients, optimiser state, activations and allocator overhead;
- GFLOP/batch: torch's FlopCounterMode over one more full step (forward + backward + optimiser; matmuls,
  convolutions, attention; element-wise ops count 0), whole batch.
What is measured: suite/recipes/cost.py; how: suite/train/cost.py (as for a run's cost columns). The paper's own
figures are shown beside ours (Table 6: factors; Table 8: absolute, on the authors' GPU, measurement method and
batch size unspecified).

At the paper size and --length 1024 the two T8 networks differ: the [CLS] tokens make FinDNA's T = 1034, so
it gets ceil(log2 1034) = 11 blocks per layer and width (11 + 1) * 28 = 336, while CM-MNM (no [CLS]) keeps
10 blocks of width 308. At --length 1000 (the pretraining windows) both are the same 40-block, 308-wide
network, and the table isolates the method (teacher forward, [CLS] tokens, CL loss).

    python benchmarks/bench_cost.py --table t8 [--size paper] [--length 1024] [--batch 16] [--repeats 3] [--device cpu]
    python benchmarks/bench_cost.py --table t6 --batch 16
"""

from __future__ import annotations

import argparse
import math
import sys

from suite.errors import SuiteError
from suite.recipes.cost import CostEntry, measure, ratios
from suite.train.cost import clock

TABLES = {
    "t8": [("FinDNA", "findna", "pretrain"), ("CM-MNM", "cm_mnm", "pretrain")],
    "t6": [("FinDNA", "findna", "finetune"), ("DNABERT-2", "dnabert2", "finetune"),
           ("NT-500M-human", "nt_500m_human_ref", "finetune")],
}
# findna-facts §9: Table 6 factors to FinDNA (time, memory, FLOPs); Table 8 absolute (ms, GB per training batch)
PAPER_T6 = {"FinDNA": (1.0, 1.0, 1.0), "DNABERT-2": (1.71, 2.21, 2.75), "NT-500M-human": (2.98, 3.60, 8.35)}
PAPER_T8 = {"FinDNA": (95.97, 5.65), "CM-MNM": (95.42, 4.52)}


def _x(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.2f}"


def _g(flops: float) -> str:
    gflop = flops / 1e9
    return f"{gflop:,.1f}" if gflop >= 10 else f"{gflop:.3g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", required=True, choices=sorted(TABLES))
    parser.add_argument("--size", default="paper", help="size of every card (paper, small, tiny)")
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", choices=["cpu", "cuda"], default=None, help="default: cuda if available")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()

    entries = [CostEntry(label, model, step, args.size) for label, model, step in TABLES[args.table]]
    start = clock()
    try:
        results, device = measure(entries, length=args.length, batch=args.batch, repeats=args.repeats,
                                  device=args.device, threads=args.threads)
    except SuiteError as error:
        print(f"error: {error.line()}", file=sys.stderr)
        sys.exit(2)
    wall = clock() - start
    factors = ratios(results, "FinDNA")

    step = "pretraining" if args.table == "t8" else "fine-tuning"
    print(f"Table {args.table[1:]}: one {step} step, batch {args.batch} x {args.length} bp, size {args.size}, "
          f"random weights, median of {args.repeats} after 1 warm-up (round robin), all rows in one process\n")
    if args.table == "t8":
        print("| model | params (trained) | ms/batch | x FinDNA | peak MiB | x FinDNA | GFLOP/batch | x FinDNA "
              "| paper ms/batch | paper GB |")
        print("|---|---|---|---|---|---|---|---|---|---|")
    else:
        print("| model | params (trained) | ms/batch | x FinDNA | peak MiB | x FinDNA | GFLOP/batch | x FinDNA "
              "| paper x (time/mem/FLOPs) |")
        print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        f = factors[r.entry.label]
        row = (f"| {r.entry.label} | {r.parameters:,} | {r.seconds_per_batch * 1e3:,.0f} | {_x(f['time'])} | "
               f"{r.peak_memory_mb:,.0f} | {_x(f['memory'])} | {_g(r.flops_per_batch)} | {_x(f['flops'])} |")
        if args.table == "t8":
            ms, gb = PAPER_T8[r.entry.label]
            row += f" {ms} | {gb} |"
        else:
            row += " {:.2f} / {:.2f} / {:.2f} |".format(*PAPER_T6[r.entry.label])
        print(row)
    print(f"\ndevice: {device}; measured in {wall:.0f} s (times are indicative where other work shares the machine)")


if __name__ == "__main__":
    main()
