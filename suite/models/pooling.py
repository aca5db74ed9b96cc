"""Pooling: backbone outputs → one vector per sequence (paper §3.4: "V and/or Q").

Each pooling takes tokens (B, L, E) (zero at padding), cls (B, K, E) and mask (B, L) and returns (B, D).
`POOLED_WIDTH[name](E)` gives D. The authors' downstream code used the mean over all L positions *including*
padding (findna-facts §5.1); `mean` here averages real positions only, so a sequence's embedding does not depend
on how long the other sequences of its batch are.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from suite.errors import SuiteError
from suite.registry import Registry

POOLINGS: Registry[Callable[[Tensor, Tensor, Tensor], Tensor]] = Registry("pooling")
POOLED_WIDTH: dict[str, Callable[[int], int]] = {}


def _needs_cls(cls: Tensor, name: str) -> None:
    if cls.shape[1] == 0:
        raise SuiteError(f"pooling '{name}' needs [CLS] tokens but the backbone has n_cls = 0", "use pooling: mean")


@POOLINGS.register("cls_mean")
def cls_mean(tokens: Tensor, cls: Tensor, mask: Tensor) -> Tensor:
    """Mean of the K [CLS] outputs Q (paper §3.4)."""
    _needs_cls(cls, "cls_mean")
    return cls.mean(dim=1)


@POOLINGS.register("mean")
def masked_mean(tokens: Tensor, cls: Tensor, mask: Tensor) -> Tensor:
    """Mean of the token outputs V over real positions only."""
    weights = mask.to(tokens.dtype)[..., None]
    return (tokens * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)


@POOLINGS.register("cls_and_mean")
def cls_and_mean(tokens: Tensor, cls: Tensor, mask: Tensor) -> Tensor:
    """[mean(Q), mean(V)] concatenated (paper §3.4, "V and Q")."""
    return torch.cat([cls_mean(tokens, cls, mask), masked_mean(tokens, cls, mask)], dim=-1)


POOLED_WIDTH.update({"cls_mean": lambda e: e, "mean": lambda e: e, "cls_and_mean": lambda e: 2 * e})
