"""DNABERT (Ji et al. 2021, Bioinformatics 37:2112; github.com/jerryji1993/DNABERT), k = 6, as a backbone.

Architecture: BERT-base (transformers' native `BertModel`, no remote code) over overlapping 6-mers.
Tokenizer (ours, `KmerTokenizer`): every overlapping k-mer of the sequence (stride 1), a k-mer holding N → [UNK],
then "[CLS] k-mers [SEP]". Vocabulary order as published (DNABERT src/transformers/dnabert-config/bert-config-6/
vocab.txt; hub zhihan1996/DNA_bert_6): [PAD], [UNK], [CLS], [SEP], [MASK], then the 4^k k-mers in
`itertools.product("ATCG", repeat=k)` order (AAAAAA, AAAAAT, AAAAAC, AAAAAG, AAAATA, …, GGGGGG): ids 0-4 and
5-4100 for k = 6. The snapshot's own vocab.txt gives the ids when a checkpoint is loaded (`read_vocab`).
The split's k-mer ids are made once and cached (`split_tokenizer`, suite/models/wrapped.py: a base-5 table lookup
per position, exactly the dict lookup of `kmers`); `forward_ids` consumes them.
Long inputs (the model sees at most 512 tokens = 510 k-mers = 515 bp): sliding windows, averaged. The k-mers are
cut into consecutive windows of `max_tokens - 2` k-mers, each wrapped in [CLS] … [SEP] and embedded on its own;
the sequence vector is the mean of its windows' vectors (`long_input: truncate` keeps the first window only).
Pooling inside the wrapper: `pool: cls` = the last hidden state of [CLS] (the published pooler's tanh layer is
not used: it belongs to the next-sentence head that DNABERT never trained), `pool: mean` = masked mean of the
k-mer tokens.
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

SPECIALS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
ALPHABET = "ATCG"  # the published k-mer order's digit order (not A, C, G, T)
HF_KEYS = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
           "max_position_embeddings", "type_vocab_size", "hidden_dropout_prob", "attention_probs_dropout_prob")


def published_vocab(k: int = 6) -> list[str]:
    """DNABERT's vocab.txt, line by line (line number = token id)."""
    return [*SPECIALS, *("".join(p) for p in product(ALPHABET, repeat=k))]


class KmerTokenizer:
    """Overlapping k-mers (stride 1) → ids from a vocabulary; N-holding k-mers → [UNK].
    `files_sha256`: the sha256 of the vocab.txt it was read from (None: the in-code published vocabulary)."""

    def __init__(self, vocab: dict[str, int], k: int = 6, files_sha256: str | None = None) -> None:
        self.k = k
        self.vocab = vocab
        self.pad_id, self.unk_id, self.cls_id, self.sep_id = (vocab[t] for t in SPECIALS[:4])
        self.table = wrapped.kmer_table(vocab, k, self.unk_id)
        self.split_tokens = wrapped.SplitTokens(
            wrapped.fingerprint("dnabert-overlapping-kmers", files_sha256 or wrapped.vocab_sha256(vocab), k=k),
            partial(wrapped.overlapping_kmers, k=k, table=self.table))

    def kmers(self, seq: str) -> list[int]:
        """The ids of every overlapping k-mer of `seq` (no special tokens)."""
        get, unk = self.vocab.get, self.unk_id
        return [get(seq[i:i + self.k], unk) for i in range(len(seq) - self.k + 1)]

    def wrap(self, ids: list[int]) -> list[int]:
        return [self.cls_id, *ids, self.sep_id]

    def __call__(self, seq: str) -> list[int]:
        """[CLS] k-mers [SEP] of one sequence, no length limit (the reference for tests)."""
        return self.wrap(self.kmers(seq))


@dataclass(frozen=True)
class DnabertConfig:
    # the published architecture (zhihan1996/DNA_bert_6 config.json); a snapshot's config.json replaces these
    vocab_size: int = 4101
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    # the wrapper
    k: int = 6
    max_tokens: int = 512  # [CLS] + k-mers + [SEP] per window
    long_input: str = "windows"  # windows (averaged) | truncate (first window only)
    pool: str = "cls"  # cls | mean
    max_len: int = 0  # the task's max bp (set by the run plan); unused: windows handle any length
    snapshot: str | None = None  # set by build_model for a card with weights (suite/models/hub.py)


