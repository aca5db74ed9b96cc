"""Classification heads on pooled embeddings (paper §3.4: "a linear layer or a two-layer MLP").

Linear layers get Xavier-uniform weights and zero bias, as the authors' GB_Linear_Classifier decoder
(findna-facts §1.4).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from suite.registry import Registry

HEADS: Registry[Callable[..., nn.Module]] = Registry("head")


def _init(linear: nn.Linear) -> nn.Linear:
    nn.init.xavier_uniform_(linear.weight)
    nn.init.zeros_(linear.bias)
    return linear


@HEADS.register("linear")
def linear_head(in_dim: int, n_classes: int, hidden: int | None = None, dropout: float = 0.0) -> nn.Module:
    """Linear(D → C): the linear probe and the authors' fine-tuning head."""
    return _init(nn.Linear(in_dim, n_classes))


@HEADS.register("mlp")
def mlp_head(in_dim: int, n_classes: int, hidden: int | None = None, dropout: float = 0.0) -> nn.Module:
    """Linear(D → H) → GELU → Dropout → Linear(H → C); H defaults to D."""
    hidden = hidden or in_dim
    return nn.Sequential(_init(nn.Linear(in_dim, hidden)), nn.GELU(), nn.Dropout(dropout), _init(nn.Linear(hidden, n_classes)))
