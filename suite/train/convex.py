"""Convex training of a linear head: L2-regularised logistic regression fitted to convergence (`solver: lbfgs`).

`fit` (suite/train/loop.py) hands a FitConfig with solver "lbfgs" here. The backbone is a fixed feature map
(k-mer counts, or any frozen encoder: then this is an exact linear probe): its pooled vectors (`model.embed`) are
computed once for train and validation, scikit-learn's LogisticRegression (lbfgs, L2, intercept not penalised;
multinomial for more than 2 classes) is fitted for every C of `cfg.l2_grid`, each fit is scored on validation by
the task's metric, and the best C (ties → the smaller C, the stronger penalty) is copied exactly into the
classifier's linear head, so the model's own forward gives scikit-learn's predict_proba. Nothing is trained by
gradient steps, so lr, epochs, warm-up, patience and weight_decay do not apply; batch_size is the number of train
rows per forward pass while computing the features.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from suite.data.batching import batch_rows, collate
from suite.errors import SuiteError
from suite.models.heads import final_linear
from suite.train import cost
from suite.train.config import FitConfig
from suite.train.evaluate import SplitData, evaluate
from suite.train.loop import FitResult, device_for
from suite.train.metrics import all_metrics

MAX_ITER = 20_000  # lbfgs iterations per C: far above what any GUE task needs (a non-converged fit warns)
TOL = 1e-4  # scikit-learn's default gradient tolerance


def logistic_regression(C: float):
    """The estimator fitted for one C (the tests fit the same one directly)."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, solver="lbfgs", max_iter=MAX_ITER, tol=TOL)  # L2 is the default penalty


def linear_layer(model: nn.Module) -> nn.Linear:
    """The head's one nn.Linear (a Dropout may precede it); a head with hidden layers is not a linear model."""
    n_linear = sum(isinstance(m, nn.Linear) for m in model.head.modules())
    if n_linear != 1:
        raise SuiteError(f"solver lbfgs fits a linear head, but this head has {n_linear} Linear layers",
                         "use head: linear with solver: lbfgs, or solver: adamw")
    return final_linear(model.head)


@torch.no_grad()
def features(model: nn.Module, data: SplitData, batch_size: int, device: torch.device):
    """The pooled vectors (N, D) of `data` in row order: a scipy CSR matrix when the backbone says its features
    are sparse (`sparse_features = True`, k-mer counts), else a float32 array. Batches are sorted by length so
    they pad little."""
    import scipy.sparse as sp

    was_training = model.training
    model.eval()
    order = np.argsort(data.lengths, kind="stable")
    blocks, sparse = [], bool(getattr(model.backbone, "sparse_features", False))
    for batch_idx in batch_rows(data.lengths[order], batch_size, shuffle=False):
        batch = collate(data.seqs, data.labels, data.rows[order[batch_idx]], data.tokens).to(device)
        vectors = model.embed(batch).float()
        if sparse:
            idx = vectors.nonzero()
            rows, cols = idx[:, 0], idx[:, 1]
            indptr = torch.zeros(len(vectors) + 1, dtype=torch.int64, device=vectors.device)
            indptr[1:] = torch.bincount(rows, minlength=len(vectors)).cumsum(0)
            blocks.append(sp.csr_matrix((vectors[rows, cols].cpu().numpy(), cols.cpu().numpy(), indptr.cpu().numpy()),
                                        shape=tuple(vectors.shape)))
        else:
            blocks.append(vectors.cpu().numpy())
    model.train(was_training)
    back = np.argsort(order, kind="stable")  # sorted position of each row
    if sparse:
        return sp.vstack(blocks, format="csr")[back]
    return np.concatenate(blocks)[back]


