"""Nucleotide Transformer (Dalla-Torre et al. 2024, Nature Methods 22:287; github.com/instadeepai/nucleotide-transformer)
as a backbone: transformers' native `EsmModel`, no remote code, and our tokenizer.

Tokenizer (`NonOverlappingKmerTokenizer`, the published `FixedSizeNucleotidesKmersTokenizer` rule): the sequence is
split at every N; each piece is cut into consecutive 6-mers from its start; a last piece shorter than 6 becomes
single nucleotides; each N is its own token; "<cls>" is prepended, nothing appended.
Example (k = 6): "AAAAAATTNCCCCCCG" → <cls> AAAAAA T T N CCCCCC G.
Vocabulary order as published (v2 vocab.txt, 4,107 lines): <unk>, <pad>, <mask>, <cls>, <eos>, <bos> (ids 0-5),
the 4,096 6-mers in `itertools.product("ATCG", repeat=6)` order (ids 6-4101: AAAAAA, AAAAAT, AAAAAC, …), then the
single nucleotides A, T, C, G, N (ids 4102-4106). With a snapshot the ids come from its own vocab.txt, which must
hold every token we emit; N maps to <unk> if a vocabulary has no "N".

Two generations, one family (the snapshot's config.json decides):
- v1 (500m-human-ref, 2.5b-multi-species): standard ESM layers (GELU FFN with biases), learned absolute positions,
  1,000 tokens (max_position_embeddings 1002, ESM's positions start after the padding index);
- v2 (…-v2-50m-multi-species, …): rotary positions, 2,048 tokens, and a gated FFN that upstream ships only as
  remote code. Its config.json carries `add_bias_fnn` (InstaDeepAI's esm_config key), which is how we recognise
  it: `GatedFFN` replaces the native intermediate layer (dense: hidden → 2·intermediate, SiLU(x1)·x2), keeping the
  parameter names, and output.dense loses its bias when add_bias_fnn is false.
A split's ids are made once and cached (`split_tokenizer`: the same rule vectorised, suite/models/wrapped.py
`nonoverlapping_kmers`); `forward_ids` consumes them.
Long inputs: consecutive windows of `max_tokens - 1` tokens, each with its own <cls>, vectors averaged.
Pooling inside the wrapper: `pool: mean` (the paper's embeddings: mean over the 6-mer tokens, <cls> and padding
excluded) or `pool: cls`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from itertools import product
from pathlib import Path

from torch import Tensor, nn

from suite.cards import build as build_strict
from suite.errors import SuiteError
from suite.models import FAMILIES
from suite.models import wrapped
from suite.models.contract import Outputs
from suite.models.weights import SNAPSHOT_FIX, load_into

OUTPUTS = Outputs(tokens=False, cls=1)  # one vector per sequence, in the one [CLS] slot (no per-position outputs)

SPECIALS = ("<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>")
ALPHABET = "ATCG"
HF_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
           "max_position_embeddings", "position_embedding_type", "hidden_dropout_prob",
           "attention_probs_dropout_prob", "layer_norm_eps", "emb_layer_norm_before", "token_dropout",
           "pad_token_id", "mask_token_id")


def published_vocab(k: int = 6) -> list[str]:
    """The Nucleotide Transformer vocab.txt (v2), line by line (line number = token id)."""
    return [*SPECIALS, *("".join(p) for p in product(ALPHABET, repeat=k)), *ALPHABET, "N"]


class NonOverlappingKmerTokenizer:
    """Non-overlapping k-mers with single-nucleotide fallback (see the module docstring)."""

    def __init__(self, vocab: dict[str, int], k: int = 6, files_sha256: str | None = None) -> None:
        self.k = k
        self.vocab = vocab
        self.pad_id, self.cls_id, self.unk_id = vocab["<pad>"], vocab["<cls>"], vocab["<unk>"]
        self.n_id = vocab.get("N", self.unk_id)
        table = wrapped.kmer_table(vocab, k, self.unk_id)
        singles = wrapped.kmer_table(vocab, 1, self.unk_id)  # by code: A, C, G, T (N never reads it)
        self.split_tokens = wrapped.SplitTokens(
            wrapped.fingerprint("nt-nonoverlapping-kmers", files_sha256 or wrapped.vocab_sha256(vocab), k=k),
            partial(wrapped.nonoverlapping_kmers, k=k, table=table, singles=singles, n_id=self.n_id))

    def body(self, seq: str) -> list[int]:
        """Token ids of `seq` without <cls>."""
        k, get, unk = self.k, self.vocab.get, self.unk_id
        ids: list[int] = []
        pieces = seq.split("N")
        for j, piece in enumerate(pieces):
            whole = len(piece) - len(piece) % k
            ids.extend(get(piece[i:i + k], unk) for i in range(0, whole, k))
            ids.extend(get(c, unk) for c in piece[whole:])
            if j < len(pieces) - 1:
                ids.append(self.n_id)
        return ids

    def wrap(self, ids: list[int]) -> list[int]:
        return [self.cls_id, *ids]

    def __call__(self, seq: str) -> list[int]:
        return self.wrap(self.body(seq))


@dataclass(frozen=True)
class NTConfig:
    # the published architecture (the card's hub config.json); a snapshot's config.json replaces these
    vocab_size: int = 4107
    hidden_size: int = 512
    num_hidden_layers: int = 12
    num_attention_heads: int = 16
    intermediate_size: int = 2048
    max_position_embeddings: int = 2050
    position_embedding_type: str = "rotary"
    hidden_dropout_prob: float = 0.0
    attention_probs_dropout_prob: float = 0.0
    layer_norm_eps: float = 1e-12
    emb_layer_norm_before: bool = False
    token_dropout: bool = False
    pad_token_id: int = 1
    mask_token_id: int = 2
    add_bias_fnn: bool | None = None  # None = v1 (standard ESM FFN); false/true = v2 gated FFN
    # the wrapper
    k: int = 6
    max_tokens: int = 2048  # <cls> + tokens per window
    long_input: str = "windows"  # windows (averaged) | truncate (first window only)
    pool: str = "mean"  # mean | cls
    max_len: int = 0  # the task's max bp (set by the run plan); unused: windows handle any length
    snapshot: str | None = None  # set by build_model for a card with weights (suite/models/hub.py)


class GatedFFN(nn.Module):
    """NT v2's feed-forward input half: SiLU(x W1) ⊙ (x W2), W1 and W2 stacked in one `dense` (2·intermediate)."""

    def __init__(self, hidden: int, intermediate: int, bias: bool) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden, 2 * intermediate, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        gate, value = self.dense(x).chunk(2, dim=-1)
        return nn.functional.silu(gate) * value


