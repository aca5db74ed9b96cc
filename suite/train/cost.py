"""Cost accounting for Table 6-style comparisons: parameters, FLOPs per training sample, peak memory."""

from __future__ import annotations

import resource
import sys

import torch
import torch.nn.functional as F


def n_parameters(model: torch.nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def train_flops_per_sample(model: torch.nn.Module, batch) -> float:
    """FLOPs of one forward + backward pass on `batch` (torch's FLOP counter), divided by the batch size.
    Counts matmuls and convolutions (what dominates); elementwise ops are not counted by torch."""
    from torch.utils.flop_counter import FlopCounterMode

    was_training = model.training
    model.train()
    counter = FlopCounterMode(display=False)
    with counter:
        loss = F.cross_entropy(model(batch).float(), batch.labels)
        if loss.requires_grad:
            loss.backward()
    model.zero_grad(set_to_none=True)
    model.train(was_training)
    return counter.get_total_flops() / max(len(batch), 1)


def peak_memory_mb(device: torch.device) -> float:
    """GPU: max memory allocated by torch; CPU: the process's peak resident set size (ru_maxrss)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10  # bytes on macOS, KiB on Linux
