"""Validation splits and k-fold indices drawn from the training split only: stratified, seeded, deterministic.

Implemented with numpy alone (no scikit-learn) so the indices never move with a library upgrade:
within each class the rows are permuted by `default_rng(seed)` and dealt out in turn.
"""

from __future__ import annotations

import numpy as np


def _fold_of(labels: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Fold number (0..k-1) of every row; each class spread evenly over the folds."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(labels), dtype=np.int64)
    start = 0
    for cls in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == cls))
        # continue the deal where the previous class stopped, so fold sizes differ by at most one overall
        fold[rows] = (np.arange(len(rows)) + start) % k
        start = (start + len(rows)) % k
    return fold


def kfold(labels: np.ndarray, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """k stratified (train_idx, val_idx) pairs over rows of a training split; val folds partition the rows."""
    if k < 2:
        raise ValueError("k-fold needs k >= 2")
    fold = _fold_of(np.asarray(labels), k, seed)
    return [(np.flatnonzero(fold != i), np.flatnonzero(fold == i)) for i in range(k)]


def validation_split(labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train_idx, val_idx) holding out about `fraction` of each class for model selection."""
    if not 0 < fraction < 1:
        raise ValueError("validation fraction must be in (0, 1)")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    val = []
    for cls in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == cls))
        val.append(rows[: max(1, round(fraction * len(rows)))])
    val_idx = np.sort(np.concatenate(val))
    train_mask = np.ones(len(labels), dtype=bool)
    train_mask[val_idx] = False
    return np.flatnonzero(train_mask), val_idx
