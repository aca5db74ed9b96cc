"""Wrapped published models on this CPU (not a test): the cost of one training step vs FinDNA, and what
tokenization costs in a fine-tuning epoch before and after "tokenize once" (issue 20, item 3).

Part `step` (the input of the cost table, paper Table 6 style): one training step of each wrapped model's
smallest configuration vs FinDNA, at 1024 bp.

Each model is built from its card at its published architecture (random weights: no hub is reachable here, and
the weights do not change the cost), wrapped in the same SequenceClassifier the trainer uses, and timed in a
fresh subprocess: one warm-up step, then the median of `--repeats` full steps (tokenization inside the wrapper,
forward, cross-entropy, backward, AdamW). Memory: suite.train.cost.PeakMemory's growth from just before the
warm-up step (peak RSS minus RSS before). FLOPs: torch's FLOP counter over one forward + backward
(matmuls/convolutions; attention kernels counted where torch knows them), per sequence.

Part `tokens`: each wrapped card at its tiny size (random init) fine-tunes one epoch on the first `--rows` rows of a
real task's train split (`--task`, the card's fine-tuning batch size, the real loop `suite.train.loop.fit`), twice:
on the fly (every batch tokenized inside `forward`, as every batch was before) and on ids cached once per split
(suite/data/cache.py `load_tokens`). Reported through benchmarks/targets.py, target ≤ 5 % of the epoch:
- "as on main": main's per-batch path, timed on the same batches: one-hot decoded to strings, then the family's
  per-string tokenizer (DNABERT's k-mer dict lookups, NT's splitting, the BPE library; HyenaDNA was already
  vectorised) — main's windowing/padding loops are not counted, so this is a lower bound; its epoch is the cached
  epoch's model time plus it;
- "on the fly": this code's vectorised per-batch tokenization (`wrapped.batch_tokens`), over the on-the-fly epoch;
- "cached": what an epoch still pays per batch (gathering the rows' ids from the memory-mapped cache) plus opening
  the cache once, over the cached epoch;
- context: the cold tokenization of the whole split into the cache (paid once per split and tokenizer, shared by
  every trial, seed and epoch) as a share of one epoch over that whole split (the measured epoch scaled by rows),
  and its throughput in M bases/s (file write and first reads of the encoded split included).

    python benchmarks/bench_wrappers.py [--part step|tokens|all] [--models findna,dnabert6,...] [--length 1024]
                                        [--task tf_human_2] [--split train] [--rows 4000]
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


WRAPPED = "dnabert6,dnabert2,nt_v2_50m,hyenadna_tiny_1k"


def main_path(backbone, x, lengths) -> None:
    """Main's per-batch tokenization (before issue 20): decode to strings, then each family's per-string tokenizer."""
    from suite.models import wrapped

    family = type(backbone).__module__.rsplit(".", 1)[-1]
    if family == "hyenadna":  # main already tokenized HyenaDNA vectorised, from the one-hot batch
        backbone.tokenizer.encode(x[:, : backbone.keep], lengths.clamp(max=backbone.keep))
        return
    texts = wrapped.decode(x, lengths)
    if family == "dnabert":
        [backbone.tokenizer.kmers(t) for t in texts]
    elif family == "nucleotide_transformer":
        [backbone.tokenizer.body(t) for t in texts]
    else:  # dnabert2: the BPE (or the per-base rule) on strings cut at max_len, padded
        backbone.tokenizer([t[: backbone.config.max_len or None] for t in texts])


def tokenization(names: list[str], task_name: str, split: str, n_rows: int) -> list:
    """The `tokens` part: Figures per model (see the module docstring). Times are CPU seconds of this process with
    one torch thread (time.process_time): a share of the work that the machine's other load does not distort."""
    import tempfile
    import time
    from pathlib import Path

    import numpy as np
    import torch

    from suite.data.batching import batch_rows, collate, gather_rows
    from suite.data.cache import load_split, load_tokens
    from suite.models import build_model, get_model_spec, wrapped
    from suite.tasks import get_task
    from suite.train.config import FitConfig
    from suite.train.evaluate import SplitData
    from suite.train.loop import fit, seed_everything
    from targets import Figure

    torch.set_num_threads(1)
    clock = time.process_time
    task = get_task(task_name)
    data = load_split(task, split)
    rows = np.arange(min(n_rows, len(data)))
    bases = int(data.lengths.sum())
    figures = []
    for name in names:
        spec = get_model_spec(name)
        finetune = spec.training["finetune"]
        cfg = FitConfig(lr=finetune.get("lr", 1e-3), batch_size=finetune.get("batch_size", 64), epochs=1,
                        patience=None, eval_batch_size=256, seed=0)
        recipe = {"max_len": task.max_bp}

        def model():
            seed_everything(0)
            return build_model(spec, task.n_classes, size="tiny", recipe=recipe, weights=False)

        tokenizer = model().backbone.split_tokenizer
        with tempfile.TemporaryDirectory() as cold_root:  # cold: the whole split, tokenized and written once
            started = clock()
            load_tokens(task, data, tokenizer, cache_root=Path(cold_root))
            cold = clock() - started
            started = clock()  # warm: what each trial pays to open the cache
            tokens = load_tokens(task, data, tokenizer, cache_root=Path(cold_root))
            opened = clock() - started
            val = np.arange(len(rows), min(len(rows) + 32, len(data)))  # a token validation: the epoch dominates
            epoch = {}
            for mode, ids in (("on the fly", None), ("cached", tokens)):
                m = model()
                started = clock()
                fit(m, SplitData(data.seqs, data.labels, rows, tokens=ids), SplitData(data.seqs, data.labels, val, tokens=ids), cfg,
                    task.metric, device=torch.device("cpu"))
                epoch[mode] = clock() - started
            backbone = model().backbone
            spent = {"as on main": 0.0, "on the fly": 0.0, "cached": opened}
            batches = batch_rows(data.lengths[rows], cfg.batch_size, shuffle=True, seed=cfg.seed * 100_003, bucket=cfg.bucket)
            for batch_idx in batches:  # the epoch's own batches, tokenized each way
                batch = collate(data.seqs, data.labels, rows[batch_idx])
                x = batch.one_hot
                started = clock()
                main_path(backbone, x, batch.lengths)
                spent["as on main"] += clock() - started
                started = clock()
                wrapped.batch_tokens(backbone.split_tokenizer, x, batch.lengths)
                spent["on the fly"] += clock() - started
                started = clock()
                gather_rows(tokens.ids, tokens.offsets, rows[batch_idx], 0)
                spent["cached"] += clock() - started
        model_time = epoch["cached"] - spent["cached"]  # the epoch without tokenization
        shares = {"as on main": spent["as on main"] / (model_time + spent["as on main"]),
                  "on the fly": spent["on the fly"] / epoch["on the fly"], "cached": spent["cached"] / epoch["cached"]}
        where = f"tiny, {len(rows):,} rows of {task_name} {split}, batch {cfg.batch_size}, CPU s"
        for mode, share in shares.items():
            note = (f"{where}; epoch {epoch['cached'] if mode == 'cached' else epoch['on the fly']:.2f} s, "
                    f"tokenization {spent[mode]:.3f} s")
            if mode == "as on main":
                note = f"{where}; {spent[mode]:.2f} s over {model_time:.2f} s of model time (lower bound)"
            figures.append(Figure(f"{name}: tokenization / epoch, {mode}", 100 * share, "%", 5.0, "lower", note))
        full_epoch = epoch["cached"] * len(data) / len(rows)  # an epoch over the whole split, scaled from the rows run
        figures.append(Figure(f"{name}: cold tokenization / epoch (once per split)", 100 * cold / full_epoch, "%",
                              None, "lower", f"whole {split} split ({len(data):,} rows) into the cache: {cold:.2f} CPU s, "
                              f"over one epoch of that split ({full_epoch:.1f} CPU s, scaled from {len(rows):,} rows)"))
        figures.append(Figure(f"{name}: cold tokenization throughput", bases / cold / 1e6, "M bases/s", None,
                              "higher", f"{bases / 1e6:.1f} M bases"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--part", choices=("step", "tokens", "all"), default="all")
    parser.add_argument("--models", default=None, help="default: findna + the wrapped cards (step), the wrapped (tokens)")
    parser.add_argument("--length", type=int, default=1024)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--task", default="tf_human_2")
    parser.add_argument("--split", default="train", help="the split an epoch runs over (GUE's long tasks: dev)")
    parser.add_argument("--rows", type=int, default=4000)
    args = parser.parse_args()
    if args.part in ("step", "all"):
        step_costs(args, (args.models or f"findna,{WRAPPED}").split(","))
    if args.part in ("tokens", "all"):
        from targets import report

        names = [n for n in (args.models or WRAPPED).split(",") if n != "findna"]
        report(tokenization(names, args.task, args.split, args.rows),
               f"Tokenize once: tokenization in a fine-tuning epoch ({args.task} {args.split})")


def step_costs(args, names: list[str]) -> None:
    rows = []
    for name in names:
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
