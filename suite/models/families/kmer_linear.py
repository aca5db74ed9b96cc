"""k-mer count features for a linear head: with `head: linear` and `solver: lbfgs` (models/kmer_lr.yaml) this is
L2-regularised (multinomial) logistic regression fitted to convergence by scikit-learn (suite/train/convex.py);
with the AdamW loop it is the same model trained by gradient descent.

Features: for every k in k_min..k_max, counts of the overlapping k-mers over A, C, G, T (k-mers touching N or
padding are skipped), concatenated in order of k; within one k the k-mer index is base-4 with A=0 C=1 G=2 T=3,
first base most significant (4^k_min + … + 4^k_max features; 5,460 for 1..6). `scale` transforms them:
`counts` (raw counts, like scikit-learn's CountVectorizer), `log1p` (log(1 + count)) or `freq` (each k's
counts divided by that k's number of counted k-mers). Computed on the fly in the forward pass, vectorised (one
rolling base-4 code per k + scatter_add), so predict/evaluate need nothing special. The backbone holds no
parameters.
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

SCALES = ("counts", "log1p", "freq")


@dataclass(frozen=True)
class KmerConfig:
    k_min: int = 1
    k_max: int = 6
    k: int | None = None  # a single k (the old key): sets k_min = k_max = k
    scale: str = "log1p"  # counts | log1p | freq (log1p chosen on GUE, models/kmer_lr.yaml)
    max_len: int = 0  # unused (features do not depend on a fixed length); accepted like every family's max_len

    @property
    def k_range(self) -> range:
        return range(self.k, self.k + 1) if self.k is not None else range(self.k_min, self.k_max + 1)


def kmer_width(k_min: int, k_max: int | None = None) -> int:
    return sum(4**k for k in range(k_min, (k_max if k_max is not None else k_min) + 1))


def kmer_features(x: Tensor, lengths: Tensor, k_min: int, k_max: int | None = None, scale: str = "counts") -> Tensor:
    """(B, 4^k_min + … + 4^k_max) k-mer features of one-hot (B, L, 5) inputs (see the module docstring)."""
    k_max = k_min if k_max is None else k_max
    batch, length, _ = x.shape
    real = torch.arange(length, device=x.device)[None, :] < lengths[:, None]
    is_base = (x[..., :4].amax(-1) > 0.5) & real  # one-hot A/C/G/T inside the sequence (N and padding are not)
    base = x[..., :4].argmax(-1) * is_base  # (B, L) 0..3
    blocks = []
    ids, valid = base, is_base  # k = 1; code k extends code k-1 by the next base (rolling base-4 code)
    for k in range(1, k_max + 1):
        if k > 1:
            ids = ids[:, :-1] * 4 + base[:, k - 1:]
            valid = valid[:, :-1] & is_base[:, k - 1:]
        if k < k_min:
            continue
        counts = x.new_zeros(batch, 4**k)
        if ids.shape[1]:
            counts.scatter_add_(1, ids * valid, valid.to(x.dtype))
        if scale == "freq":
            counts = counts / counts.sum(-1, keepdim=True).clamp_min(1.0)
        blocks.append(counts)
    features = torch.cat(blocks, dim=-1)
    if scale == "log1p":
        features = torch.log1p(features)
    elif scale not in SCALES:
        raise CardError(f"unknown k-mer feature scale '{scale}'", f"use one of {', '.join(SCALES)}")
    return features


class KmerCounts(nn.Module):
    sparse_features = True  # mostly zeros: suite/train/convex.py keeps them as a CSR matrix

    def __init__(self, config: KmerConfig, source: str = "kmer_linear") -> None:
        super().__init__()
        ks = config.k_range
        if len(ks) == 0 or ks.start < 1:
            raise CardError(f"{source}: k-mer range {ks.start}..{ks.stop - 1} is empty", "use 1 <= k_min <= k_max")
        if config.scale not in SCALES:
            raise CardError(f"{source}: unknown scale '{config.scale}'", f"use one of {', '.join(SCALES)}")
        self.config = config
        self.k_min, self.k_max = ks.start, ks.stop - 1
        self.width = kmer_width(self.k_min, self.k_max)
        self.register_buffer("_anchor", torch.zeros(1))  # gives the module a device and dtype

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        features = kmer_features(x.to(self._anchor.dtype), lengths, self.k_min, self.k_max, self.config.scale)
        tokens = features.new_zeros(1, 1, 1).expand(x.shape[0], x.shape[1], self.width)
        return tokens, features[:, None, :]


@FAMILIES.register("kmer_linear")
def build(params: dict, recipe: dict | None = None, source: str = "kmer_linear") -> KmerCounts:
    return KmerCounts(build_strict(KmerConfig, {**params, **(recipe or {})}, source), source)  # unknown keys → CardError
