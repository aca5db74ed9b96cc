"""Predictions and metrics on one split (used per epoch on validation, and once on test)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from suite.data.batching import batch_rows, collate
from suite.data.encode import EncodedSequences
from suite.train.metrics import all_metrics

if TYPE_CHECKING:
    from suite.data.cache import TokenIds


@dataclass(frozen=True)
class SplitData:
    """The rows of one encoded split that a trial uses (a fold of train, dev, or test)."""

    seqs: EncodedSequences
    labels: np.ndarray  # labels of the whole encoded split
    rows: np.ndarray  # which rows of it
    tokens: TokenIds | None = None  # a wrapped model's token ids of the whole split (suite/data/cache.py load_tokens)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def lengths(self) -> np.ndarray:
        return self.seqs.lengths[self.rows]

    @property
    def y(self) -> np.ndarray:
        return self.labels[self.rows]


@torch.no_grad()
def predict(model: torch.nn.Module, data: SplitData, batch_size: int, device: torch.device) -> np.ndarray:
    """Class probabilities (N, C) in the order of data.rows; batches sorted by length to pad little."""
    was_training = model.training
    model.eval()
    order = np.argsort(data.lengths, kind="stable")
    probs = np.empty((len(data), model.n_classes), dtype=np.float32)
    for batch_idx in batch_rows(data.lengths[order], batch_size, shuffle=False):
        positions = order[batch_idx]
        batch = collate(data.seqs, data.labels, data.rows[positions], data.tokens).to(device)
        probs[positions] = torch.softmax(model(batch).float(), dim=-1).cpu().numpy()
    model.train(was_training)
    return probs


def evaluate(model: torch.nn.Module, data: SplitData, batch_size: int, device: torch.device) -> tuple[dict, np.ndarray]:
    """(metrics, probabilities) on one split."""
    probs = predict(model, data, batch_size, device)
    return all_metrics(data.y, probs), probs
