"""Shared plumbing for wrapped published models (DNABERT, Nucleotide Transformer, …), written once (style §6.5).

A wrapped model sees the suite's input, one-hot (B, L, 5) over A, C, G, T, N with zero rows at padding, and:
1. turns it back into nucleotide strings (`decode`: N where the N channel is set, else argmax over A, C, G, T, each
   string cut at its true length), because the published tokenizers work on text;
2. tokenizes them with the model's own tokenizer into *windows* of at most the model's token limit
   (`windows`: longer inputs become several windows, each with the model's special tokens);
3. runs the model on the padded window batch and pools each window (`pool_windows`: [CLS] or a masked mean);
4. averages the windows of each sequence (`average_windows`), giving the (B, E) sequence vector that the wrapper
   returns as its one [CLS] output (K = 1, cards use `pooling: cls_mean`).
The weights load through suite/models/weights.py (`load_into` with each family's `rename`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

from suite.errors import SuiteError
from suite.models.families._nucleotides import strings

# one-hot back to nucleotide strings: one implementation for every wrapper (N wins where its channel is set)
decode = strings


def windows(token_lists: Sequence[list[int]], body: int, wrap: Callable[[list[int]], list[int]]
            ) -> tuple[list[list[int]], list[int]]:
    """Cut each sequence's tokens into windows of at most `body` tokens and add the special tokens (`wrap`).

    Returns (windows, owner) where owner[w] is the sequence that window w belongs to. An empty token list still
    gives one window (special tokens only), so every sequence has an embedding.
    """
    out, owner = [], []
    for i, tokens in enumerate(token_lists):
        starts = range(0, max(len(tokens), 1), body)
        for start in starts:
            out.append(wrap(tokens[start:start + body]))
            owner.append(i)
    return out, owner


def pad_windows(rows: list[list[int]], pad_id: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """(ids (W, T), attention mask (W, T) int64) padded with `pad_id` to the longest window."""
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask[i, : len(row)] = 1
    return ids.to(device), mask.to(device)


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


def average_windows(pooled: Tensor, owner: list[int], n: int) -> Tensor:
    """(n, E): the mean of each sequence's window vectors (sliding windows averaged)."""
    index = torch.tensor(owner, device=pooled.device)
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
