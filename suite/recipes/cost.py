"""Training cost of models side by side, in one process (paper Table 6 and Table 8; findna-facts §8).

`measure(entries)` builds each entry in turn in *this* process, on one device and thread count, so the ratios
between entries are fair (same machine state, same allocator, same inputs). For each entry:

- input: `batch` random ACGT sequences of exactly `length` bp (seeded), 2 class labels;
- step "finetune" (Table 6): the card's SequenceClassifier at `size` with recipe {"max_len": length}, random
  weights (a hub card builds its published architecture; weights do not change the cost), then forward (the
  wrapper's tokenization included), cross-entropy, backward, AdamW step, as benchmarks/bench_wrappers.py;
- step "pretrain" (Table 8): exactly one step of suite/pretrain/loop.py: the backbone from `build_backbone` of
  the pretraining config (the card's `size`, max_len = `length`), `FinDNAPretrainer` with the model's method
  (findna / findna_t: student + EMA teacher + [CLS] distillation; cm_mnm: MNM only, no teacher, no [CLS]),
  both views drawn, loss, backward, gradient clipping at 0.5, AdamW, EMA teacher and centre update. The one-hot
  batch is built once, outside the timed step (the loop gathers it from the encoded windows each step);
- two passes over the entries: first memory and FLOPs, one entry at a time (build, a warm-up step that allocates
  gradients and optimiser state, a second step, the first to hold them through forward and backward: the peak,
  then one step under the FLOP counter, free), then time: every entry built again (same seed) and warmed up by
  one step, then `repeats` rounds of one timed step per entry in turn (round robin: a burst of other load on a
  shared machine hits every entry alike; this pass holds all entries' weights and optimiser states at once);
- how each figure is measured is suite/train/cost.py's, as for a run's cost columns and the benchmarks;
- memory: PeakMemory's growth over build + the two steps (CUDA: max_memory_allocated; CPU: peak RSS), i.e.
  weights, gradients, optimiser state, activations and allocator overhead; the previous entry is freed first.
  With glibc, this pass runs under malloc_regime("memory"), so the peak is that of live memory and does not
  depend on what ran before;
- time: median of an entry's `repeats` timed steps on the cost clock (CUDA: synchronised), under
  malloc_regime("speed") (the memory setting makes every large tensor fault fresh pages, +25-35 % per step
  here). `measure` leaves these malloc settings in place for the rest of the process;
- FLOPs: torch.utils.flop_counter.FlopCounterMode over one further full step, whole batch (forward, backward and
  the optimiser step: matmuls, convolutions and attention count, element-wise ops count 0; the CPU
  flash-attention kernels get torch's SDPA formulas). For pretraining this includes the teacher's forward.
"""

from __future__ import annotations

import math
import platform
import statistics
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from suite.errors import SuiteError, UnknownName
from suite.pretrain.loop import COMMANDS
from suite.train.cost import PeakMemory, available_mb, count_flops, malloc_regime, release_memory, seconds

STEPS = ("finetune", "pretrain")


@dataclass(frozen=True)
class CostEntry:
    label: str  # row label, e.g. "FinDNA", "CM-MNM", "DNABERT-2"
    model: str  # model card name: findna, cm_mnm, dnabert2, nt_500m_human_ref, ...
    step: str  # "finetune" (classifier training step, Table 6) | "pretrain" (one pretraining step, Table 8)
    size: str | None = None  # a size of the model card; None = the card's default (paper) size


@dataclass
class CostResult:
    entry: CostEntry
    parameters: int  # trainable parameters of what is trained (student only for pretraining)
    seconds_per_batch: float  # median over `repeats` timed steps after one warm-up step
    peak_memory_mb: float  # peak over build + 2 steps minus the baseline just before building (MiB)
    flops_per_batch: float  # FlopCounterMode over one full training step (forward+backward), whole batch


# ---------------------------------------------------------------- validation
def _check(entry: CostEntry):
    """The entry's model card, or a SuiteError naming what is wrong (before anything is built)."""
    from suite.models import get_model_spec

    spec = get_model_spec(entry.model)  # UnknownName (a SuiteError) for an unknown card
    if entry.step not in STEPS:
        raise SuiteError(f"unknown step kind '{entry.step}' for '{entry.label}'", f"use one of {', '.join(STEPS)}")
    if entry.step == "pretrain" and spec.name not in COMMANDS:
        raise SuiteError(f"model '{spec.name}' has no pretraining step in this suite ('{entry.label}')",
                         f"use step 'finetune', or a pretrainable model: {', '.join(COMMANDS)}")
    if entry.size is not None and entry.size != "paper" and entry.size not in spec.sizes:
        raise UnknownName(f"size of model '{spec.name}'", entry.size, spec.size_names)
    return spec


