"""DNABERT-2 (Zhou et al., ICLR 2024; zhihan1996/DNABERT-2-117M) as a native module: no remote code runs.

Architecture as the hub repository's `bert_layers.py` defines it (MosaicBERT; read at the hub commit the
DNABERT_2 repo's finetune/train.py loads, github MAGICS-LAB/DNABERT_2 @ d87d29f):
- embeddings = word + token-type (always type 0) → LayerNorm → dropout; **no position embeddings**;
- each of the N layers (post-LN): fused Wqkv → multi-head attention with an **ALiBi** bias
  (-slope_h · |i - j|, symmetric, slopes of Press et al. with the non-power-of-2 interleave) plus -10000 at
  padded keys → dense → dropout → LayerNorm(x + ·); then the **gated MLP** (GEGLU): gated_layers (no bias) to
  2·I, GELU(first half) · second half → dropout → wo → LayerNorm(x + ·);
- the classifier the authors fine-tune (`BertForSequenceClassification`, finetune/train.py) pools the
  **[CLS] token through BertPooler** (dense + tanh), then dropout(0.1) + Linear. The hub file is the MLM
  checkpoint, which has no pooler, so the pooler starts fresh (N(0, 0.02), zero bias) exactly as it does there;
  the card's `cls_mean` pooling reads that one vector and its linear head with dropout 0.1 is their classifier.
Tokens: the checkpoint's own BPE tokenizer (tokenizer.json, `tokenizers` library): "[CLS] seq [SEP]", cut at
`max_tokens` (the authors' model_max_length per task, run_dnabert2.sh). Per-nucleotide outputs are not defined
for BPE tokens, so `tokens` is a zero tensor and the sequence vector comes out as one "[CLS]" output (K = 1).
A split is tokenized once and cached (`split_tokenizer`, keyed by tokenizer.json's sha256, max_tokens and max_len;
suite/models/wrapped.py); `forward_ids` consumes the ids.
"""

from __future__ import annotations

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
from suite.models.weights import SNAPSHOT_FIX, RenameTable, load_into

OUTPUTS = Outputs(tokens=False, cls=1)  # one vector per sequence, in the one [CLS] slot (no per-position outputs)

# config.json keys that fix the architecture (the published names; BertConfig defaults where a file omits one)
ARCH_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
             "type_vocab_size", "layer_norm_eps", "hidden_dropout_prob", "attention_probs_dropout_prob")

RENAMES = RenameTable(
    renames={
        "bert.embeddings.word_embeddings.weight": "embed.tokens.weight",
        "bert.embeddings.token_type_embeddings.weight": "embed.token_type.weight",
        "bert.embeddings.LayerNorm.weight": "embed.norm.weight",
        "bert.embeddings.LayerNorm.bias": "embed.norm.bias",
        "bert.encoder.layer.{i}.attention.self.Wqkv.weight": "blocks.{i}.attn.qkv.weight",
        "bert.encoder.layer.{i}.attention.self.Wqkv.bias": "blocks.{i}.attn.qkv.bias",
        "bert.encoder.layer.{i}.attention.output.dense.weight": "blocks.{i}.attn.proj.weight",
        "bert.encoder.layer.{i}.attention.output.dense.bias": "blocks.{i}.attn.proj.bias",
        "bert.encoder.layer.{i}.attention.output.LayerNorm.weight": "blocks.{i}.norm1.weight",
        "bert.encoder.layer.{i}.attention.output.LayerNorm.bias": "blocks.{i}.norm1.bias",
        "bert.encoder.layer.{i}.mlp.gated_layers.weight": "blocks.{i}.mlp.gate_up.weight",
        "bert.encoder.layer.{i}.mlp.wo.weight": "blocks.{i}.mlp.down.weight",
        "bert.encoder.layer.{i}.mlp.wo.bias": "blocks.{i}.mlp.down.bias",
        "bert.encoder.layer.{i}.mlp.layernorm.weight": "blocks.{i}.norm2.weight",
        "bert.encoder.layer.{i}.mlp.layernorm.bias": "blocks.{i}.norm2.bias",
        "bert.pooler.dense.weight": "pooler.weight",
        "bert.pooler.dense.bias": "pooler.bias",
    },
    discarded=("cls.predictions.",),  # the MLM head (BertForMaskedLM); the classifier never uses it
)


