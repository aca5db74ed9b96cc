"""The one training loop for every model (style §6.5: the trainer only sees SequenceClassifier).

AdamW (no weight decay on biases, norms and embeddings: suite/train/optim.py), cosine learning rate with linear
warm-up (per step), gradient clipping, an optional budget in optimizer steps (`max_steps`: a CPU profile's
per-trial budget; the schedule spans the budget), and the best state (chosen on validation, never on test)
restored at the end.

Selection and early stopping read validation loss as well as the task's metric. A thresholded metric (MCC,
accuracy) sits exactly on its floor while every prediction is still one class, though the model is learning
(its loss falls); stopping on the metric alone ends such runs before they start (issue 15: findna stopped after
3 epochs at MCC 0 with the train loss falling). So an epoch is *better* when its metric is higher, or equal with a
lower validation loss; and the patience counter only runs while neither the metric nor the loss improves.
Mixed precision and torch.compile are used only on a GPU, and only when asked; on the CPU the loop is
deterministic for a given seed (and thread count).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from suite.data.batching import batch_rows, collate
from suite.errors import InvalidResult
from suite.train import cost
from suite.train.config import FitConfig
from suite.train.evaluate import SplitData, evaluate
from suite.train.optim import param_groups
from suite.train.schedules import cosine_with_warmup


@dataclass
class FitResult:
    best_epoch: int
    best_val: dict  # validation metrics of the restored state
    history: list[dict] = field(default_factory=list)  # one row per epoch
    epoch_seconds: list[float] = field(default_factory=list)
    steps: int = 0


def log_loss(labels: np.ndarray, probs: np.ndarray) -> float:
    """Mean cross-entropy of predicted class probabilities (what the loop minimises), clipped like scikit-learn."""
    picked = probs[np.arange(len(labels)), np.asarray(labels)]
    return float(-np.mean(np.log(np.clip(picked, 1e-15, 1.0)))) if len(labels) else float("nan")


def device_for(prefer: str = "auto") -> torch.device:
    if prefer == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(prefer)


def step_budget(cfg: FitConfig, n_train: int) -> tuple[int, int]:
    """(optimizer steps per epoch, total steps): the configured epochs, cut short by the budget `max_steps`."""
    steps_per_epoch = math.ceil(n_train / cfg.batch_size)
    total_steps = max(1, cfg.epochs * steps_per_epoch)
    if cfg.max_steps:
        total_steps = min(total_steps, cfg.max_steps)
    return steps_per_epoch, total_steps


def planned_epochs(cfg: FitConfig, n_train: int) -> int:
    """The epochs `fit` runs unless early stopping ends it sooner: the step budget's, not `cfg.epochs` (the quick
    profile plans 50 epochs, but 1,000 steps may be 3 of them). For the lbfgs solver an "epoch" is one C of the
    grid. Progress reports say "epoch k/N" with this N."""
    if cfg.solver == "lbfgs":
        return len({float(c) for c in cfg.l2_grid})
    steps_per_epoch, total_steps = step_budget(cfg, n_train)
    return math.ceil(total_steps / max(1, steps_per_epoch))


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
    if cfg.solver == "lbfgs":
        from suite.train.convex import fit_logistic
        return fit_logistic(model, train, val, cfg, metric, on_epoch, device)
    if cfg.solver != "adamw":
        from suite.errors import SuiteError
        raise SuiteError(f"unknown solver '{cfg.solver}'", "use solver: adamw or solver: lbfgs")
    device = device or device_for()
    model.to(device)
    on_gpu = device.type == "cuda"
    forward = torch.compile(model) if (cfg.compile and on_gpu) else model
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if (cfg.amp and on_gpu) else nullcontext()
    params = [p for p in model.parameters() if p.requires_grad]
    groups = param_groups(model, cfg.weight_decay)
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    lr_scale = [group.get("lr", cfg.lr) / cfg.lr if cfg.lr else 1.0 for group in optimizer.param_groups]
    _, total_steps = step_budget(cfg, len(train))
    schedule = cosine_with_warmup(cfg.lr, total_steps, cfg.warmup_frac)
    epochs = planned_epochs(cfg, len(train))

    result = FitResult(best_epoch=-1, best_val={})
    best, best_loss, best_state, stale, step = (-math.inf, math.inf), math.inf, None, 0, 0
    for epoch in range(epochs):
        started = cost.clock(device)
        model.train()
        losses = []
        for batch_idx in batch_rows(train.lengths, cfg.batch_size, shuffle=True, seed=cfg.seed * 100_003 + epoch,
                                    bucket=cfg.bucket):
            if step >= total_steps:  # the budget ends mid-epoch
                break
            batch = collate(train.seqs, train.labels, train.rows[batch_idx], train.tokens).to(device)
            for group, scale in zip(optimizer.param_groups, lr_scale):
                group["lr"] = float(schedule[min(step, len(schedule) - 1)]) * scale
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
        if losses and not math.isfinite(train_loss):
            raise InvalidResult(f"training diverged: the train loss is {train_loss} in epoch {epoch} (lr {cfg.lr:g})",
                                "lower lr (--set lr=...) or set grad_clip")
        result.epoch_seconds.append(cost.clock(device) - started)
        val_metrics, probs = evaluate(model, val, cfg.eval_batch_size, device)
        val_metrics["loss"] = log_loss(val.y, probs)
        row = {"epoch": epoch, "train/loss": train_loss, **{f"val/{k}": v for k, v in val_metrics.items()}}
        result.history.append(row)
        if on_epoch:
            on_epoch(epoch, row)
        score = (val_metrics[metric], -val_metrics["loss"])  # the metric first; at equal metric, lower loss
        improved = score > best or val_metrics["loss"] < best_loss
        best_loss = min(best_loss, val_metrics["loss"])
        if score > best or best_state is None:
            best = score
            best_state = copy.deepcopy({k: v.detach().cpu() for k, v in model.state_dict().items()})
            result.best_epoch, result.best_val = epoch, val_metrics
        stale = 0 if improved else stale + 1
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
