"""Classification metrics, registered by the names task cards use (`metric:`); each checked against scikit-learn.

All take integer labels and predicted class indices (AUROC takes the positive-class probability). Names carry
their averaging: `macro_f1`, never a bare `f1` (the FinDNA code's covid "F1" is micro-F1 = accuracy).
"""

from __future__ import annotations

import numpy as np

from suite.registry import Registry

METRICS: Registry = Registry("metric")


def confusion(labels: np.ndarray, preds: np.ndarray, n_classes: int) -> np.ndarray:
    """(n_classes, n_classes) counts, rows = true class, columns = predicted class."""
    return np.bincount(n_classes * np.asarray(labels) + np.asarray(preds), minlength=n_classes**2).reshape(
        n_classes, n_classes
    )


@METRICS.register("accuracy")
def accuracy(labels: np.ndarray, preds: np.ndarray, n_classes: int) -> float:
    return float(np.mean(np.asarray(labels) == np.asarray(preds))) if len(labels) else 0.0


@METRICS.register("mcc")
def mcc(labels: np.ndarray, preds: np.ndarray, n_classes: int) -> float:
    """Matthews correlation, multiclass form (Gorodkin 2004); 0 when undefined, as scikit-learn returns."""
    c = confusion(labels, preds, n_classes).astype(np.float64)
    t, p, n = c.sum(axis=1), c.sum(axis=0), c.sum()
    correct = np.trace(c)
    cov_tp = correct * n - t @ p
    cov_pp = n * n - p @ p
    cov_tt = n * n - t @ t
    denom = np.sqrt(cov_pp * cov_tt)
    return float(cov_tp / denom) if denom > 0 else 0.0


@METRICS.register("macro_f1")
def macro_f1(labels: np.ndarray, preds: np.ndarray, n_classes: int) -> float:
    """Unweighted mean of per-class F1 over the classes present in labels ∪ preds, as the field computes it.

    This is scikit-learn's `f1_score(average="macro")` with its default label set (what DNABERT-2's fine-tuning
    scripts call): a class neither in the split nor ever predicted is left out, not averaged in as a 0, so a
    split that lacks a class scores the same as the published numbers. A class only predicted, or only present,
    scores F1 = 0 (zero_division=0; its 2·TP + FP + FN is never 0). An empty split scores 0.
    """
    c = confusion(labels, preds, n_classes).astype(np.float64)
    tp = np.diag(c)
    denom = c.sum(axis=0) + c.sum(axis=1)  # 2·TP + FP + FN per class; 0 exactly when the class is absent
    seen = denom > 0
    return float((2 * tp[seen] / denom[seen]).mean()) if seen.any() else 0.0


def auroc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Binary AUROC from positive-class scores (Mann-Whitney U with average ranks for ties); NaN with one class."""
    labels = np.asarray(labels)
    pos = labels == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = np.asarray(scores)[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    # average rank of each run of tied scores
    _, starts, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = starts + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def all_metrics(labels: np.ndarray, probs: np.ndarray) -> dict[str, float]:
    """Every metric for a split: accuracy, mcc, macro_f1, and auroc for binary tasks. `probs` (N, C)."""
    n_classes = probs.shape[1]
    preds = probs.argmax(axis=1)
    values = {name: METRICS.get(name)(labels, preds, n_classes) for name in METRICS.names()}
    if n_classes == 2:
        values["auroc"] = auroc(labels, probs[:, 1])
    return values
