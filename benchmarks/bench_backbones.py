"""FinDNA (ChordMixer) vs FinDNA-T (Transformer) at long lengths: one training step, paper configuration (issue 20).

Not a test. Reproduces the *kind* of numbers of paper Table 6 (time and memory during training; findna-facts §8)
on this machine and holds them against issue 20's targets (benchmarks/targets.py).

Rows (each the card's `paper` size, random weights, built like a run builds it: suite.models.build_model with
the recipe {"max_len": L}, so ChordMixer keeps the card's width 308 (track 28, hidden 512, 4 layers of
ceil(log2(L + 10)) blocks) as the authors' long-sequence configs do, and FinDNA-T is models/findna_t.yaml's
network: width 512, 8 layers, 8 heads, FFN 1024, learned positions sized to L):
- findna: models/findna.yaml;
- findna_ckpt: the same with `model.checkpointing: true` (activation checkpointing per layer);
- findna_t: models/findna_t.yaml;
- findna_t_ckpt: FinDNA-T with `model.checkpointing: true` (not in the default rows).

Each (row, L) runs in a fresh subprocess: build the classifier (the card's pooling, linear head, 2 classes) and
AdamW, one unmeasured warm-up step at 64 bp (allocates AdamW's state, thread pools), then ONE measured training
step (forward, cross-entropy, backward, AdamW step) on `--batch` random sequences of exactly L bp:
- memory: suite.train.cost.PeakMemory's growth from just before the build (CPU: peak RSS; CUDA:
  max_memory_allocated): weights, gradients, AdamW state, activations and allocator overhead. On CPU with glibc
  it runs under malloc_regime("memory"), so the peak is that of live memory;
- time: the measured step on the cost clock (under the memory regime on CPU: every large tensor faults fresh
  pages, which adds about a quarter to a step, alike for every row), and the process's CPU seconds over it, which
  with one torch thread (the default) is the work done whatever else the machine runs; the ratios of time below
  use CPU seconds. `--repeats N` adds N more steps under malloc_regime("speed") and reports their median instead.
Per base: step time / (batch · L). Where FinDNA-T's 8 kbp cell is skipped, its memory is extrapolated linearly from
its two longest measured lengths, and the figure says so.

Block throughput (`--block-length`, default 8192): one ChordMixer layer of the paper network (14 blocks at 8 kbp,
batch 1), forward + backward per block, against the same six matmuls timed alone (forward x·W1ᵀ, h·W2ᵀ;
backward the two weight and two input gradients) on the same shapes with torch.mm: the ratio of their times is the
block's throughput as a fraction of the GEMM throughput (equal FLOPs). Medians of `--block-repeats` runs, CPU
seconds.

    python benchmarks/bench_backbones.py                       # defaults: 1k/4k/8k/16k, batch 1, 1 thread
    python benchmarks/bench_backbones.py --lengths 1024 8192 --rows findna findna_t --threads 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from targets import Figure, report

ROWS = {  # label → (model card, `--set model.<key>` overrides)
    "findna": ("findna", {}),
    "findna_ckpt": ("findna", {"checkpointing": True}),
    "findna_t": ("findna_t", {}),
    "findna_t_ckpt": ("findna_t", {"checkpointing": True}),
}
NAMES = {"findna": "FinDNA", "findna_ckpt": "FinDNA + checkpointing", "findna_t": "FinDNA-T",
         "findna_t_ckpt": "FinDNA-T + checkpointing"}
# FinDNA-T's attention is quadratic: at 16 kbp one step is about 4x its 8 kbp step (several minutes on 2 CPU cores)
DEFAULT_SKIP = ["findna_t:16384", "findna_t_ckpt:16384"]
WARM_UP_BP = 64


def _setup(threads: int, regime: str):
    import torch

    from suite.models import load_families
    from suite.train.cost import malloc_regime

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    load_families()
    return malloc_regime(regime)


def _batch(batch: int, length: int):
    import torch

    from suite.data.batching import SequenceBatch

    return SequenceBatch(codes=torch.randint(0, 4, (batch, length), dtype=torch.uint8),
                         lengths=torch.full((batch,), length, dtype=torch.int64), labels=torch.randint(0, 2, (batch,)))


def _timed(fn) -> tuple[float, float]:
    """(wall seconds on the cost clock, CPU seconds of this process) of one call. With one torch thread the CPU
    seconds are the work done, whatever else the machine runs; wall time on a shared machine is not."""
    from suite.train.cost import seconds

    cpu = time.process_time()
    wall = seconds(fn)
    return wall, time.process_time() - cpu


def one(row: str, length: int, batch: int, repeats: int, threads: int) -> dict:
    """Runs inside the subprocess: peak memory and time of one training step of `row` at `length` bp."""
    import torch

    from suite.models import build_model, get_model_spec
    from suite.train.cost import PeakMemory, malloc_regime, release_memory

    glibc = _setup(threads, "memory")
    card, overrides = ROWS[row]
    memory = PeakMemory(torch.device("cpu"))
    model = build_model(get_model_spec(card), 2, size="paper", recipe={"max_len": length}, overrides=overrides,
                        weights=False)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-4)

    def step(data) -> None:
        optimiser.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(data), data.labels).backward()
        optimiser.step()

    step(_batch(batch, WARM_UP_BP))
    data = _batch(batch, length)
    timed = [_timed(lambda: step(data))]
    grown = memory.growth_mb()
    if repeats:
        release_memory()
        malloc_regime("speed")
        timed = [_timed(lambda: step(data)) for _ in range(repeats)]
    return {"row": row, "L": length, "batch": batch, "params": sum(p.numel() for p in model.parameters()),
            "blocks": getattr(model.backbone.config, "blocks_per_layer", None),
            "step_s": statistics.median(t for t, _ in timed), "cpu_s": statistics.median(c for _, c in timed),
            "mem_mib": grown, "memory_method": memory.method + ("" if glibc else ", default allocator")}


def block_throughput(length: int, repeats: int, threads: int) -> dict:
    """Runs inside the subprocess: one ChordMixer layer (forward + backward) vs its matmuls alone, per block."""
    import torch

    from suite.models import build_backbone, get_model_spec

    _setup(threads, "speed")
    layer = build_backbone(get_model_spec("findna"), "paper", recipe={"max_len": length, "layers": 1})
    cfg = layer.config
    n_blocks, E, H = cfg.blocks_per_layer, layer.width, cfg.hidden
    x = torch.randn(1, length, 5)
    lengths = torch.tensor([length])
    T = length + cfg.n_cls

    def forward() -> None:
        with torch.no_grad():
            layer(x, lengths)

    def train() -> None:
        tokens, cls = layer(x, lengths)
        (tokens.sum() + cls.sum()).backward()

    a, w1, w2 = torch.randn(T, E), torch.randn(H, E), torch.randn(E, H)
    h, g = torch.randn(T, H), torch.randn(T, E)

    def gemm_forward() -> None:
        torch.mm(torch.mm(a, w1.t()), w2.t())

    def gemm_train() -> None:
        gemm_forward()
        torch.mm(g.t(), h)  # dW2
        dh = torch.mm(g, w2)  # input gradient of fc2
        torch.mm(dh.t(), a)  # dW1
        torch.mm(dh, w1)  # input gradient of fc1

    out = {"L": length, "blocks": n_blocks, "E": E, "H": H, "T": T}
    for name, fn, per in (("block_fwd_s", forward, n_blocks), ("block_train_s", train, n_blocks),
                          ("gemm_fwd_s", gemm_forward, 1), ("gemm_train_s", gemm_train, 1)):
        fn()  # warm-up
        runs = [_timed(fn) for _ in range(repeats)]
        out[name] = statistics.median(w for w, _ in runs) / per
        out[name.replace("_s", "_cpu_s")] = statistics.median(c for _, c in runs) / per
    return out


def _subprocess(args: list[str], timeout: float) -> dict | str:
    """The JSON a `--one`/`--block` subprocess prints, or why there is none."""
    try:
        done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return f"over the {timeout:.0f}-s limit (--timeout)"
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return "killed (out of memory?)" if done.returncode < 0 else (lines[-1] if lines else f"exit {done.returncode}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _kbp(length: int) -> str:
    return f"{length / 1024:g} kbp"


def _memory_at(cells: dict, row: str, length: int) -> tuple[float, str] | None:
    """The row's peak memory at `length`: measured, or else extrapolated linearly from its two longest measured
    lengths below (activations of both backbones grow linearly in L: SDPA's flash kernel keeps no L x L matrix)."""
    r = cells.get((row, length))
    if isinstance(r, dict):
        return r["mem_mib"], "measured"
    shorter = sorted(L for (name, L), c in cells.items() if name == row and isinstance(c, dict) and L < length)
    if len(shorter) < 2:
        return None
    (a, b), (ma, mb) = shorter[-2:], (cells[row, L]["mem_mib"] for L in shorter[-2:])
    return mb + (mb - ma) * (length - b) / (b - a), f"extrapolated linearly from {_kbp(a)} and {_kbp(b)}"


def figures(cells: dict[tuple[str, int], dict | str], block: dict | str | None, batch: int) -> list[Figure]:
    """Every measured cell, then issue 20's targets where their cells were measured. Ratios of time use the
    process's CPU seconds (one torch thread: the work done, robust to other load on a shared machine)."""
    out = []
    for (row, length), r in cells.items():
        if isinstance(r, str):
            out.append(Figure(f"{NAMES[row]} step, {_kbp(length)}", float("nan"), "s", note=r))
            continue
        out.append(Figure(f"{NAMES[row]} step, {_kbp(length)}", r["step_s"], "s",
                          note=f"wall; {r['cpu_s']:.1f} CPU s; batch {batch}, {r['blocks'] or '-'} blocks/layer, "
                               f"{r['params']:,} parameters"))
        out.append(Figure(f"{NAMES[row]} peak memory, {_kbp(length)}", r["mem_mib"], "MiB", note=r["memory_method"]))

    def ok(row: str, length: int) -> dict | None:
        r = cells.get((row, length))
        return r if isinstance(r, dict) else None

    t8 = _memory_at(cells, "findna_t", 8192)
    for row, target, what in (("findna_ckpt", 1.0, "with checkpointing"), ("findna", 2.0, "without checkpointing")):
        r = ok(row, 8192)
        if r and t8:
            out.append(Figure(f"FinDNA / FinDNA-T peak memory, 8 kbp, {what}", r["mem_mib"] / t8[0], "x", target,
                              note=f"{r['mem_mib']:,.0f} vs {t8[0]:,.0f} MiB (FinDNA-T {t8[1]})"))
    for row, target in (("findna", 1.5), ("findna_ckpt", None), ("findna_t", None)):
        short, long = ok(row, 1024), ok(row, 8192)
        if short and long:
            growth = (long["cpu_s"] / 8192) / (short["cpu_s"] / 1024)
            per_base = (f"{long['cpu_s'] / 8192 / batch * 1e3:.3g} vs {short['cpu_s'] / 1024 / batch * 1e3:.3g} "
                        f"CPU ms/bp; blocks/layer {long['blocks'] or '-'} vs {short['blocks'] or '-'}")
            out.append(Figure(f"{NAMES[row]} time per base, 8 kbp / 1 kbp", growth, "x", target, note=per_base))
    if isinstance(block, dict):
        shape = f"T {block['T']}, E {block['E']}, H {block['H']}, {block['blocks']} blocks"
        for kind, target in (("train", 50.0), ("fwd", None)):
            b, g = block[f"block_{kind}_cpu_s"], block[f"gemm_{kind}_cpu_s"]
            what = "forward + backward" if kind == "train" else "forward"
            out.append(Figure(f"ChordMixer block throughput / GEMM, {what}", 100 * g / b, "%", target, "higher",
                              note=f"{b * 1e3:.0f} vs {g * 1e3:.0f} CPU ms per block; {shape}"))
    elif block is not None:
        out.append(Figure("ChordMixer block throughput / GEMM, forward + backward", float("nan"), "%", 50.0, "higher",
                          note=block))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="+", default=["findna", "findna_ckpt", "findna_t"], choices=sorted(ROWS))
    parser.add_argument("--lengths", nargs="*", type=int, default=[1024, 4096, 8192, 16384])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=0, help="extra timed steps (median) under the speed regime")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip", nargs="*", default=DEFAULT_SKIP, help="row:L cells not to run")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per cell")
    parser.add_argument("--block-length", type=int, default=8192, help="0: no block throughput")
    parser.add_argument("--block-repeats", type=int, default=3)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--block", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        row, length = args.one.split(":")
        print(json.dumps(one(row, int(length), args.batch, args.repeats, args.threads)))
        return
    if args.block:
        print(json.dumps(block_throughput(args.block, args.block_repeats, args.threads)))
        return
    print(f"batch {args.batch}, {args.threads} torch threads, one measured step per cell"
          + (f" (+{args.repeats} timed)" if args.repeats else ""), flush=True)
    cells: dict[tuple[str, int], dict | str] = {}
    for length in args.lengths:
        for row in args.rows:
            if f"{row}:{length}" in args.skip:
                cells[row, length] = "skipped (--skip): quadratic attention, minutes per step on this CPU"
                continue
            cells[row, length] = _subprocess(["--one", f"{row}:{length}", "--batch", str(args.batch), "--repeats",
                                              str(args.repeats), "--threads", str(args.threads)], args.timeout)
            print(f"{row} {length}: {cells[row, length]}", file=sys.stderr, flush=True)
    block = None
    if args.block_length:
        block = _subprocess(["--block", str(args.block_length), "--block-repeats", str(args.block_repeats),
                             "--threads", str(args.threads)], args.timeout)
        print(f"block {args.block_length}: {block}", file=sys.stderr, flush=True)
    report(figures(cells, block, args.batch), f"FinDNA vs FinDNA-T, training step, paper configuration "
                                                f"(batch {args.batch}, {args.threads} threads)")


if __name__ == "__main__":
    main()
