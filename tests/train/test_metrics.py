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
# classes missing from y_true, y_pred or both: scikit-learn's default label set is y_true ∪ y_pred
ABSENT = {
    "class_in_neither": (np.array([0, 1, 1, 0, 2, 2, 1]), np.array([0, 1, 2, 0, 2, 1, 1]), 4),
    "class_only_predicted": (np.array([0, 0, 1, 1, 0, 1]), np.array([0, 2, 1, 1, 0, 0]), 3),
    "class_only_true": (np.array([0, 2, 1, 1, 0, 2]), np.array([0, 1, 1, 1, 0, 0]), 3),
    "binary_one_class_true": (np.zeros(8, dtype=int), np.array([0, 0, 1, 0, 1, 0, 0, 0]), 2),
    # gue_covid has 9 variants; a small split can miss some: classes 2, 5 and 7 appear nowhere
    "covid_like_three_absent": (RNG.choice([0, 1, 3, 4, 6, 8], 200), RNG.choice([0, 1, 3, 4, 6, 8], 200), 9),
}


def assert_all_like_scikit_learn(y, p, c):
    assert METRICS.get("accuracy")(y, p, c) == pytest.approx(skm.accuracy_score(y, p))
    assert METRICS.get("mcc")(y, p, c) == pytest.approx(skm.matthews_corrcoef(y, p), abs=1e-12)
    expected_f1 = skm.f1_score(y, p, average="macro", zero_division=0)  # default labels: y_true ∪ y_pred
    assert METRICS.get("macro_f1")(y, p, c) == pytest.approx(expected_f1)
    assert np.array_equal(confusion(y, p, c), skm.confusion_matrix(y, p, labels=list(range(c))))


@pytest.mark.parametrize("case", list(CASES))
def test_against_scikit_learn(case):
    assert_all_like_scikit_learn(*CASES[case])


@pytest.mark.parametrize("case", list(ABSENT))
def test_absent_classes_against_scikit_learn(case):
    y, p, c = ABSENT[case]
    assert_all_like_scikit_learn(y, p, c)
    probs = np.eye(c)[p] * 0.6 + 0.4 / c  # argmax = p
    values = all_metrics(y, probs)
    assert values["macro_f1"] == pytest.approx(skm.f1_score(y, p, average="macro", zero_division=0))
    assert values["accuracy"] == pytest.approx(skm.accuracy_score(y, p))
    assert values["mcc"] == pytest.approx(skm.matthews_corrcoef(y, p), abs=1e-12)
    if c == 2 and len(np.unique(y)) == 2:
        assert values["auroc"] == pytest.approx(skm.roc_auc_score(y, probs[:, 1]))
    elif c == 2:
        assert np.isnan(values["auroc"])  # scikit-learn raises: AUROC is undefined with one class in y_true


def test_absent_classes_are_left_out_not_averaged_as_zero():
    y, p, c = ABSENT["covid_like_three_absent"]
    per_class = skm.f1_score(y, p, average=None, labels=[0, 1, 3, 4, 6, 8])
    assert METRICS.get("macro_f1")(y, p, c) == pytest.approx(per_class.mean())
    assert METRICS.get("macro_f1")(y, p, c) > per_class.sum() / 9


def test_empty_split_scores_zero():
    empty = np.array([], dtype=int)
    assert METRICS.get("macro_f1")(empty, empty, 3) == 0.0 and METRICS.get("accuracy")(empty, empty, 3) == 0.0


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
