"""HyenaDNA (Nguyen et al., NeurIPS 2023; LongSafari/hyenadna-*-seqlen-hf) as a native module: no remote code.

Architecture as the `-hf` hub repositories' modeling_hyena.py / configuration_hyena.py define it (the HF port of
github HazyResearch/hyena-dna @ d553021, src/models/sequence/hyena.py), order 2:
- character embedding (vocab 12 padded to a multiple of 8) → dropout → N blocks → final LayerNorm;
- block (pre-LN): h + Hyena(LN(h)), then h + MLP(LN(h)) with MLP = fc1 → GELU(tanh) → fc2;
- Hyena operator: in_proj to 3·D → short causal depthwise conv (k = 3) → split (x0, x1, v);
  v ← (v ⊙ x1) * k + bias ⊙ (v ⊙ x1) as a causal FFT convolution; y = out_proj(v ⊙ x0);
- implicit long filter k (L, D) = [MLP of sin(freq · Linear) layers](z_t) ⊙ (exp(-t |Δ|) + 0.05), where
  z_t = [t, cos(-f ω_t), sin(-f ω_t)] is the published positional embedding (length max_seq_len) and Δ the
  exponential-modulation decay rates; z, t and Δ are fixed buffers, and the filter MLP is never weight-decayed
  (see ImplicitFilter for upstream's optimizer settings).
Tokens: the checkpoint's character tokenizer (tokenizer_config.json `characters`; ids [CLS]=0 … [UNK]=6, then
A, C, G, T, N from 7), no special tokens, as hyena-dna's genomic-benchmark loader (add_eos: false). Inputs longer
than max_seq_len are cut (5' end kept). We pad on the right: the model is causal, so real positions never see
padding (upstream pads on the left and averages the pads too).
Pooling: hyena-dna's downstream decoder (configs/pipeline/genomic_benchmark.yaml: `decoder: {_name_: sequence,
mode: pool}`) is the **mean over the sequence**, not the HF port's last-token score; `cls` is that mean over the
real tokens, and `tokens` are the per-nucleotide states (one token per base).
A split's ids are made once and cached (`split_tokenizer`, keyed by tokenizer_config.json's sha256 and the bases
kept; suite/models/wrapped.py); `forward_ids` consumes them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from suite.cards import build as build_strict
from suite.errors import SuiteError
from suite.models import FAMILIES, wrapped
from suite.models.contract import Outputs
from suite.models.families._nucleotides import ALPHABET
from suite.models.weights import SNAPSHOT_FIX, RenameTable, load_into

OUTPUTS = Outputs(tokens=True, cls=1)  # per-position states and their mean as the one [CLS] slot

SPECIAL_TOKENS = ("[CLS]", "[SEP]", "[BOS]", "[MASK]", "[PAD]", "[RESERVED]", "[UNK]")  # ids 0 … 6
ARCH_KEYS = ("vocab_size", "d_model", "n_layer", "d_inner", "max_seq_len", "emb_dim", "filter_order",
             "short_filter_order", "num_inner_mlps", "hyena_order", "activation_freq", "train_freq", "use_bias",
             "embed_dropout", "hyena_dropout", "hyena_filter_dropout", "layer_norm_epsilon",
             "pad_vocab_size_multiple", "initializer_range")

_LAYER = "hyena.backbone.layers.{i}."
_FILTER = _LAYER + "mixer.filter_fn."
RENAMES = RenameTable(
    renames={
        "hyena.backbone.embeddings.word_embeddings.weight": "embed.weight",
        _LAYER + "norm1.weight": "blocks.{i}.norm1.weight",
        _LAYER + "norm1.bias": "blocks.{i}.norm1.bias",
        _LAYER + "norm2.weight": "blocks.{i}.norm2.weight",
        _LAYER + "norm2.bias": "blocks.{i}.norm2.bias",
        _LAYER + "mlp.fc1.weight": "blocks.{i}.mlp.fc1.weight",
        _LAYER + "mlp.fc1.bias": "blocks.{i}.mlp.fc1.bias",
        _LAYER + "mlp.fc2.weight": "blocks.{i}.mlp.fc2.weight",
        _LAYER + "mlp.fc2.bias": "blocks.{i}.mlp.fc2.bias",
        _LAYER + "mixer.in_proj.weight": "blocks.{i}.mixer.in_proj.weight",
        _LAYER + "mixer.in_proj.bias": "blocks.{i}.mixer.in_proj.bias",
        _LAYER + "mixer.out_proj.weight": "blocks.{i}.mixer.out_proj.weight",
        _LAYER + "mixer.out_proj.bias": "blocks.{i}.mixer.out_proj.bias",
        _LAYER + "mixer.short_filter.weight": "blocks.{i}.mixer.short_conv.weight",
        _LAYER + "mixer.short_filter.bias": "blocks.{i}.mixer.short_conv.bias",
        _FILTER + "bias": "blocks.{i}.mixer.filter.bias",
        _FILTER + "pos_emb.z": "blocks.{i}.mixer.filter.z",
        _FILTER + "pos_emb.t": "blocks.{i}.mixer.filter.t",
        _FILTER + "modulation.deltas": "blocks.{i}.mixer.filter.deltas",
        # implicit_filter = Sequential(Linear, Sin, Linear, Sin, Linear, Sin, Linear): num_inner_mlps = 2, and the
        # three Sin modules are ONE module, so their `freq` is one shared parameter
        _FILTER + "implicit_filter.0.weight": "blocks.{i}.mixer.filter.proj_in.weight",
        _FILTER + "implicit_filter.0.bias": "blocks.{i}.mixer.filter.proj_in.bias",
        _FILTER + "implicit_filter.1.freq": "blocks.{i}.mixer.filter.freq",
        _FILTER + "implicit_filter.2.weight": "blocks.{i}.mixer.filter.hidden.0.weight",
        _FILTER + "implicit_filter.2.bias": "blocks.{i}.mixer.filter.hidden.0.bias",
        _FILTER + "implicit_filter.4.weight": "blocks.{i}.mixer.filter.hidden.1.weight",
        _FILTER + "implicit_filter.4.bias": "blocks.{i}.mixer.filter.hidden.1.bias",
        _FILTER + "implicit_filter.6.weight": "blocks.{i}.mixer.filter.proj_out.weight",
        "hyena.backbone.ln_f.weight": "final_norm.weight",
        "hyena.backbone.ln_f.bias": "final_norm.bias",
    },
    discarded=("lm_head.",),  # next-token head of HyenaDNAForCausalLM; classification never uses it
    aliases={_FILTER + "implicit_filter.3.freq": _FILTER + "implicit_filter.1.freq",
             _FILTER + "implicit_filter.5.freq": _FILTER + "implicit_filter.1.freq"},
)


@dataclass(frozen=True)
class HyenaConfig:
    """configuration_hyena.HyenaConfig's fields (defaults = the tiny-1k checkpoint) + our `max_len`."""

    vocab_size: int = 12
    d_model: int = 128
    n_layer: int = 2
    d_inner: int = 512
    max_seq_len: int = 1026
    emb_dim: int = 5
    filter_order: int = 64
    short_filter_order: int = 3
    num_inner_mlps: int = 2
    hyena_order: int = 2
    activation_freq: float = 10.0
    train_freq: bool = True
    use_bias: bool = True
    embed_dropout: float = 0.1
    hyena_dropout: float = 0.0
    hyena_filter_dropout: float = 0.0
    layer_norm_epsilon: float = 1e-5
    pad_vocab_size_multiple: int = 8
    initializer_range: float = 0.02
    max_len: int = 0  # bp kept (5' end); 0 = up to max_seq_len. The run plan sets the task's max_bp