@dataclass(frozen=True)
class DNABERT2Config:
    vocab_size: int = 4096
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.0
    max_tokens: int = 512  # tokens incl. [CLS]/[SEP] (model_max_length); ALiBi has no hard limit
    max_len: int = 0  # bp kept before tokenizing (5' end); 0 = whole sequence. The run plan sets the task's max_bp


def alibi_slopes(n_heads: int) -> Tensor:
    """ALiBi head slopes (Press et al. 2022): 2^(-8/n · h) for a power of 2; otherwise those of the closest
    lower power of 2 followed by every other slope of the next power (as bert_layers.py builds them)."""
    return torch.tensor(_slopes(n_heads))


def _slopes(n: int) -> list[float]:
    if math.log2(n).is_integer():
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        return [start ** (h + 1) for h in range(n)]
    lower = 2 ** math.floor(math.log2(n))
    return _slopes(lower) + _slopes(2 * lower)[0::2][: n - lower]


class Attention(nn.Module):
    def __init__(self, c: DNABERT2Config) -> None:
        super().__init__()
        self.heads = c.num_attention_heads
        self.qkv = nn.Linear(c.hidden_size, 3 * c.hidden_size)
        self.proj = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout = c.attention_probs_dropout_prob

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        B, T, E = x.shape
        # Wqkv's output is laid out (3, heads, head_dim): rearrange 'b s (t h d) -> t b h s d'
        q, k, v = self.qkv(x).view(B, T, 3, self.heads, E // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=self.dropout if self.training else 0.0)
        return self.proj(out.transpose(1, 2).reshape(B, T, E))


class GatedMLP(nn.Module):
    """GEGLU: GELU(x W_g) ⊙ (x W_u) → W_o; W_g and W_u are the two halves of one bias-free `gated_layers`."""

    def __init__(self, c: DNABERT2Config) -> None:
        super().__init__()
        self.gate_up = nn.Linear(c.hidden_size, 2 * c.intermediate_size, bias=False)
        self.down = nn.Linear(c.intermediate_size, c.hidden_size)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, x: Tensor) -> Tensor:
        gated, linear = self.gate_up(x).chunk(2, dim=-1)  # first half is gated (bert_layers.py)
        return self.down(self.dropout(F.gelu(gated) * linear))


class Block(nn.Module):
    def __init__(self, c: DNABERT2Config) -> None:
        super().__init__()
        self.attn = Attention(c)
        self.norm1 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.mlp = GatedMLP(c)
        self.norm2 = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, x: Tensor, bias: Tensor) -> Tensor:
        x = self.norm1(x + self.dropout(self.attn(x, bias)))  # post-LN, as BERT
        return self.norm2(x + self.mlp(x))


class Embeddings(nn.Module):
    def __init__(self, c: DNABERT2Config) -> None:
        super().__init__()
        self.tokens = nn.Embedding(c.vocab_size, c.hidden_size)
        self.token_type = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.norm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, ids: Tensor) -> Tensor:
        return self.dropout(self.norm(self.tokens(ids) + self.token_type.weight[0]))  # single segment: type 0


