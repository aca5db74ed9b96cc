import numpy as np
import pytest

from suite.data.splits import kfold, validation_split

LABELS = np.array([0] * 70 + [1] * 30 + [2] * 13)


def test_validation_split_is_deterministic_and_seed_dependent():
    a = validation_split(LABELS, 0.1, seed=3)
    b = validation_split(LABELS, 0.1, seed=3)
    c = validation_split(LABELS, 0.1, seed=4)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[1], c[1])


def test_validation_split_is_stratified_and_disjoint():
    train, val = validation_split(LABELS, 0.2, seed=0)
    assert np.intersect1d(train, val).size == 0
    assert len(train) + len(val) == len(LABELS)
    assert np.bincount(LABELS[val]).tolist() == [14, 6, 3]


def test_kfold_partitions_the_rows_and_stratifies():
    folds = kfold(LABELS, 5, seed=1)
    vals = np.concatenate([v for _, v in folds])
    assert np.array_equal(np.sort(vals), np.arange(len(LABELS)))
    for train, val in folds:
        assert np.intersect1d(train, val).size == 0
        per_class = np.bincount(LABELS[val], minlength=3)
        assert per_class[0] == 14 and per_class[1] == 6 and per_class[2] in (2, 3)
    sizes = [len(v) for _, v in folds]
    assert max(sizes) - min(sizes) <= 1


def test_kfold_is_deterministic():
    a, b = kfold(LABELS, 3, seed=7), kfold(LABELS, 3, seed=7)
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b))


def test_bad_arguments():
    with pytest.raises(ValueError):
        kfold(LABELS, 1, 0)
    with pytest.raises(ValueError):
        validation_split(LABELS, 1.5, 0)