def positional_embedding(length: int, emb_dim: int) -> tuple[Tensor, Tensor]:
    """(z (1, L, emb_dim), t (1, L, 1)): t = linspace(0, 1), bands f = linspace(1e-4, B-1, B) with
    B = (emb_dim - 1) // 2, ω = 2π·l/L; z = [t, cos(-f ω), sin(-f ω)] (HyenaPositionalEmbedding)."""
    t = torch.linspace(0, 1, length)[None, :, None]
    bands = (emb_dim - 1) // 2
    w = 2 * math.pi * torch.linspace(0, length - 1, length)[None, :, None] / length
    f = torch.linspace(1e-4, bands - 1, bands)[None, None]
    return torch.cat([t, torch.cos(-f * w), torch.sin(-f * w)], dim=-1), t


def fftconv(u: Tensor, k: Tensor, bias: Tensor) -> Tensor:
    """Causal long convolution y_l = Σ_{j≤l} k_j u_{l-j} + bias ⊙ u_l via FFT of size 2L (no wrap-around).
    u (B, D, L), k (D, L), bias (D,); computed in float32 as upstream."""
    L = u.shape[-1]
    y = torch.fft.irfft(torch.fft.rfft(u.float(), n=2 * L) * torch.fft.rfft(k.float(), n=2 * L), n=2 * L)[..., :L]
    return (y + u * bias[:, None]).to(u.dtype)


