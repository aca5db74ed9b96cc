"""The genomic-benchmarks CNN baseline (genomic_benchmarks.models.torch.CNN), as a backbone.

Architecture as published: character embedding (dim 100) → Conv1d(100→16, k 8) + BatchNorm + ReLU + MaxPool 2 →
Conv1d(16→8, k 8) + BatchNorm + MaxPool 2 → Conv1d(8→4, k 8) + BatchNorm + MaxPool 2 → Flatten → Linear(→512);
the classifier's linear head is their final Linear(512→C). Two faithful re-expressions:
- the embedding of a one-hot input is a bias-free Linear(5→100) (one row of weights per base; padding is the
  zero vector, where upstream learns a padding token);
- every task is trained with cross-entropy on C logits. Upstream's binary path applies a sigmoid and then
  `binary_cross_entropy_with_logits` (a sigmoid applied twice, published-baselines.md); we keep the
  architecture and train on logits.
The flattened width depends on the input length, so inputs are zero-padded or truncated (5' end kept) to
`max_len` (the task's max_bp, set by the run plan). The sequence vector comes out as one "[CLS]" output (K = 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn
import torch.nn.functional as F

from suite.cards import build as build_strict
from suite.errors import SuiteError
from suite.models import FAMILIES
from suite.models.contract import Outputs

OUTPUTS = Outputs(tokens=False, cls=1)  # one vector per sequence, in the one [CLS] slot (no per-position outputs)


@dataclass(frozen=True)
class CNNConfig:
    max_len: int = 200
    embedding_dim: int = 100
    dense: int = 512


class GenomicBenchmarksCNN(nn.Module):
    def __init__(self, config: CNNConfig) -> None:
        super().__init__()
        self.config = config
        self.width = config.dense
        self.embedding = nn.Linear(5, config.embedding_dim, bias=False)
        self.convs = nn.Sequential(
            nn.Conv1d(config.embedding_dim, 16, kernel_size=8), nn.BatchNorm1d(16), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(16, 8, kernel_size=8), nn.BatchNorm1d(8), nn.MaxPool1d(2),
            nn.Conv1d(8, 4, kernel_size=8), nn.BatchNorm1d(4), nn.MaxPool1d(2),
            nn.Flatten(),
        )
        flat = self._flat_width(config.max_len)
        if flat < 1:
            raise SuiteError(f"CNN input length {config.max_len} is too short for three k=8 convolutions", "use max_len >= 64")
        self.dense = nn.Linear(flat, config.dense)

    @staticmethod
    def _flat_width(length: int) -> int:
        for _ in range(3):
            length = (length - 7) // 2
        return 4 * length

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        batch, length, _ = x.shape
        target = self.config.max_len
        fixed = x[:, :target] if length >= target else F.pad(x, (0, 0, 0, target - length))
        h = self.embedding(fixed).transpose(1, 2)  # (B, embedding_dim, max_len)
        vector = self.dense(self.convs(h))
        # sequence-level model: no per-token outputs; pool with cls_mean
        tokens = vector.new_zeros(1, 1, 1).expand(batch, length, self.width)
        return tokens, vector[:, None, :]


@FAMILIES.register("cnn")
def build(params: dict, recipe: dict | None = None, source: str = "cnn") -> GenomicBenchmarksCNN:
    return GenomicBenchmarksCNN(build_strict(CNNConfig, {**params, **(recipe or {})}, source))  # unknown keys → CardError
