"""SequenceClassifier: backbone → pooling → head, the only model type the trainer sees (style §6.5).

The trainer calls `embed`, `classify` (= `forward`) and `set_mode`:
- "finetune": every parameter trains (the authors' downstream scripts never freeze; findna-facts §5.1);
- "probe": linear probing as the paper defines it (Table 1, facts §5.1): the whole backbone, stem included, is
  frozen and kept in eval mode (dropout off, even after `model.train()`); only the head trains.
`load_backbone` puts pretrained (teacher) weights into the backbone, checked key by key and shape by shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from suite.data.batching import SequenceBatch
from suite.errors import SuiteError
from suite.models.heads import HEADS
from suite.models.contract import backbone_outputs, check_pooling
from suite.models.pooling import POOLED_WIDTH, POOLINGS

Mode = Literal["finetune", "probe"]


@dataclass(frozen=True)
class LoadReport:
    """What `load_backbone` did: keys copied, and model keys left at random init (only with match=intersect)."""

    loaded: tuple[str, ...]
    left_random: tuple[str, ...]
    unused: tuple[str, ...]


def _shown(keys) -> str:
    keys = sorted(keys)
    return ", ".join(keys[:6]) + (f" … ({len(keys)} in all)" if len(keys) > 6 else "")


class SequenceClassifier(nn.Module):
    def __init__(
        self,
        backbone: nn.Module,
        n_classes: int,
        pooling: str = "cls_mean",
        head: str = "linear",
        head_hidden: int | None = None,
        head_dropout: float = 0.0,
    ) -> None:
        super().__init__()
        POOLINGS.get(pooling)  # an unknown name fails first, naming the choices
        if n_classes < 2:
            raise SuiteError(f"a classifier needs at least 2 classes, got {n_classes}", "check the task card's classes")
        self.backbone = backbone
        self.pooling_name = pooling
        self.pool = POOLINGS.get(pooling)
        self.embed_dim = POOLED_WIDTH[pooling](backbone.width)
        self.head = HEADS.get(head)(self.embed_dim, n_classes, head_hidden, head_dropout)
        self.n_classes = n_classes
        self.mode: Mode = "finetune"
        check_pooling(pooling, backbone_outputs(backbone), f"the {type(backbone).__name__} backbone")

    # ---- the model protocol -------------------------------------------------------------------------------
    def embed(self, batch: SequenceBatch) -> Tensor:
        """Pooled embedding (B, D), like timm's pre_logits. No autograd graph through a frozen backbone."""
        # a backbone may hold no parameters (k-mer counts): its buffers tell the dtype then
        dtype = next(iter([*self.backbone.parameters(), *self.backbone.buffers()]), torch.empty(0)).dtype
        x = batch.one_hot.to(dtype)
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.mode == "finetune"):
            tokens, cls = self.backbone(x, batch.lengths)
            return self.pool(tokens, cls, batch.mask)

    def classify(self, batch: SequenceBatch) -> Tensor:
        """Logits (B, n_classes)."""
        return self.head(self.embed(batch))

    def forward(self, batch: SequenceBatch) -> Tensor:
        return self.classify(batch)

    def set_mode(self, mode: Mode) -> None:
        if mode not in ("finetune", "probe"):
            raise SuiteError(f"unknown mode '{mode}'", "use 'finetune' or 'probe'")
        self.mode = mode
        for p in self.backbone.parameters():
            p.requires_grad_(mode == "finetune")
        self.train(self.training)

    def train(self, mode: bool = True) -> SequenceClassifier:
        super().train(mode)
        if self.mode == "probe":
            self.backbone.eval()  # a frozen feature extractor: dropout stays off
        return self

    # ---- weights ------------------------------------------------------------------------------------------
    def load_backbone(self, state_dict: dict[str, Tensor], match: str = "exact") -> LoadReport:
        """Copy pretrained weights into the backbone (style §6.5; facts §5.1 for `intersect`).

        match="exact": the key sets must be equal. match="intersect": the authors' loader (shared keys are
        copied, model keys the checkpoint lacks stay random, extra checkpoint keys are ignored), but at least
        one key must match. In both cases a shape mismatch is an error naming the keys.
        """
        own = self.backbone.state_dict()
        missing = set(own) - set(state_dict)
        unused = set(state_dict) - set(own)
        if match == "exact" and (missing or unused):
            parts = [f"missing from the checkpoint: {_shown(missing)}" if missing else "",
                     f"not in the model: {_shown(unused)}" if unused else ""]
            raise SuiteError(
                "pretrained weights do not fit the backbone (" + "; ".join(p for p in parts if p) + ")",
                "build the model with the pretraining config (size, max_len, layers) or set weights.match: intersect",
            )
        if match not in ("exact", "intersect"):
            raise SuiteError(f"unknown weights match '{match}'", "use 'exact' or 'intersect'")
        shared = set(own) & set(state_dict)
        if not shared:
            raise SuiteError("no key of the pretrained weights matches the backbone", "check weights.prefix and family")
        bad = [f"{k} {tuple(state_dict[k].shape)} vs {tuple(own[k].shape)}" for k in sorted(shared)
               if state_dict[k].shape != own[k].shape]
        if bad:
            raise SuiteError(f"pretrained weights have wrong shapes: {_shown(bad)}", "use the card's width and hidden size")
        with torch.no_grad():
            for key in shared:
                own[key].copy_(state_dict[key])
        return LoadReport(tuple(sorted(shared)), tuple(sorted(missing)), tuple(sorted(unused)))