class ImplicitFilter(nn.Module):
    """The long filter as a function of position: sine-activated MLP on z, times an exponential decay window.

    Optimizer settings as upstream (hyena-dna @ d553021, src/models/sequence/hyena.py and standalone_hyenadna.py):
    `OptimModule.register(name, tensor, lr)` makes a tensor a buffer when lr == 0.0, else a parameter tagged
    `_optim = {"lr": lr, "weight_decay": 0.0}`. PositionalEmbedding registers z with lr_pos_emb, which every hg38
    and genomic-benchmark config sets to 0.0, and t with 0.0; ExponentialModulation registers Δ with
    modulation_lr, 0.0 by default and in those configs: all three are buffers, so fine-tuning never changes them
    (z is a persistent buffer here, so the published `pos_emb.z` still loads by name). HyenaFilter tags every
    tensor of its implicit_filter children (the Linear weights and biases, the Sin `freq`) with `_optim =
    {"weight_decay": wd, "lr": lr}`, where the configs set wd 0.0 and lr = ${optimizer.lr}, the base rate: so we
    tag them `{"weight_decay": 0.0}` only (no lr override), for suite.train.optim.param_groups. The filter's
    `bias` gets no tag upstream (decayed there like any parameter; 1-D, so param_groups exempts it anyway).
    The tags live on the Parameter objects: pickling keeps them, copy.deepcopy of the module drops them.
    """

    NO_DECAY = {"weight_decay": 0.0}  # upstream's `_optim` of the implicit filter, wd 0.0 and lr = base lr

    def __init__(self, c: HyenaConfig) -> None:
        super().__init__()
        z, t = positional_embedding(c.max_seq_len, c.emb_dim)
        self.register_buffer("z", z)  # upstream: register("z", z, lr=lr_pos_emb = 0.0) → a buffer
        self.register_buffer("t", t)
        self.proj_in = nn.Linear(c.emb_dim, c.filter_order)
        self.hidden = nn.ModuleList(nn.Linear(c.filter_order, c.filter_order) for _ in range(c.num_inner_mlps))
        self.proj_out = nn.Linear(c.filter_order, c.d_model, bias=False)
        self.freq = nn.Parameter(c.activation_freq * torch.ones(1, c.filter_order))  # one Sin shared by all layers
        fast, slow, target = 0.3, 1.5, 1e-2  # HyenaExponentialModulation defaults
        deltas = torch.linspace(math.log(target) / slow, math.log(target) / fast, c.d_model)[None, None]
        self.register_buffer("deltas", deltas)  # upstream: register("deltas", …, lr=modulation_lr = 0.0)
        self.bias = nn.Parameter(torch.randn(c.d_model))
        for p in [*self.proj_in.parameters(), *self.hidden.parameters(), *self.proj_out.parameters(), self.freq]:
            p._optim = dict(self.NO_DECAY)

    def forward(self, length: int) -> Tensor:
        """The filter (D, L) for the first `length` positions."""
        h = torch.sin(self.freq * self.proj_in(self.z[:, :length]))
        for layer in self.hidden:
            h = torch.sin(self.freq * layer(h))
        h = self.proj_out(h) * (torch.exp(-self.t[:, :length] * self.deltas.abs()) + 0.05)  # shift 0.05
        return h[0].transpose(0, 1)


