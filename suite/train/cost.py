"""How every cost figure is measured, so that a run's cost columns (suite/runs/trial.py, suite/train/loop.py),
the cost recipes' T6/T8 (suite/recipes/cost.py says what to measure) and the benchmarks agree: one clock
(time.perf_counter, after synchronising the CUDA device where one is given), one memory probe (PeakMemory: CUDA
max_memory_allocated; CPU peak RSS), parameters and FLOPs (torch's FlopCounterMode)."""

from __future__ import annotations

import ctypes
import gc
import math
import resource
import sys
import threading
import time
from collections.abc import Callable

import torch
import torch.nn.functional as F

MIB = 2**20


# ---------------------------------------------------------------- time
def clock(device: torch.device | None = None) -> float:
    """Seconds on the one clock; on a CUDA device, once its queued work has finished."""
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def seconds(step: Callable[[], None], device: torch.device | None = None) -> float:
    """Wall seconds of one call of `step` on the clock."""
    start = clock(device)
    step()
    return clock(device) - start


def cpu_seconds(children: bool = False) -> float:
    """CPU time (user + system) of this process, or of its finished child processes (a benchmark's commands):
    beside the wall clock, what a loaded machine does not inflate."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ---------------------------------------------------------------- memory
def _proc_status(key: str) -> int | None:
    """A field of /proc/self/status in bytes (VmRSS, VmHWM), or None where there is none."""
    try:
        with open("/proc/self/status") as f:
            return next((int(line.split()[1]) * 1024 for line in f if line.startswith(key + ":")), None)
    except OSError:
        return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _ru_maxrss() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # bytes on macOS, KiB on Linux


class PeakMemory:
    """The one memory probe: the peak since it was made or last `reset()`, MiB. What it reads is per process
    (CUDA's peak statistics, the kernel's peak RSS), so use one probe at a time in a process."""

    # the process's one sampler thread, if running: stopped by any probe (a trial that failed before reading)
    _sampling: tuple[threading.Thread, threading.Event] | None = None

    def __init__(self, device: torch.device) -> None:
        self.device = device
        if device.type == "cuda":
            self.method = "cuda max_memory_allocated"
        elif _reset_peak_rss() and _proc_status("VmHWM") is not None:
            self.method = "peak RSS (clear_refs + VmHWM)"
        elif _proc_status("VmRSS") is not None:
            self.method = "peak RSS sampled every 2 ms (clear_refs not writable: best effort, short peaks missed)"
        else:
            self.method = "ru_maxrss (no /proc: best effort, no reset: an earlier, higher peak hides later growth)"
        self.reset()

    def reset(self) -> None:
        """Frees what can be freed (garbage, glibc's free pages, CUDA's cache) and starts a new peak from the
        memory in use now (`baseline_mb`)."""
        release_memory()
        self._stop_sampling()
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(self.device)
            now = torch.cuda.memory_allocated(self.device)
        elif self.method.startswith("peak RSS (clear"):
            now = _proc_status("VmRSS")
            _reset_peak_rss()
        elif self.method.startswith("peak RSS sampled"):
            now = self._sampled = _proc_status("VmRSS")
            stop = threading.Event()
            PeakMemory._sampling = threading.Thread(target=self._sample, args=(stop,), daemon=True), stop
            PeakMemory._sampling[0].start()
        else:
            now = _ru_maxrss()
        self.baseline_mb = now / MIB

    def _sample(self, stop: threading.Event) -> None:
        while not stop.wait(0.002):
            self._sampled = max(self._sampled, _proc_status("VmRSS") or 0)

    @staticmethod
    def _stop_sampling() -> None:
        if PeakMemory._sampling is not None:
            thread, stop = PeakMemory._sampling
            stop.set()
            thread.join()
            PeakMemory._sampling = None

    def peak_mb(self) -> float:
        """The peak since the last reset, MiB, the baseline included."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            return torch.cuda.max_memory_allocated(self.device) / MIB
        if self.method.startswith("peak RSS (clear"):
            return _proc_status("VmHWM") / MIB
        if self.method.startswith("peak RSS sampled"):
            self._stop_sampling()
            return max(self._sampled, _proc_status("VmRSS") or 0) / MIB
        return _ru_maxrss() / MIB

    def growth_mb(self) -> float:
        """The peak since the last reset minus the baseline, MiB: what was built and run since."""
        return max(self.peak_mb() - self.baseline_mb, 0.0)


def _libc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameters


def malloc_regime(regime: str) -> bool:
    """glibc only (False elsewhere). "memory": every block of 128 KiB or more is mmap'd and handed back on free,
    so peak RSS is the peak of live memory, without heap fragmentation (reproducible to a few MiB; without this,
    peak RSS of the same step varies by ±10 % with the heap's history). "speed": the thresholds glibc's own
    dynamic tuning settles at (32 MiB mmap, 64 MiB trim), so timed steps reuse heap pages instead of faulting
    fresh ones. Stays in effect for the rest of the process."""
    libc = _libc()
    if libc is None:
        return False
    mmap, trim = (128 * 1024, 128 * 1024) if regime == "memory" else (32 * MIB, 64 * MIB)
    return bool(libc.mallopt(M_MMAP_THRESHOLD, mmap)) and bool(libc.mallopt(M_TRIM_THRESHOLD, trim))


def release_memory() -> None:
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)  # hand glibc's free pages back, so the next baseline is honest


def available_mb(device: torch.device) -> float:
    """Memory this process could still take: free GPU memory, or MemAvailable of /proc/meminfo (inf if unknown)."""
    if device.type == "cuda":
        return torch.cuda.mem_get_info(device)[0] / MIB
    try:
        with open("/proc/meminfo") as f:
            return next(int(ln.split()[1]) / 1024 for ln in f if ln.startswith("MemAvailable:"))
    except (OSError, StopIteration, ValueError):
        return math.inf


# ---------------------------------------------------------------- parameters and FLOPs
def n_parameters(model: torch.nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def train_flops_per_sample(model: torch.nn.Module, batch) -> float:
    """FLOPs of one forward + backward pass on `batch` (count_flops), divided by the batch size."""
    was_training = model.training
    model.train()

    def step() -> None:
        loss = F.cross_entropy(model(batch).float(), batch.labels)
        if loss.requires_grad:
            loss.backward()

    flops = count_flops(step)
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return flops / max(len(batch), 1)


def count_flops(step: Callable[[], None]) -> float:
    """FLOPs torch counts while `step()` runs (matmuls, convolutions, attention; element-wise ops count 0), with
    the CPU flash-attention kernels that SDPA dispatches to on CPU given torch's SDPA formulas."""
    from torch.utils import flop_counter
    from torch.utils.flop_counter import FlopCounterMode

    aten = torch.ops.aten
    # torch's counter knows the CUDA attention kernels, not the CPU flash kernel that SDPA dispatches to on CPU
    cpu_attention = {}
    if hasattr(aten, "_scaled_dot_product_flash_attention_for_cpu"):
        cpu_attention = {
            aten._scaled_dot_product_flash_attention_for_cpu:
                lambda q, k, v, *_, out_shape=None, **__: flop_counter.sdpa_flop_count(q, k, v),
            aten._scaled_dot_product_flash_attention_for_cpu_backward:
                lambda g, q, k, v, *_, out_shape=None, **__: flop_counter.sdpa_backward_flop_count(g, q, k, v),
        }
    with FlopCounterMode(display=False, custom_mapping=cpu_attention) as counter:
        step()
    return float(counter.get_total_flops())
