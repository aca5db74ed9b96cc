"""Shared plumbing for wrapped published models (DNABERT, Nucleotide Transformer, …), written once (style §6.5).

A wrapped model's published tokenizer works on text; the suite's input is codes (A=0 … N=4; one-hot in a batch).
Its tokens are made ONCE per split, not per batch (issue 20):
1. each family's tokenizer offers a `SplitTokens` (`split_tokenizer`): a `tokenize(EncodedSequences)` that turns
   a whole split's codes into ragged token ids (vectorised, no per-base Python), and a `fingerprint` (the
   sha256 of what decides the ids: the tokenizer files, the rule's version, the length settings);
2. the token cache (suite/data/cache.py `load_tokens`) stores those ids on disk beside the encoded split, keyed by
   the data and that fingerprint; trials memory-map them and batches carry their rows' ids (`token_ids`);
3. the backbone's `forward_ids(ids, counts, width)` consumes them directly: `windows` cuts each sequence's
   tokens into windows of at most the model's token limit with the model's special tokens, the model runs on the
   padded windows, `pool_windows` pools each ([CLS] or a masked mean) and `average_windows` averages a sequence's
   windows into the (B, E) vector the wrapper returns as its one [CLS] output (K = 1, cards use `pooling:
   cls_mean`).
`forward(x, lengths)` (one-hot, e.g. tests and any batch without cached ids) tokenizes the batch with the very
same `tokenize` (`batch_tokens`) and calls `forward_ids`: cached and on-the-fly ids are one code path.
The weights load through suite/models/weights.py (`load_into` with each family's `rename`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from itertools import product
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from suite.data.batching import gather_rows
from suite.data.encode import ALPHABET, N_CODE, EncodedSequences
from suite.errors import SuiteError
from suite.models.families._nucleotides import codes, strings

# one-hot back to nucleotide strings: one implementation for every wrapper (N wins where its channel is set)
decode = strings

# Bump when any family's tokenization rule changes: every cached entry made under the old rule is then unreachable.
TOKENIZER_VERSION = 1

Ragged = tuple[np.ndarray, np.ndarray]  # (values concatenated, offsets (n + 1,)): row i = values[offsets[i]:offsets[i+1]]


@dataclass(frozen=True)
class SplitTokens:
    """A wrapped model's tokenizer as the token cache (suite/data/cache.py) and `batch_tokens` use it."""

    fingerprint: str  # sha256 hex of what decides the ids (see `fingerprint`)
    tokenize: Callable[[EncodedSequences], Ragged]  # a split's codes → ragged ids (no windows, no padding)


