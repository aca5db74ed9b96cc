"""FinDNA-T backbone: the paper's "Transformer" mixer (paper §3.1, Table 1; findna-facts §4).

What is known (facts §4): the authors' only non-ChordMixer pretraining model is Model4PretrainFlash: stem
Linear(5→512) + a learned absolute position table nn.Embedding(1010, 512) + 8 FLASH layers (gated attention
units, mixed-chunk attention, causal, pre-LayerNorm) + Linear(512→5); about 13.67 M parameters. The evidence that
this is the paper's "Transformer" is circumstantial.

What we build (a standard pre-LN Transformer encoder with PyTorch fused attention, same interface as ChordMixer):
- stem Linear(5→E) + **learned** absolute positions (as the authors' table; `positions: sinusoidal` for
  length extrapolation), E = `width`;
- `layers` × [x + MHA(LN(x)); x + FFN(LN(x))], FFN = Linear(E→H) → GELU → Dropout → Linear(H→E), attention through
  F.scaled_dot_product_attention with a key padding mask; final LayerNorm;
- K zero [CLS] input vectors appended right after each sequence's true length (as for ChordMixer, facts §1.5);
  they take the positions len_i … len_i + K − 1, which makes them distinct;
- bidirectional by default; `causal: true` is the authors' FLASH setting (each token sees only its left; the
  [CLS] tokens at the end still see the whole sequence).
Not FLASH: no gated attention unit, no chunking, no T5 relative bias (a reader can compare the parameter count
with facts §1.6). Token outputs at padded positions are exactly 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from suite.cards import build as build_strict
from suite.errors import SuiteError
from suite.models import FAMILIES
from suite.models.contract import Outputs

OUTPUTS = Outputs(tokens=True, cls=10, cls_param="n_cls")  # per-position outputs and n_cls [CLS] slots

POSITIONS = ("learned", "sinusoidal")
AUTHORS_OUT_DIM = 5


@dataclass(frozen=True)
class TransformerConfig:
    """Defaults: the authors' FinDNA-T sizes (facts §4): E 512, 8 layers, FFN expansion 2."""

    width: int = 512
    layers: int = 8
    heads: int = 8
    hidden: int = 1024
    n_cls: int = OUTPUTS.cls
    max_len: int = 1000
    dropout: float = 0.0
    positions: str = "learned"
    causal: bool = False
    # 1 = the authors' per-token Linear(5→E) stem. k > 1: a Conv1d(5→E, k) stem, so each token enters the encoder
    # with its k-mer neighbourhood. A transformer on single-base tokens learns a motif (a conjunction of 8 bases)
    # only after many steps, none of which a CPU budget has; a k-mer stem is how DNA transformers usually meet that
    # (k-mer tokens in DNABERT/NT, conv stems in Enformer). The CPU sizes use it; the paper size does not.
    stem_kernel: int = 1
    # Standard deviation of the learned position table at random init. nn.Embedding's default is N(0, 1), what the
    # authors' code keeps; beside a one-hot stem's outputs (std about 0.26 at width 512) such positions drown the
    # sequence: the small CPU network stayed at chance on tf_mouse_0 (validation MCC x100 -2..2 over 400 steps)
    # and reached 51 with 0.02, the BERT/GPT-2 convention. `position_std: 1.0` is the authors' init.
    position_std: float = 0.02
    # Recompute each layer's activations in the backward pass (torch.utils.checkpoint, non-reentrant, RNG state kept
    # so dropout draws the same masks): one layer's activations held instead of all, for about one more forward.
    checkpointing: bool = False

    def __post_init__(self) -> None:
        if self.positions not in POSITIONS:
            raise SuiteError(f"transformer positions '{self.positions}' is unknown", f"use one of {POSITIONS}")
        if self.width % self.heads:
            raise SuiteError(f"transformer width {self.width} is not divisible by heads {self.heads}", "change heads")
        if self.stem_kernel < 1 or self.stem_kernel % 2 == 0:
            raise SuiteError(f"transformer stem_kernel must be odd and ≥ 1, got {self.stem_kernel}", "use 1, 7, 9 …")
        if not self.position_std > 0:
            raise SuiteError(f"transformer position_std must be > 0, got {self.position_std}", "use e.g. 0.02")
        if self.n_cls < 0 or self.layers < 1 or self.max_len < 1:
            raise SuiteError("transformer n_cls ≥ 0, layers ≥ 1 and max_len ≥ 1 are required", "fix the model card")


