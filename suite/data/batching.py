"""Batches for the models: pad per batch (never to a global length), keep true lengths, optional length buckets.

A batch is a `SequenceBatch`: one-hot (B, L, 5) float with zero vectors at padded positions, the true lengths
(B,), a boolean mask (B, L) that is True at real positions, the codes (B, L) uint8 with PAD beyond each length,
and the labels. Token-level encodings (k-mers, BPE) for wrapped models plug in behind the same dataset.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from suite.data.encode import ONE_HOT, PAD, EncodedSequences

_ONE_HOT = torch.from_numpy(ONE_HOT)


@dataclass
class SequenceBatch:
    codes: torch.Tensor  # (B, L) uint8, PAD beyond each length
    lengths: torch.Tensor  # (B,) int64
    labels: torch.Tensor  # (B,) int64

    @property
    def mask(self) -> torch.Tensor:
        """(B, L) bool, True at real positions."""
        positions = torch.arange(self.codes.shape[1], device=self.codes.device)
        return positions[None, :] < self.lengths[:, None]

    @property
    def one_hot(self) -> torch.Tensor:
        """(B, L, 5) float32 over A, C, G, T, N; padded positions are zero vectors."""
        return _ONE_HOT.to(self.codes.device)[self.codes.long()]

    def to(self, device: torch.device | str) -> SequenceBatch:
        return SequenceBatch(self.codes.to(device), self.lengths.to(device), self.labels.to(device))

    def __len__(self) -> int:
        return len(self.lengths)


def collate(seqs: EncodedSequences, labels: np.ndarray, rows: np.ndarray) -> SequenceBatch:
    """The batch of `rows`, padded to its own longest sequence (vectorised gather, no per-base loop)."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = seqs.offsets[rows]
    lengths = seqs.offsets[rows + 1] - starts
    width = int(lengths.max()) if len(rows) else 0
    positions = np.arange(width)
    real = positions[None, :] < lengths[:, None]
    index = np.where(real, starts[:, None] + positions[None, :], 0)
    codes = np.where(real, np.asarray(seqs.codes)[index], PAD).astype(np.uint8)
    return SequenceBatch(
        codes=torch.from_numpy(codes),
        lengths=torch.from_numpy(lengths.astype(np.int64)),
        labels=torch.from_numpy(np.asarray(labels)[rows].astype(np.int64)),
    )


def batch_rows(
    lengths: np.ndarray, batch_size: int, shuffle: bool, seed: int = 0, bucket: bool = False, drop_last: bool = False
) -> list[np.ndarray]:
    """Row indices of each batch. `bucket`: sort rows by length within windows of 50 batches so batches pad
    little, then shuffle the batch order (lengths vary within a window only)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(lengths)) if shuffle else np.arange(len(lengths))
    if bucket:
        window = batch_size * 50
        order = np.concatenate(
            [chunk[np.argsort(lengths[chunk], kind="stable")] for chunk in np.split(order, range(window, len(order), window))]
        ) if len(order) else order
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if drop_last and batches and len(batches[-1]) < batch_size:
        batches.pop()
    if bucket and shuffle:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches

