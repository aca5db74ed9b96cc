"""Cost accounting for Table 6-style comparisons: parameters, FLOPs per training sample, peak memory."""

from __future__ import annotations

import resource
import sys
from collections.abc import Callable

import torch
import torch.nn.functional as F


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



def peak_memory_mb(device: torch.device) -> float:
    """GPU: max memory allocated by torch; CPU: the process's peak resident set size (ru_maxrss)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10  # bytes on macOS, KiB on Linux