def fingerprint(rule: str, files_sha256: str, **settings) -> str:
    """sha256 of everything that decides a tokenizer's ids: the rule (family tokenizer and TOKENIZER_VERSION), the
    sha256 of the tokenizer files it read (`file_sha256`; at random init that of its in-code vocabulary,
    `vocab_sha256`) and its length settings (truncation, max bp kept)."""
    text = json.dumps({"rule": rule, "version": TOKENIZER_VERSION, "files": files_sha256, **settings}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(*paths: Path) -> str:
    """sha256 over the bytes of the tokenizer files, in order."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def vocab_sha256(vocab: dict[str, int]) -> str:
    """sha256 of an in-code vocabulary as a vocab.txt would hold it (one token a line, in id order)."""
    return hashlib.sha256("\n".join(sorted(vocab, key=vocab.__getitem__)).encode()).hexdigest()


# ---- ragged token ids, vectorised ---------------------------------------------------------------------------

def ragged_codes(x: Tensor, lengths: Tensor) -> EncodedSequences:
    """A one-hot batch (B, L, 5) as the codes a split is tokenized from (N wins, as `decode`), cut at lengths."""
    mask = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]
    flat = codes(x)[mask].to(torch.uint8).cpu().numpy()
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths.cpu().numpy(), out=offsets[1:])
    return EncodedSequences(flat, offsets, 0)


def batch_tokens(tokens: SplitTokens, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
    """(ids (B, T) int64, 0 beyond each row's count; counts (B,)) of a one-hot batch: what the cache holds for
    these sequences, padded as a batch of cached ids is (suite/data/batching.py `collate`)."""
    ids, offsets = tokens.tokenize(ragged_codes(x, lengths))
    padded, counts = gather_rows(ids, offsets, np.arange(len(offsets) - 1), 0)
    return (torch.from_numpy(padded.astype(np.int64)).to(x.device),
            torch.from_numpy(counts.astype(np.int64)).to(x.device))


def _row_starts(offsets: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """For each element of rows of `counts` elements laid out back to back: its row's start in `offsets`."""
    return np.repeat(offsets[:-1], counts)


def truncate(values: np.ndarray, offsets: np.ndarray, limit: int | None) -> Ragged:
    """Each row cut to its first `limit` elements (None or 0: unchanged)."""
    offsets = np.asarray(offsets, dtype=np.int64)
    if not limit:
        return values, offsets
    lengths = np.diff(offsets)
    kept = np.minimum(lengths, limit)
    new = np.zeros_like(offsets)
    np.cumsum(kept, out=new[1:])
    index = _row_starts(offsets, kept) + (np.arange(new[-1]) - _row_starts(new, kept))
    return np.asarray(values)[index], new


def _cut_then(seqs: EncodedSequences, tokenize: Callable[[EncodedSequences], Ragged], max_len: int) -> Ragged:
    return tokenize(EncodedSequences(*truncate(seqs.codes, seqs.offsets, max_len), 0))


def cut_bases(tokenize: Callable[[EncodedSequences], Ragged], max_len: int) -> Callable[[EncodedSequences], Ragged]:
    """`tokenize` on each sequence's first `max_len` bases (0: the whole sequence): a model that keeps the 5' end."""
    return partial(_cut_then, tokenize=tokenize, max_len=max_len)


def add_specials(values: np.ndarray, offsets: np.ndarray, prefix: list[int], suffix: list[int]) -> Ragged:
    """Each row as prefix + row + suffix (a template's special tokens)."""
    lengths = np.diff(offsets)
    new = np.zeros_like(offsets)
    np.cumsum(lengths + len(prefix) + len(suffix), out=new[1:])
    out = np.empty(new[-1], dtype=np.int64)
    body = _row_starts(new, lengths) + len(prefix) + (np.arange(len(values)) - _row_starts(offsets, lengths))
    out[body] = values
    for t, token in enumerate(prefix):
        out[new[:-1] + t] = token
    for t, token in enumerate(suffix):
        out[new[1:] - len(suffix) + t] = token
    return out, new


def kmer_table(vocab: dict[str, int], k: int, unk: int) -> np.ndarray:
    """The id of every k-mer over A, C, G, T, N (vocab.get(kmer, unk)), at its base-5 index (first base most
    significant, digits = suite codes): a k-mer's id is then a table lookup, exactly the dict lookup."""
    return np.array([vocab.get("".join(p), unk) for p in product(ALPHABET, repeat=k)], dtype=np.int64)


def _kmer_index(codes_: np.ndarray, k: int) -> np.ndarray:
    """(N,) base-5 index of the k codes starting at each position (positions past the end read code 0)."""
    padded = np.concatenate([np.asarray(codes_, dtype=np.int64), np.zeros(k, dtype=np.int64)])
    index = np.zeros(len(codes_), dtype=np.int64)
    for j in range(k):
        index = index * 5 + padded[j:j + len(codes_)]
    return index


def overlapping_kmers(seqs: EncodedSequences, k: int, table: np.ndarray) -> Ragged:
    """Every overlapping k-mer of each sequence (stride 1: len - k + 1 of them, none when shorter than k)."""
    lengths = seqs.lengths
    counts = np.maximum(lengths - k + 1, 0)
    new = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=new[1:])
    starts = _row_starts(seqs.offsets, counts) + (np.arange(new[-1]) - _row_starts(new, counts))
    return table[_kmer_index(seqs.codes, k)[starts]], new


def nonoverlapping_kmers(seqs: EncodedSequences, k: int, table: np.ndarray, singles: np.ndarray, n_id: int) -> Ragged:
    """Nucleotide Transformer's rule, vectorised: each sequence is split at every N (each N its own token `n_id`);
    each piece gives consecutive k-mers from its start, and the last len % k bases of a piece single-base tokens
    (`singles[code]`)."""
    c = np.asarray(seqs.codes, dtype=np.int64)
    n, total = len(seqs), len(c)
    row = np.repeat(np.arange(n), seqs.lengths)
    p = np.arange(total)
    is_n = c == N_CODE
    after_n = np.zeros(total, dtype=bool)
    after_n[1:] = is_n[:-1]
    begins = (p == seqs.offsets[:-1][row]) | after_n  # a piece begins at its sequence's start or after an N
    piece_start = np.maximum.accumulate(np.where(begins, p, 0)) if total else p
    next_n = np.minimum.accumulate(np.where(is_n, p, total)[::-1])[::-1] if total else p
    piece_end = np.minimum(next_n, seqs.offsets[1:][row])
    length, r = piece_end - piece_start, p - piece_start
    whole = length - length % k
    kmer_at = ~is_n & (r < whole) & (r % k == 0)
    single_at = ~is_n & (r >= whole)
    emit = is_n | kmer_at | single_at
    ids = np.where(is_n, n_id, np.where(kmer_at, table[_kmer_index(c, k)], singles[np.minimum(c, N_CODE)]))
    new = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(row[emit], minlength=n), out=new[1:])
    return ids[emit], new


