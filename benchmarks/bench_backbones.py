"""One training step of FinDNA (ChordMixer) vs FinDNA-T (Transformer) at the same width and depth, on CPU.

Not a test. Reproduces the *kind* of numbers of paper Table 6 (time, memory, FLOPs during training; findna-facts
§8) on this machine. For each backbone and length L, a fresh subprocess builds a SequenceClassifier
(cls_mean pooling, linear head, 2 classes), an AdamW optimiser and one random batch of B sequences of length L,
then runs `--repeats` full training steps (forward, cross-entropy, backward, AdamW step) after one warm-up step.

- time: median wall time of the timed steps;
- memory: suite.train.cost.PeakMemory's growth from just before the warm-up step (peak RSS minus RSS before),
  i.e. activations + gradients + AdamW state + allocator overhead of a step (not tracemalloc: torch's CPU
  allocator bypasses Python's);
- FLOPs: torch.utils.flop_counter.FlopCounterMode over one step (matmuls and attention, with formulas added for
  the CPU flash-attention kernels; the rotation's gathers and element-wise ops count 0; masked and padded
  attention entries are counted as computed).

Configurations (both backbones: same width E, same number of layers, hidden H):
- paper: E 308, 4 layers, H 512 (ChordMixer track 28, ceil(log2(L + 10)) blocks per layer, width pinned to 308 as
  in the authors' long-sequence configs; Transformer 4 heads of 77);
- small: E 176, 2 layers, H 128 (ChordMixer track 16; Transformer 4 heads of 44).

    python benchmarks/bench_backbones.py --config small paper --lengths 1024 4096 8192 --batch 2 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

CONFIGS = {
    "paper": {"chordmixer": {"track_size": 28, "hidden": 512, "layers": 4, "width": 308},
              "transformer": {"width": 308, "layers": 4, "heads": 4, "hidden": 512}},
    "small": {"chordmixer": {"track_size": 16, "hidden": 128, "layers": 2, "width": 176},
              "transformer": {"width": 176, "layers": 2, "heads": 4, "hidden": 128}},
}


def one(config: str, family: str, length: int, batch: int, repeats: int, threads: int) -> dict:
    """Runs inside the subprocess: time, memory and FLOPs of one training step."""
    import torch

    from suite.data.batching import SequenceBatch
    from suite.models import FAMILIES, load_families
    from suite.models.classifier import SequenceClassifier
    from suite.train.cost import PeakMemory, count_flops, seconds

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    load_families()
    params = {**CONFIGS[config][family], "n_cls": 10, "max_len": length}
    model = SequenceClassifier(FAMILIES.get(family)(params), 2, pooling="cls_mean", head="linear")
    optimiser = torch.optim.AdamW(model.parameters(), lr=1e-4)
    data = SequenceBatch(codes=torch.randint(0, 5, (batch, length), dtype=torch.uint8),
                         lengths=torch.full((batch,), length, dtype=torch.int64),
                         labels=torch.randint(0, 2, (batch,)))

    def step() -> None:
        optimiser.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(data), data.labels)
        loss.backward()
        optimiser.step()

    memory = PeakMemory(torch.device("cpu"))
    step()  # warm-up: allocates gradients and AdamW state
    times = [seconds(step) for _ in range(repeats)]
    grown = memory.growth_mb()
    flops = count_flops(step)
    return {
        "config": config, "family": family, "L": length, "batch": batch,
        "params": sum(p.numel() for p in model.parameters()),
        "blocks": getattr(model.backbone.config, "blocks_per_layer", None),
        "step_s": statistics.median(times), "mem_mib": grown,
        "gflop": flops / 1e9,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", nargs="+", default=["small", "paper"], choices=sorted(CONFIGS))
    parser.add_argument("--lengths", nargs="+", type=int, default=[1024, 4096, 8192])
    parser.add_argument("--families", nargs="+", default=["chordmixer", "transformer"])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        config, family, length = args.one.split(":")
        print(json.dumps(one(config, family, int(length), args.batch, args.repeats, args.threads)))
        return
    print(f"batch {args.batch}, {args.repeats} timed steps (median) after 1 warm-up, {args.threads} threads\n")
    print("| config | backbone | L | params | blocks/layer | step time (s) | peak RSS Δ (MiB) | GFLOP / step |")
    print("|---|---|---|---|---|---|---|---|")
    for config in args.config:
        for length in args.lengths:
            for family in args.families:
                cmd = [sys.executable, __file__, "--one", f"{config}:{family}:{length}", "--batch", str(args.batch),
                       "--repeats", str(args.repeats), "--threads", str(args.threads)]
                done = subprocess.run(cmd, capture_output=True, text=True)
                if done.returncode != 0:
                    reason = "killed (out of memory?)" if done.returncode < 0 else done.stderr.strip().splitlines()[-1]
                    print(f"| {config} | {family} | {length} | | | failed: {reason} | | |", flush=True)
                    continue
                r = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"| {config} | {family} | {length} | {r['params']:,} | {r['blocks'] or '-'} | "
                      f"{r['step_s']:.2f} | {r['mem_mib']:.0f} | {r['gflop']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
