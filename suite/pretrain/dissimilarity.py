"""How different the two augmented views are (paper Eq. 10, Table 4's "KL" column).

Eq. 10: each token's 5 input channels go through a softmax, then KL(ũ ‖ ṽ) between the student view u and the
teacher view v is summed over tokens and sequences. The authors' released code (a commented block of
contrastive_pretraining.py, findna-facts §3) instead flattens both views to rows of 5, softmaxes each row and
takes torch's kl_div(log teacher, student, reduction="batchmean"): KL(student ‖ teacher) *averaged* per row,
which is what gives the paper's small values (0.025-0.175). Both are here, named for what they are.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def view_kl(u: Tensor, v: Tensor) -> Tensor:
    """Eq. 10: sum over sequences and tokens of KL(softmax(u_t) ‖ softmax(v_t)); u, v (B, L, 5)."""
    log_p, log_q = F.log_softmax(u.double(), dim=-1), F.log_softmax(v.double(), dim=-1)  # float64: sums of many small terms
    return (log_p.exp() * (log_p - log_q)).sum()


def view_kl_row_mean(u: Tensor, v: Tensor) -> Tensor:
    """The released code's variant: KL(softmax(u) ‖ softmax(v)) per token row of 5, averaged over all rows."""
    rows_u, rows_v = u.double().reshape(-1, u.shape[-1]), v.double().reshape(-1, v.shape[-1])
    return F.kl_div(F.log_softmax(rows_v, dim=-1), F.softmax(rows_u, dim=-1), reduction="batchmean")


@torch.no_grad()
def view_dissimilarity(u: Tensor, v: Tensor) -> dict[str, float]:
    """Both measures, for logging on a pretraining run (keys say which is which)."""
    return {"views/kl_eq10_sum": float(view_kl(u, v)), "views/kl_code_row_mean": float(view_kl_row_mean(u, v))}