class NTBackbone(nn.Module):
    def __init__(self, config: NTConfig, hf_config: dict, vocab: dict[str, int], add_bias_fnn: bool | None,
                 vocab_sha256: str | None = None) -> None:
        super().__init__()
        from transformers import EsmConfig, EsmModel

        if config.long_input not in ("windows", "truncate"):
            raise SuiteError(f"unknown long_input '{config.long_input}'", "use windows or truncate")
        self.config = config
        self.tokenizer = NonOverlappingKmerTokenizer(vocab, config.k, vocab_sha256)
        esm_config = EsmConfig(**hf_config)
        self.esm = EsmModel(esm_config, add_pooling_layer=False)
        self.esm.contact_head = nn.Identity()  # the protein contact head: no part of NT's use
        if add_bias_fnn is not None:  # v2: gated FFN (see the module docstring)
            for layer in self.esm.encoder.layer:
                layer.intermediate = GatedFFN(esm_config.hidden_size, esm_config.intermediate_size, add_bias_fnn)
                layer.output.dense = nn.Linear(esm_config.intermediate_size, esm_config.hidden_size, bias=add_bias_fnn)
        self.width = esm_config.hidden_size
        # ESM positions start at padding_idx + 1, so max_position_embeddings - 2 tokens fit (1002 → 1000)
        self.max_tokens = min(config.max_tokens, esm_config.max_position_embeddings - esm_config.pad_token_id - 1)

    @property
    def split_tokenizer(self) -> wrapped.SplitTokens:
        """A split's token ids (no <cls>, no windows: the same for any max_tokens), for the token cache."""
        return self.tokenizer.split_tokens

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        return self.forward_ids(*wrapped.batch_tokens(self.split_tokenizer, x, lengths), x.shape[1])

    def forward_ids(self, tokens: Tensor, counts: Tensor, width: int) -> tuple[Tensor, Tensor]:
        """The wrapper on token ids (B, T) with their counts (B,); `width` = the batch's length in bases."""
        tok = self.tokenizer
        ids, mask, owner = wrapped.windows(tokens, counts, self.max_tokens - 1, [tok.cls_id], [], tok.pad_id,
                                           first_only=self.config.long_input == "truncate")
        hidden = self.esm(input_ids=ids, attention_mask=mask).last_hidden_state
        content = mask.bool() & (ids != tok.cls_id)
        pooled = wrapped.pool_windows(hidden, content, self.config.pool)
        return wrapped.sequence_outputs(wrapped.average_windows(pooled, owner, len(counts)), width)


