import numpy as np
import torch

from suite.data.batching import batch_rows, collate
from suite.data.encode import PAD, encode


def test_collate_pads_per_batch_and_keeps_true_lengths():
    seqs = encode(["ACGT", "AC", "GGGGGG"])
    labels = np.array([0, 1, 0])
    batch = collate(seqs, labels, np.array([0, 1]))
    assert batch.codes.shape == (2, 4)  # the batch's own longest, not the split's
    assert batch.lengths.tolist() == [4, 2]
    assert batch.codes[1].tolist() == [0, 1, PAD, PAD]
    assert batch.mask.tolist() == [[True] * 4, [True, True, False, False]]
    one_hot = batch.one_hot
    assert one_hot.shape == (2, 4, 5) and one_hot.dtype == torch.float32
    assert one_hot[1, 2:].abs().sum() == 0 and one_hot[0].sum() == 4
    assert batch.labels.tolist() == [0, 1]


def test_batch_rows_cover_every_row_once():
    lengths = np.random.default_rng(0).integers(10, 500, size=1000)
    for bucket in (False, True):
        batches = batch_rows(lengths, 32, shuffle=True, seed=1, bucket=bucket)
        rows = np.concatenate(batches)
        assert np.array_equal(np.sort(rows), np.arange(1000))


def test_length_buckets_reduce_padding():
    lengths = np.random.default_rng(0).integers(10, 500, size=3200)

    def padding(batches):
        return sum(lengths[b].max() * len(b) - lengths[b].sum() for b in batches)

    plain = batch_rows(lengths, 32, shuffle=True, seed=1)
    bucketed = batch_rows(lengths, 32, shuffle=True, seed=1, bucket=True)
    assert padding(bucketed) < padding(plain) / 4


def test_batch_rows_is_seeded_and_can_drop_last():
    lengths = np.ones(10, dtype=int)
    assert [b.tolist() for b in batch_rows(lengths, 3, True, seed=2)] == [
        b.tolist() for b in batch_rows(lengths, 3, True, seed=2)
    ]
    assert len(batch_rows(lengths, 3, False, drop_last=True)) == 3
    assert batch_rows(lengths, 3, False)[0].tolist() == [0, 1, 2]
