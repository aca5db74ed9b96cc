"""The one training loop for every model (style §6.5: the trainer only sees SequenceClassifier).

AdamW, cosine learning rate with linear warm-up (per step), gradient clipping, early stopping on the task's
primary validation metric, and the best state (chosen on validation, never on test) restored at the end.
Mixed precision and torch.compile are used only on a GPU, and only when asked; on the CPU the loop is
deterministic for a given seed (and thread count).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from suite.data.batching import batch_rows, collate
from suite.train.evaluate import SplitData, evaluate
from suite.train.schedules import cosine_with_warmup


@dataclass(frozen=True)
class FitConfig:
    """Downstream training settings (the merged hyperparameters of a trial)."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_frac: float = 0.1
    patience: int | None = 3  # epochs without validation improvement before stopping; None = never stop early
    grad_clip: float | None = 1.0
    bucket: bool = True  # length-bucketed batches (less padding on variable-length tasks)
    eval_batch_size: int = 256
    amp: bool = True  # bfloat16 autocast, on a GPU only
    compile: bool = False  # torch.compile, on a GPU only
    seed: int = 0

    @classmethod
    def from_hparams(cls, hparams: dict) -> FitConfig:
        names = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in hparams.items() if k in names})


@dataclass
class FitResult:
    best_epoch: int
    best_val: dict  # validation metrics of the restored state
    history: list[dict] = field(default_factory=list)  # one row per epoch
    epoch_seconds: list[float] = field(default_factory=list)
    steps: int = 0


def device_for(prefer: str = "auto") -> torch.device:
    if prefer == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(prefer)


def fit(
    model: torch.nn.Module,
    train: SplitData,
    val: SplitData,
    cfg: FitConfig,
    metric: str,
    on_epoch: Callable[[int, dict], None] | None = None,
    device: torch.device | None = None,
) -> FitResult:
    """Train `model` on `train`, select on `val` by `metric`, restore the best state, return what happened."""
    device = device or device_for()
    model.to(device)
    on_gpu = device.type == "cuda"
    forward = torch.compile(model) if (cfg.compile and on_gpu) else model
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if (cfg.amp and on_gpu) else nullcontext()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(train) / cfg.batch_size)
    schedule = cosine_with_warmup(cfg.lr, max(1, cfg.epochs * steps_per_epoch), cfg.warmup_frac)

    result = FitResult(best_epoch=-1, best_val={})
    best_score, best_state, stale, step = -math.inf, None, 0, 0
    for epoch in range(cfg.epochs):
        started = time.perf_counter()
        model.train()
        losses = []
        for batch_idx in batch_rows(train.lengths, cfg.batch_size, shuffle=True, seed=cfg.seed * 100_003 + epoch,
                                    bucket=cfg.bucket):
            batch = collate(train.seqs, train.labels, train.rows[batch_idx]).to(device)
            for group in optimizer.param_groups:
                group["lr"] = float(schedule[min(step, len(schedule) - 1)])
            with autocast:
                loss = F.cross_entropy(forward(batch).float(), batch.labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.grad_clip:
                torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
            optimizer.step()
            losses.append(loss.detach())
            step += 1
        train_loss = float(torch.stack(losses).mean()) if losses else float("nan")  # one sync per epoch
        result.epoch_seconds.append(time.perf_counter() - started)
        val_metrics, _ = evaluate(model, val, cfg.eval_batch_size, device)
        row = {"epoch": epoch, "train/loss": train_loss, **{f"val/{k}": v for k, v in val_metrics.items()}}
        result.history.append(row)
        if on_epoch:
            on_epoch(epoch, row)
        score = val_metrics[metric]
        if score > best_score or best_state is None:
            best_score, stale = score, 0
            best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
            result.best_epoch, result.best_val = epoch, val_metrics
        else:
            stale += 1
            if cfg.patience is not None and stale >= cfg.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    result.steps = step
    return result


def seed_everything(seed: int) -> None:
    """Same seed → same initial weights, batches and dropout masks (CPU)."""
    import random

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