# ---------------------------------------------------------------- inputs and steps
def _inputs(length: int, batch: int, seed: int):
    from suite.data.batching import collate
    from suite.data.encode import encode

    rng = np.random.default_rng(seed)
    seqs = encode(["".join(rng.choice(list("ACGT"), size=length)) for _ in range(batch)])
    return collate(seqs, rng.integers(0, 2, size=batch), np.arange(batch))


def _finetune(spec, size: str | None, length: int, data, device: torch.device):
    from suite.models import build_model

    model = build_model(spec, 2, size=size, recipe={"max_len": length}, weights=False).to(device)
    model.train()
    data = data.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4)

    def step() -> None:
        loss = F.cross_entropy(model(data).float(), data.labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step, params


def _pretrain(spec, size: str | None, length: int, data, device: torch.device, seed: int):
    from suite.pretrain.loop import profile_config

    size = size or spec.default_size
    config = profile_config(COMMANDS[spec.name], "paper" if size == "paper" else "quick", size=size,
                            window_len=length, batch_size=len(data), seed=seed)
    return pretrain_step(config, data, device)


def pretrain_step(config, data, device: torch.device):
    """(step, trained parameters) of a pretraining configuration on `data`: suite/pretrain/loop.py's training step,
    without the logging (also what a study counts the FLOPs of, suite/recipes/study.py)."""
    from suite.pretrain.findna import FinDNAPretrainer
    from suite.pretrain.loop import build_backbone, train_step

    _, backbone, _ = build_backbone(config)
    pretrainer = FinDNAPretrainer(backbone, config.method).to(device)
    pretrainer.train()
    params = [p for p in pretrainer.student.parameters() if p.requires_grad]  # the teacher gets no gradients
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    batch = data.one_hot.to(device)  # (B, L, 5) one-hot, as the loop's one_hot[codes[rows]]
    momentum = config.method.teacher_momentum
    counter = [0]

    def step() -> None:  # suite/pretrain/loop.py's training step, without the logging
        generator = torch.Generator().manual_seed(config.seed * 1_000_003 + counter[0])
        out = train_step(pretrainer, optimizer, params, batch, generator, config.clip_grad, counter[0])
        pretrainer.after_step(out.teacher_cls, momentum)
        counter[0] += 1

    return step, params


# ---------------------------------------------------------------- measuring
def _device_line(device: torch.device, memory: PeakMemory, glibc: bool) -> str:
    memory_method = memory.method
    if device.type == "cuda":
        line = f"cuda: {torch.cuda.get_device_name(device)}"
    else:
        name = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as f:
                name = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), name)
        except OSError:
            pass
        line = f"cpu: {name}, {torch.get_num_threads()} torch threads"
    if "best effort" in memory_method:
        line += f"; memory: {memory_method}"
    elif device.type == "cpu" and not glibc:
        line += "; memory: peak RSS under the default allocator (no glibc mallopt: ±10 % between runs)"
    return line


def _warm_up(entries: list[CostEntry], specs: list, data, length: int, device: torch.device, seed: int) -> None:
    """Unmeasured steps before any entry: one of a small Linear, and one of each entry's card at its `tiny` size
    where the card has one, so one-off set-up (lazy imports such as transformers' model modules, thread pools,
    kernel caches) is not charged to whichever entry comes first."""
    layer = torch.nn.Linear(64, 64).to(device)
    optimizer = torch.optim.AdamW(layer.parameters())
    layer(torch.randn(8, 64, device=device)).sum().backward()
    optimizer.step()
    for entry, spec in zip(entries, specs, strict=True):
        if "tiny" in spec.sizes:
            if entry.step == "pretrain":
                step, _ = _pretrain(spec, "tiny", length, data, device, seed)
            else:
                step, _ = _finetune(spec, "tiny", length, data, device)
            step()


def _build(entry: CostEntry, spec, data, length: int, device: torch.device, seed: int):
    torch.manual_seed(seed)
    if entry.step == "pretrain":
        return _pretrain(spec, entry.size, length, data, device, seed)
    return _finetune(spec, entry.size, length, data, device)


def _memory_pass(entry: CostEntry, spec, data, length: int, device: torch.device, seed: int,
                 memory: PeakMemory) -> tuple[int, float, float]:
    """(trainable parameters, peak memory MiB, FLOPs per batch)."""
    memory.reset()
    step, params = _build(entry, spec, data, length, device, seed)
    step()  # warm-up: gradients and optimiser state are allocated here
    step()  # the first step that holds gradients and optimiser state through forward and backward: the peak
    peak = memory.growth_mb()
    return sum(p.numel() for p in params), peak, count_flops(step)