class BPETokenizer:
    """The checkpoint's tokenizer.json through the `tokenizers` library: its BPE, its "[CLS] $A [SEP]" template,
    truncation to `max_tokens` and right padding with its [PAD]."""

    rule = "dnabert2-bpe"
    CHUNK = 4096  # sequences per encode_batch call when a whole split is tokenized (bounds the padded lists)

    def __init__(self, path: Path, max_tokens: int) -> None:
        from tokenizers import Tokenizer

        if not path.is_file():
            raise SuiteError(f"no tokenizer.json in {path.parent}", "use a complete DNABERT-2 snapshot (`suite models fetch dnabert2`)")
        self.tok = Tokenizer.from_file(str(path))
        for special in ("[CLS]", "[SEP]", "[PAD]"):
            if self.tok.token_to_id(special) is None:
                raise SuiteError(f"{path} has no {special} token", "use the tokenizer.json of the DNABERT-2 snapshot")
        self.pad_id = self.tok.token_to_id("[PAD]")
        self.max_tokens = max_tokens
        self.files_sha256 = wrapped.file_sha256(path)
        self.tok.enable_truncation(max_tokens)
        self.tok.enable_padding(pad_id=self.pad_id, pad_token="[PAD]")

    def __call__(self, seqs: list[str]) -> tuple[Tensor, Tensor]:
        """(ids (B, T) int64, attention mask (B, T) bool)."""
        enc = self.tok.encode_batch(seqs)
        ids = torch.tensor([e.ids for e in enc], dtype=torch.int64)
        return ids, torch.tensor([e.attention_mask for e in enc], dtype=torch.bool)

    def tokenize(self, seqs) -> wrapped.Ragged:
        """Ragged ids of encoded sequences: each row as `__call__` gives it, without its padding."""
        texts = wrapped.ragged_strings(seqs)
        rows: list[list[int]] = []
        for start in range(0, len(texts), self.CHUNK):
            rows.extend(e.ids[: sum(e.attention_mask)] for e in self.tok.encode_batch(texts[start:start + self.CHUNK]))
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r) for r in rows], out=offsets[1:])
        return np.fromiter((i for r in rows for i in r), dtype=np.int64, count=int(offsets[-1])), offsets


class CharTokens:
    """Random-init builds only (no snapshot, so no BPE merges): "[CLS] bases [SEP]" with one token per base,
    ids [CLS]=1, [SEP]=2, [PAD]=3 as the hub vocabulary and A, C, G, T, N = 5 … 9, cut at `max_tokens`."""

    pad_id = 3
    rule = "dnabert2-chars"
    files_sha256 = "in-code"  # no files: the ids above are the rule

    def __init__(self, max_tokens: int) -> None:
        self.body = max_tokens - 2
        self.max_tokens = max_tokens

    def __call__(self, seqs: list[str]) -> tuple[Tensor, Tensor]:
        rows = [[1, *(5 + "ACGTN".index(b) for b in s[: self.body]), 2] for s in seqs]
        width = max(len(r) for r in rows)
        ids = torch.tensor([r + [self.pad_id] * (width - len(r)) for r in rows], dtype=torch.int64)
        return ids, ids != self.pad_id

    def tokenize(self, seqs) -> wrapped.Ragged:
        """Ragged ids of encoded sequences, as `__call__` gives them (vectorised)."""
        codes, offsets = wrapped.truncate(seqs.codes, seqs.offsets, self.body)
        return wrapped.add_specials(5 + np.asarray(codes, dtype=np.int64), offsets, [1], [2])


