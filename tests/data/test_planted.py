import numpy as np

from suite.data.planted import LENGTH, MOTIF, planted_motif, planted_splits


def decoded(seqs, i: int) -> str:
    return "".join("ACGTN"[c] for c in seqs.codes[seqs.offsets[i]:seqs.offsets[i + 1]])


def test_the_motif_is_in_every_positive_row_and_the_same_seed_gives_the_same_rows():
    seqs, labels = planted_motif(200, seed=5)
    again, _ = planted_motif(200, seed=5)
    assert np.array_equal(seqs.codes, again.codes)
    assert labels.tolist() == [i % 2 for i in range(200)]
    rows = [decoded(seqs, i) for i in range(200)]
    assert all(len(r) == LENGTH for r in rows)
    assert all(MOTIF in r for r, y in zip(rows, labels) if y == 1)
    assert sum(MOTIF in r for r, y in zip(rows, labels) if y == 0) <= 1  # by chance: ~0.13 % of rows


def test_the_splits_are_fixed_and_disjoint_draws():
    splits = planted_splits()
    assert {k: len(v[1]) for k, v in splits.items()} == {"train": 1200, "dev": 300, "test": 400}
    assert not np.array_equal(splits["train"][0].codes[:LENGTH], splits["test"][0].codes[:LENGTH])
