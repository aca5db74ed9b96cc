"""DeepBind (Alipanahi et al., Nature Biotechnology 33:831, 2015) as a backbone: one convolution of motif detectors.

Architecture: one-hot A, C, G, T (4 channels: N and padding are the zero vector there, so they contribute
nothing) → Conv1d(4 → `filters`, width `motif_len`, padding motif_len - 1 on both sides, so a motif that
overlaps either end of the sequence is still scored) → ReLU (the conv bias is DeepBind's learned rectification
threshold, max(0, X - b)) → global pooling over the valid positions of each sequence (`pool: max`, or
`max_avg` = [max, mean] as DeepBind's optional average pooling) → (`norm: batch`: BatchNorm) → Linear(→ `dense`) → ReLU → Dropout; the
classifier's linear head is DeepBind's output unit. `dense: 0` is DeepBind's "no hidden layer" variant (the
pooled motif scores go straight to the head).

Where ours differs: DeepBind pads with 0.25 (the uniform base distribution) on both sides; we pad with zeros
(the zero vector = "no base", as N and batch padding are here). Pooling covers the L + motif_len - 1 output
positions whose window overlaps the sequence; the positions past a sequence's own end (batch padding) are set
to -inf before the max and left out of the mean, so a sequence's output never depends on the other sequences of
its batch. Training (AdamW, the suite's loop) is documented in models/deepbind.yaml.

The sequence vector comes out as one "[CLS]" output (K = 1); pool it with cls_mean.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from suite.cards import build as build_strict
from suite.errors import CardError
from suite.models import FAMILIES
from suite.models.contract import Outputs

OUTPUTS = Outputs(tokens=False, cls=1)  # one vector per sequence, in the one [CLS] slot (no per-position outputs)

POOLS = ("max", "max_avg")
NORMS = ("batch", "none")


@dataclass(frozen=True)
class DeepBindConfig:
    filters: int = 128  # motif detectors
    motif_len: int = 24  # detector width (DeepBind's ChIP-seq models: 16 detectors of length 24)
    pool: str = "max"  # max | max_avg
    dense: int = 32  # hidden ReLU units after pooling; 0 = no hidden layer
    dropout: float = 0.5
    norm: str = "none"  # batch = BatchNorm over the pooled motif scores before the dense layer; none = DeepBind's own
    max_len: int = 0  # unused (any length works); accepted like every family's max_len


class DeepBind(nn.Module):
    def __init__(self, config: DeepBindConfig, source: str = "deepbind") -> None:
        super().__init__()
        if config.pool not in POOLS:
            raise CardError(f"{source}: pool '{config.pool}' is not a DeepBind pooling", f"use one of {', '.join(POOLS)}")
        if config.norm not in NORMS:
            raise CardError(f"{source}: norm '{config.norm}' is not one of {', '.join(NORMS)}", "use norm: batch or norm: none")
        if config.filters < 1 or config.motif_len < 1 or config.dense < 0:
            raise CardError(f"{source}: filters and motif_len must be >= 1 and dense >= 0", "fix the card's params")
        self.config = config
        self.conv = nn.Conv1d(4, config.filters, config.motif_len, padding=config.motif_len - 1)
        pooled = config.filters * (2 if config.pool == "max_avg" else 1)
        # the pooled scores are all >= 0 and move together; centring them keeps AdamW's first steps from pushing
        # every hidden ReLU below zero for every input at once (a dead start: models/deepbind.yaml, fidelity)
        self.norm = nn.BatchNorm1d(pooled) if config.norm == "batch" else nn.Identity()
        if config.dense:
            self.dense = nn.Sequential(nn.Linear(pooled, config.dense), nn.ReLU(), nn.Dropout(config.dropout))
            self.width = config.dense
        else:
            self.dense = nn.Dropout(config.dropout)
            self.width = pooled

    def motif_scores(self, x: Tensor, lengths: Tensor) -> Tensor:
        """(B, filters, L + motif_len - 1) rectified detector responses, -inf where a window lies wholly in
        batch padding (past the sequence's end)."""
        real = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]  # (B, L)
        acgt = (x[..., :4] * real[..., None].to(x.dtype)).transpose(1, 2)  # padding is exactly zero
        response = torch.relu(self.conv(acgt))
        # output j sees inputs j - (m - 1) .. j: it overlaps the sequence iff j < length + m - 1
        valid = torch.arange(response.shape[-1], device=x.device)[None, :] < (lengths[:, None] + self.config.motif_len - 1)
        return response.masked_fill(~valid[:, None, :], float("-inf"))

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        batch, length, _ = x.shape
        scores = self.motif_scores(x, lengths)
        pooled = scores.amax(-1)
        if self.config.pool == "max_avg":
            n_valid = (lengths + self.config.motif_len - 1).clamp_min(1).to(scores.dtype)
            mean = torch.nan_to_num(scores, neginf=0.0).sum(-1) / n_valid[:, None]
            pooled = torch.cat([pooled, mean], dim=-1)
        vector = self.dense(self.norm(pooled))
        # sequence-level model: no per-token outputs; pool with cls_mean
        tokens = vector.new_zeros(1, 1, 1).expand(batch, length, self.width)
        return tokens, vector[:, None, :]


@FAMILIES.register("deepbind")
def build(params: dict, recipe: dict | None = None, source: str = "deepbind") -> DeepBind:
    return DeepBind(build_strict(DeepBindConfig, {**params, **(recipe or {})}, source), source)  # unknown keys → CardError