class DNABERT2(nn.Module):
    def __init__(self, config: DNABERT2Config) -> None:
        super().__init__()
        if config.hidden_size % config.num_attention_heads:
            raise SuiteError(f"hidden_size {config.hidden_size} is not a multiple of num_attention_heads "
                             f"{config.num_attention_heads}", "fix config.json or the card's params")
        self.config = config
        self.width = config.hidden_size
        self.embed = Embeddings(config)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.num_hidden_layers))
        self.pooler = nn.Linear(config.hidden_size, config.hidden_size)
        self.register_buffer("slopes", alibi_slopes(config.num_attention_heads), persistent=False)
        # the snapshot's BPE replaces this; at random init (quick runs, tests) bases are the tokens
        self.tokenizer: BPETokenizer | CharTokens = CharTokens(config.max_tokens)
        self.apply(_init_bert)

    def encode(self, ids: Tensor, mask: Tensor) -> Tensor:
        """Token states (B, T, E) of token ids with their attention mask."""
        T = ids.shape[1]
        pos = torch.arange(T, device=ids.device)
        alibi = -self.slopes[:, None, None] * (pos[None, :, None] - pos[None, None, :]).abs()  # (H, T, T)
        x = self.embed(ids)
        bias = (alibi[None] + (~mask[:, None, None, :]) * -10000.0).to(x.dtype)  # padded keys as in bert_layers.py
        for block in self.blocks:
            x = block(x, bias)
        return x

    @property
    def split_tokenizer(self) -> wrapped.SplitTokens:
        """The first max_len bases of each sequence through the tokenizer, for the token cache."""
        tok, max_len = self.tokenizer, self.config.max_len
        return wrapped.SplitTokens(wrapped.fingerprint(tok.rule, tok.files_sha256, max_tokens=tok.max_tokens, max_len=max_len),
                                   wrapped.cut_bases(tok.tokenize, max_len))

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        return self.forward_ids(*wrapped.batch_tokens(self.split_tokenizer, x, lengths), x.shape[1])

    def forward_ids(self, tokens: Tensor, counts: Tensor, width: int) -> tuple[Tensor, Tensor]:
        """The model on token ids (B, T) with their counts (B,); `width` = the batch's length in bases."""
        ids, mask = wrapped.padded(tokens, counts, self.tokenizer.pad_id)
        states = self.encode(ids, mask)
        vector = torch.tanh(self.pooler(states[:, 0]))  # BertPooler on [CLS] (BertForSequenceClassification)
        return vector.new_zeros(1, 1, 1).expand(len(counts), width, self.width), vector[:, None, :]


def _init_bert(module: nn.Module) -> None:
    """BertPreTrainedModel._init_weights: N(0, 0.02) weights, zero biases, unit LayerNorms."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


def load_published(model: DNABERT2, published: dict[str, Tensor] | Path, source: str) -> None:
    """Copy a published state dict or snapshot (hub names) into the model through RENAMES; exact keys and shapes.
    The pooler may be absent (the MLM checkpoint has none): it starts fresh, as in their fine-tuning."""
    load_into(model, published, source=source, rename=RENAMES.rename(model.config.num_hidden_layers),
              optional=lambda key: key.startswith("pooler."), fix=SNAPSHOT_FIX)


def config_from_snapshot(snapshot: Path, source: str) -> dict:
    """The architecture keys of a snapshot's config.json (the published BertConfig names)."""
    from suite.models.hub import read_config

    published = read_config(snapshot)
    if published.get("hidden_act", "gelu") != "gelu":
        raise SuiteError(f"{source}: hidden_act '{published['hidden_act']}' in {snapshot}/config.json",
                         "DNABERT-2 uses exact GELU; this is not a DNABERT-2 snapshot")
    return {k: published[k] for k in ARCH_KEYS if k in published}


@FAMILIES.register("dnabert2")
def build(params: dict, recipe: dict | None = None, source: str = "dnabert2") -> DNABERT2:
    """Without `snapshot`: the card's architecture at random init, with one token per base (`CharTokens`).
    With `snapshot` (build_model sets it from suite/models/hub.py): config.json's architecture, its tokenizer and
    its weights, loaded through RENAMES."""
    params = {**params, **(recipe or {})}
    snapshot = params.pop("snapshot", None)
    if snapshot:
        params.update(config_from_snapshot(Path(snapshot), source))
    config = build_strict(DNABERT2Config, params, source)
    model = DNABERT2(config)
    if snapshot:
        model.tokenizer = BPETokenizer(Path(snapshot) / "tokenizer.json", config.max_tokens)
        load_published(model, Path(snapshot), f"{source} ({snapshot})")
    return model
