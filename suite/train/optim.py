"""AdamW parameter groups as the reference implementations build them: weight decay on matmul / conv weights only.

Decoupled weight decay pulls every decayed tensor towards 0: a sensible prior on weight matrices and conv
kernels, but on a bias, a LayerNorm / BatchNorm gain or a learned token / position table it only drags the model
away from its offsets and scales. So the common practice exempts them: minGPT's `configure_optimizers` (copied
into hyena-dna's src/utils/optim_groups.py) decays nn.Linear weights only and never biases, LayerNorm and
nn.Embedding weights or `pos_emb`; timm's `param_groups_weight_decay` and nanoGPT exempt every tensor with
ndim ≤ 1; BERT / HF Trainer exempt "bias" and "LayerNorm.weight". We take the union (nanoGPT does decay its
embeddings; we follow minGPT there). HyenaDNA tags the tensors that need their own settings with a `_optim` dict
(OptimModule.register, HyenaFilter: {"weight_decay": 0.0, "lr": …}) and its train.py gives each distinct
`_optim` its own group; we honour the same tags (suite/models/families/hyenadna.py sets them).
"""

from __future__ import annotations

from torch import nn

# learned position tables by name: hyena `pos_emb`, BERT/ESM `position_embeddings`, FinDNA-T `positions`
NO_DECAY_NAME_PARTS = ("pos_emb", "position", "positional")


def is_decayed(name: str, param: nn.Parameter, embedding_weights: set[int]) -> bool:
    """True for matrices / kernels (ndim ≥ 2) that are neither an nn.Embedding table nor a position table."""
    if param.ndim <= 1 or id(param) in embedding_weights:
        return False
    return not any(part in name.lower() for part in NO_DECAY_NAME_PARTS)


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Groups for torch.optim.AdamW over the trainable parameters (requires_grad), each exactly once.

    Rule: `weight_decay` on matmul / conv weights, 0 on biases, norm weights, other ≤ 1-D tensors, nn.Embedding
    tables and position tables (module docstring: why). A parameter with an `_optim` dict takes those settings
    over the rule's (an "lr" there is an absolute rate, as upstream HyenaDNA's). Parameters with equal settings
    share one group, so there are at most a handful, in order of first appearance; shared parameters
    (tied weights) appear once.
    """
    embedding_weights = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    groups: dict[tuple, dict] = {}
    for name, param in model.named_parameters():  # yields a shared parameter once
        if not param.requires_grad:
            continue
        settings = {"weight_decay": weight_decay if is_decayed(name, param, embedding_weights) else 0.0,
                    **getattr(param, "_optim", {})}
        key = tuple(sorted(settings.items()))
        groups.setdefault(key, {"params": [], **settings})["params"].append(param)
    return list(groups.values())
