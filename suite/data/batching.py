"""Batches for the models: pad per batch (never to a global length), keep true lengths, optional length buckets.

A batch is a `SequenceBatch`: one-hot (B, L, 5) float with zero vectors at padded positions, the true lengths
(B,), a boolean mask (B, L) that is True at real positions, the codes (B, L) uint8 with PAD beyond each length,
and the labels. For a wrapped model (DNABERT, NT, …) it also carries the split's cached token ids of its rows
(`token_ids` (B, T) int64, 0 beyond each row's `token_lengths`), gathered from the token cache
(suite/data/cache.py `load_tokens`) the same way as the codes, so the model never tokenizes during training.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

from suite.data.encode import ONE_HOT, PAD, EncodedSequences

if TYPE_CHECKING:
    from suite.data.cache import TokenIds

_ONE_HOT = torch.from_numpy(ONE_HOT)


@dataclass
class SequenceBatch:
    codes: torch.Tensor  # (B, L) uint8, PAD beyond each length
    lengths: torch.Tensor  # (B,) int64
    labels: torch.Tensor  # (B,) int64
    token_ids: torch.Tensor | None = None  # (B, T) int64 cached token ids of a wrapped model, 0 beyond token_lengths
    token_lengths: torch.Tensor | None = None  # (B,) int64

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
        moved = [None if t is None else t.to(device) for t in (self.token_ids, self.token_lengths)]
        return SequenceBatch(self.codes.to(device), self.lengths.to(device), self.labels.to(device), *moved)

    def __len__(self) -> int:
        return len(self.lengths)


def gather_rows(values: np.ndarray, offsets: np.ndarray, rows: np.ndarray, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """(padded (len(rows), longest), lengths) of ragged `values` (row i = values[offsets[i]:offsets[i + 1]]), padded
    with `pad` to the longest of these rows (vectorised gather, no per-element loop). Codes and token ids both."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    width = int(lengths.max()) if len(rows) else 0
    positions = np.arange(width)
    real = positions[None, :] < lengths[:, None]
    index = np.where(real, starts[:, None] + positions[None, :], 0)
    taken = np.asarray(values)[index] if len(values) else np.zeros(index.shape, dtype=np.asarray(values).dtype)
    return np.where(real, taken, pad), lengths


def collate(seqs: EncodedSequences, labels: np.ndarray, rows: np.ndarray, tokens: TokenIds | None = None
            ) -> SequenceBatch:
    """The batch of `rows`, padded to its own longest sequence; with `tokens` (a wrapped model's cached ids of the
    same split) the batch also carries those rows' token ids, padded to their own longest."""
    rows = np.asarray(rows, dtype=np.int64)
    codes, lengths = gather_rows(seqs.codes, seqs.offsets, rows, PAD)
    batch = SequenceBatch(
        codes=torch.from_numpy(codes.astype(np.uint8)),
        lengths=torch.from_numpy(lengths.astype(np.int64)),
        labels=torch.from_numpy(np.asarray(labels)[rows].astype(np.int64)),
    )
    if tokens is not None:
        ids, counts = gather_rows(tokens.ids, tokens.offsets, rows, 0)
        batch.token_ids = torch.from_numpy(ids.astype(np.int64))
        batch.token_lengths = torch.from_numpy(counts.astype(np.int64))
    return batch


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