def sinusoidal_table(n: int, width: int) -> Tensor:
    """Vaswani et al. (2017) §3.5 sine/cosine position encodings, (n, width)."""
    position = torch.arange(n, dtype=torch.float64)[:, None]
    freq = torch.exp(torch.arange(0, width, 2, dtype=torch.float64) * (-math.log(10000.0) / width))
    table = torch.zeros(n, width, dtype=torch.float64)
    table[:, 0::2] = torch.sin(position * freq)
    table[:, 1::2] = torch.cos(position * freq[: width // 2])
    return table.float()


class EncoderLayer(nn.Module):
    """Pre-LN layer: x + Attn(LN(x)), then x + FFN(LN(x))."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.heads = cfg.heads
        self.norm1 = nn.LayerNorm(cfg.width)
        self.qkv = nn.Linear(cfg.width, 3 * cfg.width)
        self.proj = nn.Linear(cfg.width, cfg.width)
        self.norm2 = nn.LayerNorm(cfg.width)
        self.fc1 = nn.Linear(cfg.width, cfg.hidden)
        self.fc2 = nn.Linear(cfg.hidden, cfg.width)
        self.dropout = nn.Dropout(cfg.dropout)
        self.attn_dropout = cfg.dropout

    def forward(self, x: Tensor, allowed: Tensor) -> Tensor:
        B, T, E = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(B, T, 3, self.heads, E // self.heads).permute(2, 0, 3, 1, 4)
        drop = self.attn_dropout if self.training else 0.0
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=drop)
        x = x + self.dropout(self.proj(a.transpose(1, 2).reshape(B, T, E)))
        h = self.fc2(self.dropout(F.gelu(self.fc1(self.norm2(x)))))
        return x + self.dropout(h)


class FinDNATransformer(nn.Module):
    """forward(x (B, L, 5), lengths (B,)) → (tokens (B, L, E), cls (B, K, E)); padded token outputs are 0."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.width = config.width
        self.n_cls = config.n_cls
        k = config.stem_kernel
        self.stem = nn.Linear(5, config.width) if k == 1 else nn.Conv1d(5, config.width, k, padding=k // 2)
        n_positions = config.max_len + config.n_cls
        if config.positions == "learned":
            self.positions = nn.Embedding(n_positions, config.width)
            nn.init.normal_(self.positions.weight, std=config.position_std)
        else:
            self.register_buffer("sinusoids", sinusoidal_table(n_positions, config.width), persistent=False)
        self.layers = nn.ModuleList(EncoderLayer(config) for _ in range(config.layers))
        self.norm = nn.LayerNorm(config.width)

    def _position_table(self, n: int, x: Tensor) -> Tensor:
        if self.config.positions == "learned":
            if n > self.positions.num_embeddings:
                raise SuiteError(
                    f"sequence of {n - self.n_cls} bp is longer than the learned position table "
                    f"({self.positions.num_embeddings - self.n_cls} bp)",
                    "build with a larger max_len or use positions: sinusoidal",
                )
            return self.positions.weight[:n]
        table = self.sinusoids if n <= self.sinusoids.shape[0] else sinusoidal_table(n, self.width).to(x.device)
        return table[:n].to(x.dtype)

    def _embed(self, inputs: Tensor, real: Tensor) -> Tensor:
        """Stem of (B, T, 5) inputs. A conv stem's outputs past each true length (padding, the [CLS] slots) are the
        stem of a zero vector, its bias, exactly as the Linear stem gives them: [CLS] inputs stay blank."""
        if isinstance(self.stem, nn.Linear):
            return self.stem(inputs)
        h = self.stem(inputs.transpose(1, 2)).transpose(1, 2)
        return torch.where(real[..., None], h, self.stem.bias.to(h.dtype))

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        B, L, _ = x.shape
        K = self.n_cls
        T = L + K
        lengths = lengths.to(x.device)
        t = torch.arange(T, device=x.device)
        real = t[None, :L] < lengths[:, None]
        inputs = F.pad(x * real[..., None].to(x.dtype), (0, 0, 0, K))  # zero [CLS] inputs right after len_i
        h = self._embed(inputs, t[None, :] < lengths[:, None]) + self._position_table(T, x)[None]
        valid = t[None, :] < (lengths + K)[:, None]  # (B, T) keys a query may attend to
        allowed = valid[:, None, None, :]
        if self.config.causal:
            allowed = allowed & (t[None, :] <= t[:, None])[None, None]
        for layer in self.layers:
            if self.config.checkpointing and torch.is_grad_enabled():
                h = checkpoint(layer, h, allowed, use_reentrant=False)
            else:
                h = layer(h, allowed)
        h = self.norm(h)
        tokens = h[:, :L] * real[..., None].to(h.dtype)
        cls_pos = lengths[:, None] + torch.arange(K, device=x.device)[None, :]
        cls = torch.gather(h, 1, cls_pos[..., None].expand(B, K, self.width))
        return tokens, cls

    def adapt_pretrained(self, state: dict) -> dict:
        """A learned position table pretrained on longer windows (e.g. 256 + K rows) is cut to this model's rows
        (max_len + K): a batch reads rows < L + K ≤ max_len + K only (`_position_table`), so the outputs are those
        of the longer model with the same weights. A shorter table stays as it is (load_into names the mismatch)."""
        table = state.get("positions.weight")
        if self.config.positions == "learned" and table is not None and len(table) > self.positions.num_embeddings:
            state = {**state, "positions.weight": table[: self.positions.num_embeddings]}
        return state

    def authors_parameter_count(self) -> int:
        """Own parameters + a Linear(E→5) pretraining head, for comparison with facts §1.6 (≈13.67 M)."""
        return sum(p.numel() for p in self.parameters()) + self.width * AUTHORS_OUT_DIM + AUTHORS_OUT_DIM


def make_config(params: dict, recipe: dict | None = None, source: str = "transformer") -> TransformerConfig:
    return build_strict(TransformerConfig, {**params, **(recipe or {})}, source)


@FAMILIES.register("transformer")
def build(params: dict, recipe: dict | None = None, source: str = "transformer") -> FinDNATransformer:
    return FinDNATransformer(make_config(params, recipe, source))
