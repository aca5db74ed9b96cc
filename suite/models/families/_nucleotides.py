"""One-hot batches back to nucleotides, for wrapped models that tokenize with their own tokenizer.

The suite hands every backbone (B, L, 5) one-hot over A, C, G, T, N with zero vectors at padding and the true
lengths; a published model instead wants its own token ids. These helpers undo the one-hot: the N channel wins
where it is set (IUPAC codes were encoded as N), otherwise the arg-max base; each row is cut at its length.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

ALPHABET = "ACGTN"
_LETTERS = np.frombuffer(ALPHABET.encode(), dtype=np.uint8)


def codes(x: Tensor) -> Tensor:
    """(B, L, 5) one-hot → (B, L) int64 codes A=0, C=1, G=2, T=3, N=4 (padding rows come out as 0: cut them)."""
    return torch.where(x[..., 4] > 0, 4, x[..., :4].argmax(dim=-1))


def strings(x: Tensor, lengths: Tensor) -> list[str]:
    """(B, L, 5) one-hot + lengths → the nucleotide strings (uppercase ACGTN), each cut at its length."""
    letters = _LETTERS[codes(x).cpu().numpy()]  # (B, L) bytes, vectorised
    return [row[:n].tobytes().decode() for row, n in zip(letters, lengths.tolist())]
