"""Our metrics against scikit-learn on fixed predictions."""

import numpy as np
import pytest
from sklearn import metrics as skm

from suite.train.metrics import METRICS, all_metrics, auroc, confusion

RNG = np.random.default_rng(42)
CASES = {
    "binary": (RNG.integers(0, 2, 500), RNG.integers(0, 2, 500), 2),
    "three_classes": (RNG.integers(0, 3, 400), RNG.integers(0, 3, 400), 3),
    "nine_imbalanced": (RNG.choice(9, 300, p=[0.5] + [0.0625] * 8), RNG.integers(0, 9, 300), 9),
    "constant_prediction": (RNG.integers(0, 2, 50), np.zeros(50, dtype=int), 2),
    "perfect": (np.array([0, 1, 2, 1]), np.array([0, 1, 2, 1]), 3),
}


@pytest.mark.parametrize("case", list(CASES))
def test_against_scikit_learn(case):
    y, p, c = CASES[case]
    assert METRICS.get("accuracy")(y, p, c) == pytest.approx(skm.accuracy_score(y, p))
    assert METRICS.get("mcc")(y, p, c) == pytest.approx(skm.matthews_corrcoef(y, p), abs=1e-12)
    expected_f1 = skm.f1_score(y, p, average="macro", labels=list(range(c)), zero_division=0)
    assert METRICS.get("macro_f1")(y, p, c) == pytest.approx(expected_f1)
    assert np.array_equal(confusion(y, p, c), skm.confusion_matrix(y, p, labels=list(range(c))))


def test_auroc_against_scikit_learn_with_ties():
    y = RNG.integers(0, 2, 1000)
    scores = np.round(RNG.random(1000) * 0.5 + 0.3 * y, 2)  # rounding makes many ties
    assert auroc(y, scores) == pytest.approx(skm.roc_auc_score(y, scores))
    assert np.isnan(auroc(np.zeros(5, dtype=int), RNG.random(5)))


def test_all_metrics_adds_auroc_only_for_binary():
    probs = RNG.dirichlet([1, 1], 100)
    assert set(all_metrics(RNG.integers(0, 2, 100), probs)) == {"accuracy", "mcc", "macro_f1", "auroc"}
    assert "auroc" not in all_metrics(RNG.integers(0, 3, 100), RNG.dirichlet([1, 1, 1], 100))


def test_every_card_metric_is_registered():
    from suite.tasks import all_tasks

    assert {t.metric for t in all_tasks().values()} <= set(METRICS.names())