def fit_logistic(
    model: nn.Module,
    train: SplitData,
    val: SplitData,
    cfg: FitConfig,
    metric: str,
    on_epoch: Callable[[int, dict], None] | None = None,
    device: torch.device | None = None,
) -> FitResult:
    """Fit the head as L2 logistic regression for each C of cfg.l2_grid, keep the C best on `val` by `metric`.

    History: one row per C tried, ascending ({"epoch": i, "l2_C": C, "train/loss": log-loss on train,
    "val/<metric>": …, "lbfgs_iter": …, "converged": 0/1}); best_epoch is the row of the chosen C, best_val the
    validation metrics of the model as left (`evaluate`), steps the lbfgs iterations over all C.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.metrics import log_loss

    if cfg.solver != "lbfgs":
        raise SuiteError(f"fit_logistic runs solver lbfgs, not '{cfg.solver}'", "set solver: lbfgs")
    grid = sorted({float(c) for c in cfg.l2_grid})
    if not grid or min(grid) <= 0:
        raise SuiteError(f"l2_grid {list(cfg.l2_grid)} must hold positive C values", "e.g. l2_grid: [0.001, 0.01, 0.1, 1.0]")
    if cfg.batch_size < 1:
        raise SuiteError(f"batch_size {cfg.batch_size} cannot form a batch", "use batch_size >= 1")
    head = linear_layer(model)
    device = device or device_for()
    model.to(device)
    n_classes = model.n_classes
    y_train, y_val = train.y, val.y
    present = np.unique(y_train)
    if len(present) < 2:
        raise SuiteError(f"the training rows hold one class only ({present.tolist()})", "use more training rows")

    x_train = features(model, train, cfg.batch_size, device)
    x_val = features(model, val, cfg.eval_batch_size, device)
    result = FitResult(best_epoch=-1, best_val={})
    best_score, best = -np.inf, None
    for i, C in enumerate(grid):
        started = cost.clock()
        clf = logistic_regression(C)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # reported below, with the C and the task's rows
            clf.fit(x_train, y_train)
        n_iter = int(np.max(clf.n_iter_))
        converged = n_iter < MAX_ITER
        if not converged:
            warnings.warn(f"lbfgs did not converge for C = {C:g} in {MAX_ITER} iterations "
                          f"({len(y_train)} rows × {x_train.shape[1]} features); its coefficients are approximate",
                          stacklevel=2)
        val_metrics = all_metrics(y_val, _all_classes(clf, clf.predict_proba(x_val), n_classes))
        train_loss = log_loss(y_train, clf.predict_proba(x_train), labels=clf.classes_)
        result.epoch_seconds.append(cost.clock() - started)
        result.steps += n_iter
        row = {"epoch": i, "l2_C": C, "train/loss": float(train_loss), **{f"val/{k}": v for k, v in val_metrics.items()},
               "lbfgs_iter": n_iter, "converged": int(converged)}
        result.history.append(row)
        if on_epoch:
            on_epoch(i, row)
        if val_metrics[metric] > best_score or best is None:  # strictly better: ties keep the smaller C
            best_score, best, result.best_epoch = val_metrics[metric], clf, i
    copy_into_head(best, head, n_classes)
    result.best_val, _ = evaluate(model, val, cfg.eval_batch_size, device)
    return result


def _all_classes(clf, probs: np.ndarray, n_classes: int) -> np.ndarray:
    """predict_proba over clf.classes_ spread to all n_classes columns (a class absent from train gets 0)."""
    full = np.zeros((len(probs), n_classes), dtype=probs.dtype)
    full[:, clf.classes_] = probs
    return full


@torch.no_grad()
def copy_into_head(clf, head: nn.Linear, n_classes: int) -> None:
    """scikit-learn's coefficients as the head's weights, so softmax(head(x)) = clf.predict_proba(x).

    Two classes a < b: sklearn's one row (w, b) is the logit of b against a, and softmax([0, z]) = [1 - σ(z), σ(z)],
    so row a is zero and row b is (w, b). More classes: one row per class (multinomial). A class absent from
    the training rows gets a bias of -1e4 (probability 0)."""
    coef = torch.as_tensor(clf.coef_, dtype=head.weight.dtype)
    intercept = torch.as_tensor(clf.intercept_, dtype=head.bias.dtype)
    classes = torch.as_tensor(clf.classes_, dtype=torch.long)
    if coef.shape[1] != head.in_features or int(classes.max()) >= n_classes:
        raise SuiteError(f"fitted coefficients {tuple(coef.shape)} do not fit the head {tuple(head.weight.shape)}",
                         "the features and labels must come from the same model and task")
    weight = torch.zeros(n_classes, head.in_features, dtype=head.weight.dtype)
    bias = torch.full((n_classes,), -1e4, dtype=head.bias.dtype)
    bias[classes] = 0.0
    if len(classes) == 2:
        weight[classes[1]], bias[classes[1]] = coef[0], intercept[0]
    else:
        weight[classes], bias[classes] = coef, intercept
    head.weight.copy_(weight.to(head.weight.device))
    head.bias.copy_(bias.to(head.bias.device))
