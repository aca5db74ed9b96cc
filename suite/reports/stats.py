"""Statistics that tell a real difference from seed noise (Demšar 2006, JMLR 7:1-30).

- Two models on one task: the Wilcoxon signed-rank test on the differences of runs paired by (seed, fold), and
  Welch's t-test on the two samples (unpaired, unequal variances). Both are two-sided and both are printed; with
  5 seeds the smallest possible Wilcoxon p is 0.0625, so Welch's is the one that can reach 0.05 there.
- Many models over many tasks: the Friedman test on the per-task ranks, then the Nemenyi critical difference
  CD = q_α √(k(k+1)/(6N)), q_α = studentized range quantile(1−α; k, ∞)/√2: two models whose mean ranks differ
  by less than CD are not significantly different (drawn as a CD diagram in plots.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from suite.errors import SuiteError


@dataclass(frozen=True)
class PairedResult:
    task: str
    a: str
    b: str
    values_a: tuple[float, ...]
    values_b: tuple[float, ...]
    n_pairs: int  # runs of a and b sharing a (seed, fold)
    wilcoxon_stat: float  # nan when it cannot be computed (fewer than one non-zero paired difference)
    wilcoxon_p: float
    welch_t: float  # nan with fewer than 2 runs on a side
    welch_p: float

    @property
    def mean_diff(self) -> float:
        return float(np.mean(self.values_a) - np.mean(self.values_b))


def paired_tests(runs: pd.DataFrame, a: str, b: str, column: str = "primary") -> list[PairedResult]:
    """Per task both entries ran: Wilcoxon over (seed, fold)-paired runs and Welch over all runs of each."""
    known = set(runs["entry"])
    for name in (a, b):
        if name not in known:
            raise SuiteError(f"no runs of '{name}' to test", f"choose from: {', '.join(sorted(known)) or 'none'}")
    results = []
    for task in dict.fromkeys(runs["task"]):
        one = runs[(runs["task"] == task) & (runs["entry"] == a)].dropna(subset=[column])
        two = runs[(runs["task"] == task) & (runs["entry"] == b)].dropna(subset=[column])
        if one.empty or two.empty:
            continue
        pairs = one.merge(two, on=["seed", "fold"], suffixes=("_a", "_b"))
        w_stat, w_p = wilcoxon(pairs[f"{column}_a"].to_numpy(), pairs[f"{column}_b"].to_numpy())
        t_stat, t_p = welch(one[column].to_numpy(), two[column].to_numpy())
        results.append(PairedResult(task, a, b, tuple(one[column]), tuple(two[column]), len(pairs),
                                    w_stat, w_p, t_stat, t_p))
    return results


def wilcoxon(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Two-sided Wilcoxon signed-rank on x − y (zero differences dropped, scipy's default); nan when none remain."""
    if len(x) == 0 or not np.any(x - y):
        return math.nan, math.nan
    result = stats.wilcoxon(x, y, alternative="two-sided")
    return float(result.statistic), float(result.pvalue)


def welch(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Two-sided Welch's t-test; nan with fewer than 2 values on a side or no variance at all."""
    if len(x) < 2 or len(y) < 2 or (np.var(x) == 0 and np.var(y) == 0):
        return math.nan, math.nan
    result = stats.ttest_ind(x, y, equal_var=False)
    return float(result.statistic), float(result.pvalue)


def rank_matrix(scores: pd.DataFrame, higher_is_better: bool = True) -> pd.DataFrame:
    """Tasks × models → the rank of each model within its task (1 = best, ties averaged, missing stay NaN)."""
    return scores.rank(axis=1, ascending=not higher_is_better, method="average")


@dataclass(frozen=True)
class FriedmanResult:
    statistic: float
    p: float
    n_tasks: int
    mean_ranks: dict[str, float]  # over the complete tasks only, best first
    cd: float
    alpha: float


def nemenyi_cd(k: int, n: int, alpha: float = 0.05) -> float:
    """Critical difference of mean ranks for k models over n tasks (Demšar 2006, eq. after Table 5)."""
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6 * n)))


def friedman(scores: pd.DataFrame, alpha: float = 0.05) -> FriedmanResult:
    """Friedman test over the tasks on which every model has a score (rows = tasks, columns = models)."""
    complete = scores.dropna(axis=0, how="any")
    k, n = complete.shape[1], complete.shape[0]
    if k < 3 or n < 2:
        raise SuiteError(f"Friedman test needs at least 3 models on at least 2 shared tasks (have {k} models, "
                         f"{n} shared tasks)", "run more models on the same tasks or pass fewer --models")
    result = stats.friedmanchisquare(*(complete[c].to_numpy() for c in complete.columns))
    ranks = rank_matrix(complete).mean(axis=0).sort_values()
    return FriedmanResult(float(result.statistic), float(result.pvalue), n, {str(k_): float(v) for k_, v in
                                                                            ranks.items()}, nemenyi_cd(k, n, alpha), alpha)
