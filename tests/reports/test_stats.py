"""Paired tests, Friedman and the Nemenyi critical difference against scipy and Demšar (2006) on known data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sp

from suite.errors import SuiteError
from suite.reports import stats


def runs_frame(values: dict[str, list[float]], task: str = "t") -> pd.DataFrame:
    return pd.DataFrame([{"entry": entry, "task": task, "seed": str(seed), "fold": "", "primary": v}
                         for entry, vs in values.items() for seed, v in enumerate(vs)])


def test_paired_tests_match_scipy_and_pair_by_seed():
    a = [0.81, 0.83, 0.80, 0.86, 0.84, 0.82]
    b = [0.79, 0.80, 0.81, 0.78, 0.80, 0.77]
    frame = runs_frame({"a": a, "b": b})
    frame = frame.iloc[::-1].reset_index(drop=True)  # order must not matter: pairs are matched on seed
    (result,) = stats.paired_tests(frame, "a", "b")
    expected_w = sp.wilcoxon(a, b)
    expected_t = sp.ttest_ind(a, b, equal_var=False)
    assert result.n_pairs == 6
    assert result.wilcoxon_stat == pytest.approx(expected_w.statistic)
    assert result.wilcoxon_p == pytest.approx(expected_w.pvalue)
    assert result.welch_t == pytest.approx(expected_t.statistic)
    assert result.welch_p == pytest.approx(expected_t.pvalue)
    assert result.mean_diff == pytest.approx(np.mean(a) - np.mean(b))


def test_only_shared_seeds_are_paired_and_degenerate_cases_are_nan():
    frame = pd.concat([runs_frame({"a": [0.5, 0.6, 0.7]}), runs_frame({"b": [0.5, 0.6]})])
    (result,) = stats.paired_tests(frame, "a", "b")
    assert result.n_pairs == 2
    assert math.isnan(result.wilcoxon_p)  # both paired differences are zero
    assert result.welch_p == pytest.approx(sp.ttest_ind([0.5, 0.6, 0.7], [0.5, 0.6], equal_var=False).pvalue)
    (single,) = stats.paired_tests(runs_frame({"a": [0.5], "b": [0.4]}), "a", "b")
    assert math.isnan(single.welch_t)
    with pytest.raises(SuiteError, match="no runs of 'c'"):
        stats.paired_tests(frame, "a", "c")


def test_friedman_matches_scipy_and_ranks_average_ties():
    scores = pd.DataFrame({"x": [0.9, 0.8, 0.85, 0.7], "y": [0.8, 0.8, 0.75, 0.6], "z": [0.7, 0.6, 0.65, 0.65],
                           "w": [0.6, 0.5, np.nan, 0.5]}, index=["t1", "t2", "t3", "t4"])
    ranks = stats.rank_matrix(scores)
    assert ranks.loc["t2", "x"] == 1.5 and ranks.loc["t2", "y"] == 1.5 and np.isnan(ranks.loc["t3", "w"])
    result = stats.friedman(scores)
    complete = scores.drop(index="t3")  # only tasks every model has
    expected = sp.friedmanchisquare(*(complete[c] for c in complete))
    assert result.n_tasks == 3
    assert result.statistic == pytest.approx(expected.statistic) and result.p == pytest.approx(expected.pvalue)
    assert list(result.mean_ranks) == ["x", "y", "z", "w"]
    assert result.mean_ranks["x"] == pytest.approx((1 + 1.5 + 1) / 3)
    assert result.cd == pytest.approx(stats.nemenyi_cd(4, 3))
    with pytest.raises(SuiteError, match="at least 3 models"):
        stats.friedman(scores[["x", "y"]])


@pytest.mark.parametrize("k,q", [(2, 1.960), (3, 2.343), (4, 2.569), (5, 2.728), (6, 2.850), (8, 3.031), (10, 3.164)])
def test_nemenyi_cd_uses_demsar_critical_values(k, q):
    n = 20
    assert stats.nemenyi_cd(k, n) == pytest.approx(q * math.sqrt(k * (k + 1) / (6 * n)), rel=1e-3)