class HyenaOperator(nn.Module):
    def __init__(self, c: HyenaConfig) -> None:
        super().__init__()
        self.d = c.d_model
        self.in_proj = nn.Linear(c.d_model, 3 * c.d_model)
        self.out_proj = nn.Linear(c.d_model, c.d_model)
        self.short_conv = nn.Conv1d(3 * c.d_model, 3 * c.d_model, c.short_filter_order,
                                    padding=c.short_filter_order - 1, groups=3 * c.d_model)
        self.filter = ImplicitFilter(c)
        self.dropout = nn.Dropout(c.hyena_dropout)

    def forward(self, u: Tensor) -> Tensor:
        L = u.shape[1]
        z = self.short_conv(self.in_proj(u).transpose(1, 2))[..., :L]  # keep the first L: causal
        x0, x1, v = z.split(self.d, dim=1)
        v = fftconv(self.dropout(v * x1), self.filter(L), self.filter.bias)
        return self.out_proj((v * x0).transpose(1, 2))


class MLP(nn.Module):
    def __init__(self, c: HyenaConfig) -> None:
        super().__init__()
        self.fc1 = nn.Linear(c.d_model, c.d_inner)
        self.fc2 = nn.Linear(c.d_inner, c.d_model)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc2(F.gelu(self.fc1(x), approximate="tanh"))


