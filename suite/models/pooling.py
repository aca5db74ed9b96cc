"""Pooling: backbone outputs → one vector per sequence (paper §3.4: "V and/or Q").

Each pooling takes tokens (B, L, E) (zero at padding), cls (B, K, E) and mask (B, L) and returns (B, D); which of
them a backbone can feed is its declaration's to say (suite/models/contract.py, checked before it runs).
`POOLED_WIDTH[name](E)` gives D. The authors' downstream code used the mean over all L positions *including*
padding (findna-facts §5.1); `mean` here averages real positions only, so a sequence's embedding does not depend
on how long the other sequences of its batch are.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from suite.registry import Registry

POOLINGS: Registry[Callable[[Tensor, Tensor, Tensor], Tensor]] = Registry("pooling")
POOLED_WIDTH: dict[str, Callable[[int], int]] = {}


@POOLINGS.register("cls_mean")
def cls_mean(tokens: Tensor, cls: Tensor, mask: Tensor) -> Tensor:
    """Mean of the K [CLS] outputs Q (paper §3.4)."""
    return cls.mean(dim=1)


@POOLINGS.register("mean")
def masked_mean(tokens: Tensor, cls: Tensor, mask: Tensor) -> Tensor:
    """Mean of the token outputs V over real positions only."""
    weights = mask.to(tokens.dtype)[..., None]
    return (tokens * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)


@POOLINGS.register("max")
def masked_max(tokens: Tensor, cls: Tensor, mask: Tensor) -> Tensor:
    """Channel-wise maximum of the token outputs V over real positions only: a motif anywhere in the sequence
    excites its detector's channel wherever it sits (DeepBind's global max pooling), where a mean over L
    positions dilutes one occurrence by 1/L."""
    filled = tokens.masked_fill(~mask[..., None].bool(), float("-inf"))
    return filled.amax(dim=1).nan_to_num(neginf=0.0)


@POOLINGS.register("mean_max")
def mean_max(tokens: Tensor, cls: Tensor, mask: Tensor) -> Tensor:
    """[mean(V), max(V)] over real positions concatenated: the average composition and the strongest local hit."""
    return torch.cat([masked_mean(tokens, cls, mask), masked_max(tokens, cls, mask)], dim=-1)


@POOLINGS.register("cls_and_mean")
def cls_and_mean(tokens: Tensor, cls: Tensor, mask: Tensor) -> Tensor:
    """[mean(Q), mean(V)] concatenated (paper §3.4, "V and Q")."""
    return torch.cat([cls_mean(tokens, cls, mask), masked_mean(tokens, cls, mask)], dim=-1)


@POOLINGS.register("cls_and_max")
def cls_and_max(tokens: Tensor, cls: Tensor, mask: Tensor) -> Tensor:
    """[mean(Q), max(V)] concatenated: the [CLS] summary (which keeps where things are, e.g. a TATA box at a fixed
    distance from the TSS) beside the strongest local hit wherever it sits (a TF motif)."""
    return torch.cat([cls_mean(tokens, cls, mask), masked_max(tokens, cls, mask)], dim=-1)


POOLED_WIDTH.update({"cls_mean": lambda e: e, "mean": lambda e: e, "max": lambda e: e, "mean_max": lambda e: 2 * e,
                     "cls_and_mean": lambda e: 2 * e, "cls_and_max": lambda e: 2 * e})
