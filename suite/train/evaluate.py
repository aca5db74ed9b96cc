"""Predictions and metrics on one split (used per epoch on validation, and once on test)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from suite.data.batching import SequenceBatch, batch_rows, collate
from suite.data.encode import EncodedSequences
from suite.models.classifier import PooledBatch
from suite.train.metrics import all_metrics

if TYPE_CHECKING:
    from suite.data.cache import TokenIds


@dataclass(frozen=True)
class SplitData:
    """The rows of one encoded split that a trial uses (a fold of train, dev, or test). With `vectors` (probe
    mode: the frozen backbone's pooled vectors of the whole split, suite/train/embeddings.py), batches are those
    vectors and the model runs its head only."""

    seqs: EncodedSequences
    labels: np.ndarray  # labels of the whole encoded split
    rows: np.ndarray  # which rows of it
    vectors: np.ndarray | None = None  # (rows of the whole split, D) pooled vectors, or None: embed the sequences
    tokens: TokenIds | None = None  # a wrapped model's token ids of the whole split (suite/data/cache.py load_tokens)

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def lengths(self) -> np.ndarray:
        return self.seqs.lengths[self.rows]

    @property
    def y(self) -> np.ndarray:
        return self.labels[self.rows]

    def batch(self, positions: np.ndarray) -> SequenceBatch | PooledBatch:
        """The batch of rows[positions]: its padded sequences, or its pooled vectors when they are known."""
        rows = self.rows[positions]
        if self.vectors is None:
            return collate(self.seqs, self.labels, rows, self.tokens)
        return PooledBatch(torch.from_numpy(np.asarray(self.vectors[rows])),
                           torch.from_numpy(np.asarray(self.labels)[rows].astype(np.int64)))


@torch.no_grad()
def predict(model: torch.nn.Module, data: SplitData, batch_size: int, device: torch.device) -> np.ndarray:
    """Class probabilities (N, C) in the order of data.rows; batches sorted by length to pad little."""
    was_training = model.training
    model.eval()
    order = np.argsort(data.lengths, kind="stable")
    probs = np.empty((len(data), model.n_classes), dtype=np.float32)
    for batch_idx in batch_rows(data.lengths[order], batch_size, shuffle=False):
        positions = order[batch_idx]
        batch = data.batch(positions).to(device)
        probs[positions] = torch.softmax(model(batch).float(), dim=-1).cpu().numpy()
    model.train(was_training)
    return probs


def evaluate(model: torch.nn.Module, data: SplitData, batch_size: int, device: torch.device) -> tuple[dict, np.ndarray]:
    """(metrics, probabilities) on one split."""
    probs = predict(model, data, batch_size, device)
    return all_metrics(data.y, probs), probs
