"""SequenceClassifier: backbone → pooling → head, the only model type the trainer sees (style §6.5).

The trainer calls `embed`, `classify` (= `forward`) and `set_mode`, on a SequenceBatch or, in probe mode, on a
PooledBatch: the pooled vectors a frozen backbone already gave (suite/train/embeddings.py caches them), so the head
trains without running the backbone again.
- "finetune": every parameter trains (the authors' downstream scripts never freeze; findna-facts §5.1);
- "probe": linear probing as the paper defines it (Table 1, facts §5.1): the whole backbone, stem included, is
  frozen and kept in eval mode (dropout off, even after `model.train()`); only the head trains.
Pretrained weights go into `backbone` through suite/models/weights.py (build_model).
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


@dataclass
class PooledBatch:
    """A batch already embedded by the frozen backbone: pooled vectors (B, D) and labels (B,). In probe mode the
    backbone is a fixed function (eval mode, no gradient), so `embed` of the batch's sequences is these vectors."""

    vectors: Tensor
    labels: Tensor

    def to(self, device: torch.device | str) -> PooledBatch:
        return PooledBatch(self.vectors.to(device), self.labels.to(device))

    def __len__(self) -> int:
        return len(self.labels)


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
    def embed(self, batch: SequenceBatch | PooledBatch) -> Tensor:
        """Pooled embedding (B, D), like timm's pre_logits. No autograd graph through a frozen backbone."""
        if isinstance(batch, PooledBatch):
            if self.mode != "probe":
                raise SuiteError("pooled vectors given to a model in finetune mode, whose backbone trains",
                                 "embed the sequences (a SequenceBatch), or set_mode('probe')")
            if batch.vectors.shape[-1] != self.embed_dim:
                raise SuiteError(f"pooled vectors of width {batch.vectors.shape[-1]} for a head on {self.embed_dim}",
                                 "embed with this model's backbone and pooling")
            return batch.vectors.to(next(self.head.parameters()).dtype)
        with torch.set_grad_enabled(torch.is_grad_enabled() and self.mode == "finetune"):
            if batch.token_ids is not None and hasattr(self.backbone, "forward_ids"):
                # a wrapped model on its split's cached token ids (suite/models/wrapped.py): no tokenizing here
                tokens, cls = self.backbone.forward_ids(batch.token_ids, batch.token_lengths, batch.codes.shape[1])
            else:
                # a backbone may hold no parameters (k-mer counts): its buffers tell the dtype then
                dtype = next(iter([*self.backbone.parameters(), *self.backbone.buffers()]), torch.empty(0)).dtype
                tokens, cls = self.backbone(batch.one_hot.to(dtype), batch.lengths)
            return self.pool(tokens, cls, batch.mask)

    def classify(self, batch: SequenceBatch | PooledBatch) -> Tensor:
        """Logits (B, n_classes)."""
        return self.head(self.embed(batch))

    def forward(self, batch: SequenceBatch | PooledBatch) -> Tensor:
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
