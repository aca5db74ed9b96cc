"""Classification heads on pooled embeddings (paper §3.4: "a linear layer or a two-layer MLP").

Linear layers get Xavier-uniform weights and zero bias, as the authors' GB_Linear_Classifier decoder
(findna-facts §1.4). Code that needs the head's weights (a solver copying coefficients in, a test watching them
move) goes through `final_linear`, never `head.weight`: a head with dropout is a Sequential.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from suite.errors import SuiteError
from suite.registry import Registry

HEADS: Registry[Callable[..., nn.Module]] = Registry("head")


def _init(linear: nn.Linear) -> nn.Linear:
    nn.init.xavier_uniform_(linear.weight)
    nn.init.zeros_(linear.bias)
    return linear


@HEADS.register("linear")
def linear_head(in_dim: int, n_classes: int, hidden: int | None = None, dropout: float = 0.0) -> nn.Module:
    """Linear(D → C): the linear probe and the authors' fine-tuning head. With dropout > 0, Dropout → Linear, as
    BertForSequenceClassification (DNABERT-2's `head_dropout: 0.1`); without, a bare Linear, so the state-dict
    keys of dropout-free heads stay `weight` / `bias`."""
    linear = _init(nn.Linear(in_dim, n_classes))
    return nn.Sequential(nn.Dropout(dropout), linear) if dropout > 0 else linear


def final_linear(head: nn.Module) -> nn.Linear:
    """The last nn.Linear of a head (the one producing the logits), whatever wraps it."""
    linears = [m for m in head.modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise SuiteError(f"head {type(head).__name__} has no nn.Linear", "use a head from suite.models.heads")
    return linears[-1]


@HEADS.register("mlp")
def mlp_head(in_dim: int, n_classes: int, hidden: int | None = None, dropout: float = 0.0) -> nn.Module:
    """Linear(D → H) → GELU → Dropout → Linear(H → C); H defaults to D."""
    hidden = hidden or in_dim
    return nn.Sequential(_init(nn.Linear(in_dim, hidden)), nn.GELU(), nn.Dropout(dropout), _init(nn.Linear(hidden, n_classes)))
