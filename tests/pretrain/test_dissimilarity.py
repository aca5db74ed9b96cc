"""Eq. 10's view dissimilarity against values computed by hand on two small one-hot views."""

import math

import torch

from suite.pretrain.dissimilarity import view_dissimilarity, view_kl, view_kl_row_mean

E = math.e


def _hand_kl(p_row, q_row):
    sp, sq = sum(math.exp(a) for a in p_row), sum(math.exp(a) for a in q_row)
    return sum(math.exp(a) / sp * (a - math.log(sp) - (b - math.log(sq))) for a, b in zip(p_row, q_row))


def test_identical_views_have_zero_dissimilarity():
    u = torch.eye(5)[torch.tensor([[0, 1, 2, 3]])]
    assert abs(float(view_kl(u, u))) < 1e-12 and abs(float(view_kl_row_mean(u, u))) < 1e-12


def test_two_one_hot_views_match_the_hand_computed_values():
    u = torch.eye(5)[torch.tensor([[0, 1], [2, 3]])]  # A C / G T
    v = torch.eye(5)[torch.tensor([[0, 3], [2, 4]])]  # A T / G N: two tokens differ
    # softmax of a one-hot row: e / (e + 4) on the hot channel, 1 / (e + 4) elsewhere; for two rows hot at
    # different channels KL = (e - 1) / (e + 4) * 1 = (e - 1) / (e + 4)
    differing = (E - 1) / (E + 4)
    assert math.isclose(_hand_kl([1, 0, 0, 0, 0], [0, 1, 0, 0, 0]), differing, rel_tol=1e-12)
    assert math.isclose(float(view_kl(u, v)), 2 * differing, rel_tol=1e-6)  # summed over tokens and sequences
    assert math.isclose(float(view_kl_row_mean(u, v)), 2 * differing / 4, rel_tol=1e-6)  # averaged over 4 rows
    logged = view_dissimilarity(u, v)
    assert set(logged) == {"views/kl_eq10_sum", "views/kl_code_row_mean"}


def test_masked_rows_count_like_the_paper_says():
    u = torch.eye(5)[torch.tensor([[0, 1]])]
    v = u.clone()
    v[0, 1] = 0  # a masked token is the zero vector: its softmax is uniform
    expected = _hand_kl([0, 1, 0, 0, 0], [0, 0, 0, 0, 0])
    assert math.isclose(float(view_kl(u, v)), expected, rel_tol=1e-6)
