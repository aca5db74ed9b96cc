"""k-mer count features for a linear head: with `head: linear` this is multinomial logistic regression on k-mer
frequencies, trained by the suite's one loop (AdamW's weight decay = an L2 penalty). A test checks it against
scikit-learn's LogisticRegression on the same features.

Features: counts of every overlapping k-mer over A, C, G, T (k-mers touching N or padding are skipped), divided by
the number of counted k-mers and multiplied by 4^k so an average feature is about 1 (a scale that a linear model
trained by gradient descent handles well). Computed on the fly, vectorised (unfold + scatter_add).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from suite.cards import build as build_strict
from suite.models import FAMILIES


@dataclass(frozen=True)
class KmerConfig:
    k: int = 4
    max_len: int = 0  # unused (features do not depend on a fixed length); accepted like every family's max_len


def kmer_features(x: Tensor, lengths: Tensor, k: int) -> Tensor:
    """(B, 4^k) scaled k-mer frequencies of one-hot (B, L, 5) inputs."""
    batch, length, _ = x.shape
    n_kmers = 4**k
    if length < k:
        return x.new_zeros(batch, n_kmers)
    base = x[..., :4].argmax(-1)  # (B, L) 0..3
    is_base = x[..., :4].amax(-1) > 0.5  # one-hot A/C/G/T (N and padding are not)
    powers = 4 ** torch.arange(k - 1, -1, -1, device=x.device)
    windows = base.unfold(1, k, 1)  # (B, L-k+1, k)
    ids = (windows * powers).sum(-1)
    valid = is_base.unfold(1, k, 1).all(-1)
    positions = torch.arange(length - k + 1, device=x.device)
    valid &= positions[None, :] + k <= lengths[:, None]
    counts = x.new_zeros(batch, n_kmers).scatter_add_(1, ids * valid, valid.to(x.dtype))
    return counts * (n_kmers / counts.sum(-1, keepdim=True).clamp_min(1.0))


class KmerCounts(nn.Module):
    n_cls = 1

    def __init__(self, config: KmerConfig) -> None:
        super().__init__()
        self.config = config
        self.width = 4**config.k
        self.register_buffer("_anchor", torch.zeros(1))  # gives the module a device and dtype

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        features = kmer_features(x.to(self._anchor.dtype), lengths, self.config.k)
        tokens = features.new_zeros(1, 1, 1).expand(x.shape[0], x.shape[1], self.width)
        return tokens, features[:, None, :]


@FAMILIES.register("kmer_linear")
def build(params: dict, recipe: dict | None = None, source: str = "kmer_linear") -> KmerCounts:
    return KmerCounts(build_strict(KmerConfig, {**params, **(recipe or {})}, source))  # unknown keys → CardError