def _time_pass(entries: list[CostEntry], specs: list, data, length: int, repeats: int, device: torch.device,
               seed: int, together: bool = True) -> list[float]:
    """Median seconds per step of each entry. `together`: all entries built and warmed up (one step each), then
    `repeats` rounds of one timed step per entry in turn, so a burst of other load on the machine hits every
    entry alike instead of whichever happened to run then. Otherwise (when all entries at once would not fit in
    memory) each entry is built, warmed up, timed and freed in turn."""
    release_memory()
    if not together:
        return [_time_pass([entry], [spec], data, length, repeats, device, seed)[0]
                for entry, spec in zip(entries, specs, strict=True)]
    steps = []
    for entry, spec in zip(entries, specs, strict=True):
        step, _ = _build(entry, spec, data, length, device, seed)
        step()  # warm-up
        steps.append(step)
    times: list[list[float]] = [[] for _ in steps]
    for _ in range(repeats):
        for step, own in zip(steps, times, strict=True):
            own.append(seconds(step, device))
    del steps
    return [statistics.median(own) for own in times]


def measure(entries: list[CostEntry], length: int = 1024, batch: int = 16, repeats: int = 3,
            device: str | None = None, threads: int | None = None, seed: int = 0) -> tuple[list[CostResult], str]:
    """All entries in THIS process, one after another (fair ratios). Returns results and a one-line device
    description (e.g. 'cpu: <cpu model name>, 2 torch threads' or 'cuda: NVIDIA H100 80GB HBM3').

    Two passes over the entries: first memory and FLOPs (each entry built, stepped twice, freed, in turn), then
    time (all entries built again with the same seed, one warm-up step each, then `repeats` rounds of one timed
    step per entry; the time pass holds every entry's weights and optimiser state at once, unless their measured
    peaks together exceed 80 % of the memory available: then each entry is timed alone, in turn). On CPU with
    glibc, the first pass runs with malloc's mmap/trim thresholds at 128 KiB and the second at glibc's usual
    steady state (32/64 MiB); these settings, like `threads` (torch.set_num_threads), stay in effect in this
    process afterwards."""
    specs = [_check(entry) for entry in entries]  # every error before anything is built
    if length < 1 or batch < 1 or repeats < 1:
        raise SuiteError(f"length, batch and repeats must be positive (got {length}, {batch}, {repeats})",
                         "pass positive values")
    if device == "cuda" and not torch.cuda.is_available():
        raise SuiteError("device 'cuda' requested but torch sees no CUDA device", "use --device cpu")
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if threads:
        torch.set_num_threads(threads)
    from suite.models import load_families

    load_families()
    data = _inputs(length, batch, seed)
    glibc = dev.type == "cpu" and malloc_regime("memory")  # on CPU with glibc: the "memory" regime from here on
    memory = PeakMemory(dev)
    _warm_up(entries, specs, data, length, dev, seed)
    sized = [_memory_pass(entry, spec, data, length, dev, seed, memory) for entry, spec in zip(entries, specs,
                                                                                              strict=True)]
    if glibc:
        release_memory()
        malloc_regime("speed")
    together = sum(peak for _, peak, _ in sized) < 0.8 * available_mb(dev)  # else one at a time (no OOM)
    times = _time_pass(entries, specs, data, length, repeats, dev, seed, together)
    release_memory()
    results = [CostResult(entry, n, secs, peak, flops)
               for entry, (n, peak, flops), secs in zip(entries, sized, times, strict=True)]
    line = _device_line(dev, memory, glibc)
    return results, line + ("" if together or len(entries) < 2 else
                            "; timed one entry after another (all at once would not fit in memory)")


def ratios(results: list[CostResult], reference: str) -> dict[str, dict[str, float]]:
    """label -> {"time": x, "memory": x, "flops": x} relative to the entry labelled `reference` (which gets 1.0)."""
    labels = [r.entry.label for r in results]
    if reference not in labels:
        raise SuiteError(f"no result labelled '{reference}'", f"use one of {', '.join(labels) or '(none)'}")
    if len(set(labels)) != len(labels):
        raise SuiteError("two results share a label", "give every entry its own label")
    ref = results[labels.index(reference)]

    def factor(x: float, base: float) -> float:
        return x / base if base > 0 else math.nan

    out = {}
    for r in results:
        if r.entry.label == reference:
            out[r.entry.label] = {"time": 1.0, "memory": 1.0, "flops": 1.0}
        else:
            out[r.entry.label] = {"time": factor(r.seconds_per_batch, ref.seconds_per_batch),
                                  "memory": factor(r.peak_memory_mb, ref.peak_memory_mb),
                                  "flops": factor(r.flops_per_batch, ref.flops_per_batch)}
    return out