def ragged_strings(seqs: EncodedSequences) -> list[str]:
    """Codes back to nucleotide strings (uppercase ACGTN), one per sequence: for tokenizers that need text."""
    text = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)[np.asarray(seqs.codes)].tobytes().decode()
    bounds = seqs.offsets.tolist()
    return [text[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


# ---- windows over a batch of ids ----------------------------------------------------------------------------

def windows(ids: Tensor, counts: Tensor, body: int, prefix: list[int], suffix: list[int], pad_id: int,
            first_only: bool = False) -> tuple[Tensor, Tensor, Tensor]:
    """Cut each sequence's tokens (ids (B, T), counts (B,)) into consecutive windows of at most `body` tokens, each
    as prefix + tokens + suffix, padded with `pad_id` to the longest window.

    Returns (window ids (W, T') int64, attention mask (W, T') int64, owner (W,)) where owner[w] is the sequence
    window w belongs to, windows in sequence order then position order. An empty sequence still gives one window
    (special tokens only), so every sequence has an embedding; `first_only` keeps each sequence's first window
    (long_input: truncate)."""
    n_windows = torch.ones_like(counts) if first_only else ((counts + body - 1) // body).clamp_min(1)
    owner = torch.repeat_interleave(torch.arange(len(counts), device=ids.device), n_windows)
    first = torch.cumsum(n_windows, 0) - n_windows  # each sequence's first window
    start = (torch.arange(len(owner), device=ids.device) - first[owner]) * body
    size = (counts[owner] - start).clamp(0, body)  # content tokens of each window
    P, S = len(prefix), len(suffix)
    width = int((size.max() if len(size) else 0) + P + S)
    t = torch.arange(width, device=ids.device)[None, :]
    q = t - P  # position within the window's content
    source = (start[:, None] + q).clamp(0, max(ids.shape[1] - 1, 0))
    content = ids[owner].gather(1, source) if ids.shape[1] else torch.zeros_like(source)
    out = torch.full((len(owner), width), pad_id, dtype=torch.long, device=ids.device)
    if P:
        out = torch.where(t < P, torch.tensor(prefix, device=ids.device)[t.clamp(max=P - 1)], out)
    out = torch.where((q >= 0) & (q < size[:, None]), content, out)
    if S:
        after = q - size[:, None]
        out = torch.where((after >= 0) & (after < S), torch.tensor(suffix, device=ids.device)[after.clamp(0, S - 1)], out)
    mask = (t < (size + P + S)[:, None]).long()
    return out, mask, owner


def padded(ids: Tensor, counts: Tensor, pad_id: int, width: int | None = None) -> tuple[Tensor, Tensor]:
    """(ids with `pad_id` beyond each count, mask (B, T) bool), widened with padding to `width` columns if given."""
    if width is not None and width > ids.shape[1]:
        ids = torch.nn.functional.pad(ids, (0, width - ids.shape[1]))
    mask = torch.arange(ids.shape[1], device=ids.device)[None, :] < counts[:, None]
    return ids.masked_fill(~mask, pad_id), mask


def pool_windows(hidden: Tensor, content: Tensor, mode: str) -> Tensor:
    """(W, E) per window: `cls` = the first token's state; `mean` = mean over content tokens (mask (W, T),
    specials and padding excluded; a window without content falls back to its first token)."""
    if mode == "cls":
        return hidden[:, 0]
    if mode == "mean":
        weights = content.to(hidden.dtype).unsqueeze(-1)
        count = weights.sum(1)
        mean = (hidden * weights).sum(1) / count.clamp_min(1.0)
        return torch.where(count > 0, mean, hidden[:, 0])
    raise SuiteError(f"unknown pooling '{mode}' of a wrapped model", "use pool: cls or pool: mean in the card params")


def average_windows(pooled: Tensor, owner: Tensor, n: int) -> Tensor:
    """(n, E): the mean of each sequence's window vectors (sliding windows averaged)."""
    index = torch.as_tensor(owner, device=pooled.device)
    total = pooled.new_zeros(n, pooled.shape[-1]).index_add_(0, index, pooled)
    count = pooled.new_zeros(n).index_add_(0, index, pooled.new_ones(len(owner)))
    return total / count[:, None]


def sequence_outputs(vector: Tensor, length: int) -> tuple[Tensor, Tensor]:
    """The backbone protocol's (tokens (B, L, E) zeros, cls (B, 1, E)) for a sequence-level vector (B, E)."""
    tokens = vector.new_zeros(1, 1, 1).expand(vector.shape[0], length, vector.shape[-1])
    return tokens, vector[:, None, :]


def read_vocab(path, expected: list[str], name: str) -> dict[str, int]:
    """token → id from a snapshot's vocab.txt (one token a line; the line number is the id).

    The file is the authority for ids (the weights were trained with it); it must hold every token our tokenizer
    emits (`expected`, in the published order). A file that differs from the published order is accepted only
    if it still holds them all; the ids are then taken from the file, never from our list."""
    try:
        tokens = path.read_text().splitlines()
    except OSError as exc:
        raise SuiteError(f"cannot read {path} ({type(exc).__name__})", "fetch the snapshot again") from exc
    vocab = {t: i for i, t in enumerate(tokens)}
    absent = [t for t in expected if t not in vocab]
    if absent:
        raise SuiteError(f"{path} is not a {name} vocabulary: {len(absent)} of its tokens are absent "
                         f"(e.g. {', '.join(absent[:3])})", f"point the card at a {name} snapshot")
    return vocab