def rename(key: str, rotary: bool = False) -> str | None:
    """Published key → our key; None for unused parts. The hub checkpoints are EsmForMaskedLM: `esm.*` is the
    encoder, `lm_head.*` the masked-LM head and `esm.contact_head.*` a protein head (both unused); buffers
    (position_ids, rotary inv_freq) are recomputed from the config. With rotary positions (v2) the checkpoint still
    holds an absolute position table, because the hub's remote-code EsmEmbeddings always creates one; it is never
    read (the golden fixture nt_v2 has it, and transformers' native EsmModel has no such table to load it into)."""
    if key.startswith("lm_head.") or ".contact_head." in f".{key}" or key.endswith(("position_ids", "inv_freq")):
        return None
    if rotary and key.endswith("embeddings.position_embeddings.weight"):
        return None
    # transformers' save_pretrained writes LayerNorm parameters under their legacy names gamma / beta
    key = key.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
    return key if key.startswith("esm.") else f"esm.{key}"  # a bare EsmModel.save_pretrained has no prefix


def _derived(key: str) -> bool:
    return key.endswith("inv_freq")  # rotary frequencies: computed from the config


@FAMILIES.register("nucleotide_transformer")
def build(params: dict, recipe: dict | None = None, source: str = "nucleotide_transformer") -> NTBackbone:
    config = build_strict(NTConfig, {**params, **(recipe or {})}, source)
    if config.snapshot is None:  # random init of the card's architecture (listing, --set weights=none)
        # v1 configs say vocab_size 4105 while the published v2 vocab has 4,107 lines: without a snapshot's
        # vocab.txt to say otherwise, tokens beyond the embedding read as <unk> (via the tokenizer's fallback)
        vocab = {t: i for i, t in enumerate(published_vocab(config.k)) if i < config.vocab_size}
        return NTBackbone(config, {k: getattr(config, k) for k in HF_KEYS}, vocab, config.add_bias_fnn)
    from suite.models import hub

    snapshot = Path(config.snapshot)
    raw = hub.read_config(snapshot)
    hf_config = {k: v for k, v in raw.items() if k in HF_KEYS or k == "hidden_act"}
    emitted = [t for t in published_vocab(config.k) if t not in ("<mask>", "<eos>", "<bos>", "N")]
    vocab = wrapped.read_vocab(snapshot / "vocab.txt", emitted, "Nucleotide Transformer")
    top = max(vocab[t] for t in [*emitted, "N"] if t in vocab)  # the largest id our tokenizer can emit
    if top >= raw.get("vocab_size", 0):
        raise SuiteError(f"{snapshot}: vocab.txt gives ids up to {top} but config.json says vocab_size "
                         f"{raw.get('vocab_size')}", "the snapshot is inconsistent; fetch it again")
    backbone = NTBackbone(config, hf_config, vocab, raw.get("add_bias_fnn"), wrapped.file_sha256(snapshot / "vocab.txt"))
    rotary = hf_config.get("position_embedding_type") == "rotary"
    load_into(backbone, snapshot, source=str(snapshot), rename=lambda key: rename(key, rotary), optional=_derived,
              fix=SNAPSHOT_FIX)
    return backbone

