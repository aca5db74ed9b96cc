"""Cost of one training step of each wrapped published model's smallest configuration vs FinDNA, at 1024 bp on
this CPU (not a test; the input of the cost table, paper Table 6 style).

Each model is built from its card at its published architecture (random weights: no hub is reachable here, and
the weights do not change the cost), wrapped in the same SequenceClassifier the trainer uses, and timed in a
fresh subprocess: one warm-up step, then the median of `--repeats` full steps (tokenization inside the wrapper,
forward, cross-entropy, backward, AdamW). Memory: suite.train.cost.PeakMemory's growth from just before the
warm-up step (peak RSS minus RSS before). FLOPs: torch's FLOP counter over one forward + backward
(matmuls/convolutions; attention kernels counted where torch knows them), per sequence.

    python benchmarks/bench_wrappers.py [--models findna,dnabert6,dnabert2,nt_v2_50m,hyenadna_tiny_1k] [--length 1024]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, statistics, sys
import numpy as np, torch
from suite.data.batching import collate
from suite.data.encode import encode
from suite.models import build_model, get_model_spec
from suite.train import cost
import torch.nn.functional as F

name, length, batch, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
torch.manual_seed(0)
torch.set_num_threads(2)
spec = get_model_spec(name)
model = build_model(spec, 2, recipe={"max_len": length}, weights=False)
rng = np.random.default_rng(0)
seqs = encode(["".join(rng.choice(list("ACGT"), size=length)) for _ in range(batch)])
data = collate(seqs, np.zeros(batch, dtype=int), np.arange(batch))
opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
def step():
    loss = F.cross_entropy(model(data), data.labels)
    opt.zero_grad(); loss.backward(); opt.step()
memory = cost.PeakMemory(torch.device("cpu"))
step()
times = [cost.seconds(step) for _ in range(repeats)]
grown = memory.growth_mb()
flops = cost.train_flops_per_sample(model, data)
print(json.dumps({"model": name, "params": cost.n_parameters(model), "seconds": statistics.median(times),
                  "memory_mb": grown, "gflops_per_seq": flops / 1e9}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="findna,dnabert6,dnabert2,nt_v2_50m,hyenadna_tiny_1k")
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for name in args.models.split(","):
        out = subprocess.run([sys.executable, "-c", CHILD, name, str(args.length), str(args.batch), str(args.repeats)],
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"{name}: failed: {out.stderr.strip().splitlines()[-1]}", file=sys.stderr)
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    base = next((r for r in rows if r["model"] == "findna"), rows[0])
    print(f"one training step, batch {args.batch} x {args.length} bp, 2 threads, random weights\n")
    print("| model | params | step (s) | x FinDNA | peak RSS Δ (MiB) | x FinDNA | GFLOP/seq (fwd+bwd) | x FinDNA |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['params']:,} | {r['seconds']:.2f} | {r['seconds'] / base['seconds']:.2f} | "
              f"{r['memory_mb']:.0f} | {r['memory_mb'] / max(base['memory_mb'], 1e-9):.2f} | "
              f"{r['gflops_per_seq']:.1f} | {r['gflops_per_seq'] / max(base['gflops_per_seq'], 1e-9):.2f} |")


if __name__ == "__main__":
    main()
