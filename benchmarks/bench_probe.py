"""A linear-probe grid (5 seeds × 10 epochs) through the frozen backbone on every batch (the probe before issue 20)
vs on the backbone's cached pooled vectors (suite/train/embeddings.py): wall time of the whole grid, the speed-up,
and the largest difference of any metric between the two (every epoch's validation metrics and loss, the train
loss, the test metrics).

Every seed loads the same backbone weights, as a probe of a pretrained card does (here: the seed-0 random
initialisation of the card's network stands for them; the weights do not change the cost). The cached grid starts
with an empty cache, so its time includes the one forward pass over each split. Real data: the first --rows train
rows of the task and up to --eval-rows of its dev and test splits.

    python benchmarks/bench_probe.py [--model findna] [--size small] [--task tf_mouse_2] [--rows 300]
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from suite.data.cache import load_split
from suite.data.encode import EncodedSequences
from suite.models import build_model, get_model_spec
from suite.tasks import get_task
from suite.train.embeddings import embed_splits
from suite.train.evaluate import SplitData, evaluate
from suite.train.loop import FitConfig, fit, seed_everything
from targets import Figure, report

CPU = torch.device("cpu")


def first_rows(split, n: int):
    """The first n rows of an encoded split, with their own data key."""
    n = min(n, len(split))
    seqs = EncodedSequences(split.seqs.codes, split.seqs.offsets[: n + 1], split.seqs.n_iupac)
    return dataclasses.replace(split, seqs=seqs, labels=split.labels[:n], sha256=f"{split.sha256}|first {n}")


def probe_grid(args, task, splits, pretrained, cache_root: Path | None) -> tuple[float, float, list[dict], int]:
    """(wall seconds, CPU seconds, one row of metrics per seed, sequences the backbone embedded) of the grid,
    cached when a cache folder is given."""
    cfg = FitConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=None, eval_batch_size=256)
    spec = get_model_spec(args.model)
    rows, embedded = [], []
    started, cpu = time.perf_counter(), time.process_time()
    for seed in range(args.seeds):
        seed_everything(seed)
        model = build_model(spec, task.n_classes, size=args.size, overrides={"max_len": task.max_bp}, weights=False)
        model.backbone.load_state_dict(pretrained)
        model.set_mode("probe")
        model.backbone.register_forward_hook(lambda module, inputs, out: embedded.append(len(inputs[0])))
        vectors = {} if cache_root is None else embed_splits(
            model, splits, {"bench": args.model, "size": args.size}, cfg.eval_batch_size, CPU, cache_root)
        view = {s: SplitData(d.seqs, d.labels, np.arange(len(d)), vectors.get(s)) for s, d in splits.items()}
        fitted = fit(model, view["train"], view["dev"], cfg, task.metric, device=CPU)
        test, _ = evaluate(model, view["test"], cfg.eval_batch_size, CPU)
        row = {f"test/{k}": v for k, v in test.items()}
        for epoch in fitted.history:
            row.update({f"{k}@{epoch['epoch']}": v for k, v in epoch.items() if k != "epoch"})
        rows.append(row)
    return time.perf_counter() - started, time.process_time() - cpu, rows, sum(embedded)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="findna")
    parser.add_argument("--size", default="small")
    parser.add_argument("--task", default="tf_mouse_2")
    parser.add_argument("--rows", type=int, default=300, help="train rows (the first ones of the split)")
    parser.add_argument("--eval-rows", type=int, default=100, help="dev and test rows (the first ones)")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    task = get_task(args.task)
    sizes = {"train": args.rows, "dev": args.eval_rows, "test": args.eval_rows}
    splits = {s: first_rows(load_split(task, s), n) for s, n in sizes.items()}
    seed_everything(0)
    backbone = build_model(get_model_spec(args.model), task.n_classes, size=args.size,
                           overrides={"max_len": task.max_bp}, weights=False).backbone
    pretrained = {k: v.clone() for k, v in backbone.state_dict().items()}

    uncached_s, uncached_cpu, uncached, uncached_rows = probe_grid(args, task, splits, pretrained, None)
    with tempfile.TemporaryDirectory(prefix="bench-probe-") as cache:
        cached_s, cached_cpu, cached, cached_rows = probe_grid(args, task, splits, pretrained, Path(cache))
    diff = max(abs(a[k] - b[k]) for a, b in zip(uncached, cached, strict=True) for k in a
               if math.isfinite(a[k]) and math.isfinite(b[k]))
    grid = f"{args.seeds} seeds × {args.epochs} epochs, {args.model} ({args.size}) on {args.task} " \
           f"({len(splits['train'])}/{len(splits['dev'])}/{len(splits['test'])} rows), {args.threads} thread(s)"
    report([
        Figure("probe grid through the backbone", uncached_s, "s",
               note=f"{grid}; {uncached_rows:,} sequences embedded"),
        Figure("probe grid on cached embeddings", cached_s, "s",
               note=f"cold cache; {cached_rows:,} sequences embedded (each row of each split once)"),
        Figure("probe speed-up from cached embeddings", uncached_s / cached_s, "x", target=10, better="higher",
               note=f"wall clock; {grid}"),
        Figure("probe speed-up from cached embeddings (CPU time)", uncached_cpu / cached_cpu, "x", target=10,
               better="higher", note=f"process CPU seconds {uncached_cpu:.1f} vs {cached_cpu:.1f}: steadier than "
                                     "the wall clock on a shared machine"),
        Figure("probe: largest metric difference", diff, "", target=1e-5,
               note="any metric of any seed and epoch (validation, train loss, test), cached vs through the backbone"),
    ], "Probing on cached embeddings")


if __name__ == "__main__":
    main()