class Block(nn.Module):
    def __init__(self, c: HyenaConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(c.d_model)
        self.mixer = HyenaOperator(c)
        self.norm2 = nn.LayerNorm(c.d_model)
        self.mlp = MLP(c)

    def forward(self, h: Tensor) -> Tensor:
        h = h + self.mixer(self.norm1(h))
        return h + self.mlp(self.norm2(h))


class CharTokenizer:
    """The checkpoint's character tokenizer: specials at ids 0 … 6, then its `characters` from 7."""

    rule = "hyenadna-chars"

    def __init__(self, characters: list[str], files_sha256: str | None = None) -> None:
        self.vocab = {**{t: i for i, t in enumerate(SPECIAL_TOKENS)}, **{ch: 7 + i for i, ch in enumerate(characters)}}
        self.pad_id, self.unk_id = self.vocab["[PAD]"], self.vocab["[UNK]"]
        self.code_ids = np.array([self.vocab.get(base, self.unk_id) for base in ALPHABET])  # by suite code
        self.files_sha256 = files_sha256 or wrapped.vocab_sha256(self.vocab)  # tokenizer_config.json's, if read

    @classmethod
    def from_snapshot(cls, snapshot: Path) -> CharTokenizer:
        path = snapshot / "tokenizer_config.json"
        chars = json.loads(path.read_text()).get("characters") if path.is_file() else None
        if not chars:
            raise SuiteError(f"no `characters` in {path}", "use a complete HyenaDNA -hf snapshot (`suite models fetch NAME`)")
        return cls(list(chars), wrapped.file_sha256(path))

    def __call__(self, seqs: list[str]) -> list[list[int]]:
        """Token ids of nucleotide strings (no special tokens), as the upstream tokenizer gives them."""
        return [[self.vocab.get(ch, self.unk_id) for ch in s.upper()] for s in seqs]

    def tokenize(self, seqs) -> wrapped.Ragged:
        """Ragged ids of encoded sequences: the vectorised `__call__` (one id per base)."""
        return self.code_ids[np.asarray(seqs.codes, dtype=np.int64)], np.asarray(seqs.offsets, dtype=np.int64)

    def encode(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """(ids (B, L), mask (B, L)) of a one-hot batch, right-padded with [PAD]: `tokenize` on a batch."""
        ids, counts = wrapped.batch_tokens(wrapped.SplitTokens(self.rule, self.tokenize), x, lengths)
        return wrapped.padded(ids, counts, self.pad_id, x.shape[1])


class HyenaDNA(nn.Module):
    def __init__(self, config: HyenaConfig) -> None:
        super().__init__()
        if config.hyena_order != 2 or config.num_inner_mlps != 2 or not config.train_freq:
            raise SuiteError("only the published HyenaDNA layout is implemented (hyena_order 2, num_inner_mlps 2, "
                             f"train_freq true); got {config.hyena_order}, {config.num_inner_mlps}, {config.train_freq}",
                             "use a published HyenaDNA config")
        self.config = config
        self.width = config.d_model
        multiple = config.pad_vocab_size_multiple
        self.embed = nn.Embedding(math.ceil(config.vocab_size / multiple) * multiple, config.d_model)
        self.dropout = nn.Dropout(config.embed_dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layer))
        self.final_norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_epsilon)
        self.tokenizer = CharTokenizer(list("ACGTN"))  # replaced by the snapshot's own

    def encode(self, ids: Tensor) -> Tensor:
        h = self.dropout(self.embed(ids))
        for block in self.blocks:
            h = block(h)
        return self.final_norm(h)

    @property
    def keep(self) -> int:
        """Bases kept (5' end): max_len, at most max_seq_len."""
        return min(self.config.max_len or self.config.max_seq_len, self.config.max_seq_len)

    @property
    def split_tokenizer(self) -> wrapped.SplitTokens:
        """The first `keep` bases of each sequence through the tokenizer, for the token cache."""
        tok = self.tokenizer
        return wrapped.SplitTokens(wrapped.fingerprint(tok.rule, tok.files_sha256, max_len=self.keep),
                                   wrapped.cut_bases(tok.tokenize, self.keep))

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        return self.forward_ids(*wrapped.batch_tokens(self.split_tokenizer, x, lengths), x.shape[1])

    def forward_ids(self, tokens: Tensor, counts: Tensor, width: int) -> tuple[Tensor, Tensor]:
        """The model on ids (B, T) with their counts (B,); `width` = the batch's length in bases (states come out
        (B, min(width, keep), E), zero at padding)."""
        ids, mask = wrapped.padded(tokens, counts, self.tokenizer.pad_id, min(width, self.keep))
        states = self.encode(ids) * mask[..., None]
        vector = states.sum(dim=1) / mask.sum(dim=1, keepdim=True).clamp_min(1)  # decoder mode "pool"
        return states, vector[:, None, :]


def load_published(model: HyenaDNA, published: dict[str, Tensor] | Path, source: str) -> None:
    """Copy a published state dict or snapshot (-hf hub names) into the model through RENAMES; exact keys and shapes."""
    load_into(model, published, source=source, rename=RENAMES.rename(model.config.n_layer), fix=SNAPSHOT_FIX)


@FAMILIES.register("hyenadna")
def build(params: dict, recipe: dict | None = None, source: str = "hyenadna") -> HyenaDNA:
    """Without `snapshot`: the card's architecture at random init. With `snapshot` (set by build_model from
    suite/models/hub.py): config.json's architecture, the snapshot's tokenizer and weights through RENAMES."""
    from suite.models.hub import read_config

    params = {**params, **(recipe or {})}
    snapshot = params.pop("snapshot", None)
    if snapshot:
        published = read_config(Path(snapshot))
        params.update({k: published[k] for k in ARCH_KEYS if k in published})
    model = HyenaDNA(build_strict(HyenaConfig, params, source))
    if snapshot:
        model.tokenizer = CharTokenizer.from_snapshot(Path(snapshot))
        load_published(model, Path(snapshot), f"{source} ({snapshot})")
    return model