class DnabertBackbone(nn.Module):
    def __init__(self, config: DnabertConfig, hf_config: dict, vocab: dict[str, int],
                 vocab_sha256: str | None = None) -> None:
        super().__init__()
        from transformers import BertConfig, BertModel

        if config.long_input not in ("windows", "truncate"):
            raise SuiteError(f"unknown long_input '{config.long_input}'", "use windows or truncate")
        self.config = config
        self.tokenizer = KmerTokenizer(vocab, config.k, vocab_sha256)
        self.bert = BertModel(BertConfig(**hf_config), add_pooling_layer=False)
        self.width = self.bert.config.hidden_size
        self.max_tokens = min(config.max_tokens, self.bert.config.max_position_embeddings)

    @property
    def split_tokenizer(self) -> wrapped.SplitTokens:
        """A split's k-mer ids (no specials, no windows: the same for any max_tokens), for the token cache."""
        return self.tokenizer.split_tokens

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        return self.forward_ids(*wrapped.batch_tokens(self.split_tokenizer, x, lengths), x.shape[1])

    def forward_ids(self, kmers: Tensor, counts: Tensor, width: int) -> tuple[Tensor, Tensor]:
        """The wrapper on k-mer ids (B, T) with their counts (B,); `width` = the batch's length in bases."""
        tok = self.tokenizer
        ids, mask, owner = wrapped.windows(kmers, counts, self.max_tokens - 2, [tok.cls_id], [tok.sep_id], tok.pad_id,
                                           first_only=self.config.long_input == "truncate")
        hidden = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=ids.new_zeros(ids.shape)).last_hidden_state
        content = mask.bool() & (ids != tok.cls_id) & (ids != tok.sep_id)
        pooled = wrapped.pool_windows(hidden, content, self.config.pool)
        return wrapped.sequence_outputs(wrapped.average_windows(pooled, owner, len(counts)), width)


def rename(key: str) -> str | None:
    """Published checkpoint key → our key; None for the parts we do not use.

    DNA_bert_6 is a BertForMaskedLM checkpoint: `bert.*` is the encoder, `cls.*` the masked-LM head (unused),
    `bert.pooler.*` the next-sentence pooler (unused, see the module docstring); old checkpoints name LayerNorm
    parameters gamma/beta and carry the `position_ids` buffer."""
    if key.startswith("cls.") or ".pooler." in f".{key}" or key.endswith("position_ids"):
        return None
    key = key.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
    return key if key.startswith("bert.") else f"bert.{key}"  # a bare BertModel.save_pretrained has no prefix


@FAMILIES.register("dnabert")
def build(params: dict, recipe: dict | None = None, source: str = "dnabert") -> DnabertBackbone:
    config = build_strict(DnabertConfig, {**params, **(recipe or {})}, source)
    if config.snapshot is None:  # random init of the card's architecture (listing, --set weights=none)
        return DnabertBackbone(config, {k: getattr(config, k) for k in HF_KEYS},
                               {t: i for i, t in enumerate(published_vocab(config.k))})
    from suite.models import hub

    snapshot = Path(config.snapshot)
    hf_config = {k: v for k, v in hub.read_config(snapshot).items() if k in HF_KEYS or k in ("layer_norm_eps", "hidden_act")}
    vocab = wrapped.read_vocab(snapshot / "vocab.txt", published_vocab(config.k), f"DNABERT {config.k}-mer")
    if len(vocab) > hf_config.get("vocab_size", 0):
        raise SuiteError(f"{snapshot}: vocab.txt has {len(vocab)} tokens but config.json says vocab_size "
                         f"{hf_config.get('vocab_size')}", "the snapshot is inconsistent; fetch it again")
    backbone = DnabertBackbone(config, hf_config, vocab, wrapped.file_sha256(snapshot / "vocab.txt"))
    load_into(backbone, snapshot, source=str(snapshot), rename=rename, fix=SNAPSHOT_FIX)
    return backbone
