"""Nucleotide encoding: sequences → uint8 codes (A=0, C=1, G=2, T=3, N=4), the index form of the paper's
5-channel one-hot (paper §2: A, C, G, T, N; the authors' code used A, C, G, N, T, findna-facts §6).

Everything is vectorised: all sequences of a split are joined into one byte buffer and mapped through a
256-entry lookup table. Lowercase is accepted; the other IUPAC codes (R Y S W K M B D H V, and U) become N and
are counted; any other character raises BadSequence naming the file, the row and the character.
Padding uses code PAD (= 5), whose one-hot row is all zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from suite.errors import BadSequence

ALPHABET = "ACGTN"
N_CHANNELS = 5
N_CODE = 4
PAD = 5
INVALID = 255
IUPAC_TO_N = "RYSWKMBDHVU"

LOOKUP = np.full(256, INVALID, dtype=np.uint8)
for _code, _base in enumerate(ALPHABET):
    LOOKUP[ord(_base)] = LOOKUP[ord(_base.lower())] = _code
IUPAC = np.zeros(256, dtype=bool)
for _base in IUPAC_TO_N:
    LOOKUP[ord(_base)] = LOOKUP[ord(_base.lower())] = N_CODE
    IUPAC[ord(_base)] = IUPAC[ord(_base.lower())] = True

# Row PAD is all zeros: padding (and anything the model must not see as a base) is the zero vector.
ONE_HOT = np.vstack([np.eye(N_CHANNELS, dtype=np.float32), np.zeros((1, N_CHANNELS), dtype=np.float32)])


@dataclass(frozen=True)
class EncodedSequences:
    """Ragged codes: sequence i is codes[offsets[i]:offsets[i + 1]]."""

    codes: np.ndarray  # uint8, all sequences concatenated
    offsets: np.ndarray  # int64, len n + 1
    n_iupac: int  # IUPAC codes other than ACGTN that became N

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def get(self, i: int) -> np.ndarray:
        return self.codes[self.offsets[i] : self.offsets[i + 1]]


def encode(sequences: list[str], source: str = "<sequences>", first_row: int = 1) -> EncodedSequences:
    """Encode sequences to codes. `source` and `first_row` (the row number of sequences[0]) name a bad input."""
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    if len(sequences) and lengths.min() == 0:
        row = int(np.argmin(lengths)) + first_row
        raise BadSequence(f"{source}, row {row}: empty sequence", "remove the row or fix the file")
    offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    joined = "".join(sequences)
    try:
        raw = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    except UnicodeEncodeError as exc:
        _raise_bad(source, first_row, offsets, exc.start, joined[exc.start])
    codes = LOOKUP[raw]
    bad = np.flatnonzero(codes == INVALID)
    if bad.size:
        _raise_bad(source, first_row, offsets, int(bad[0]), chr(raw[bad[0]]))
    return EncodedSequences(codes=codes, offsets=offsets, n_iupac=int(IUPAC[raw].sum()))


def _raise_bad(source: str, first_row: int, offsets: np.ndarray, position: int, char: str) -> None:
    row = int(np.searchsorted(offsets, position, side="right")) - 1
    column = position - int(offsets[row]) + 1
    raise BadSequence(
        f"{source}, row {row + first_row}, position {column}: character {char!r} is not a nucleotide",
        "only A C G T N and IUPAC codes are accepted; fix or drop that row",
    )


def decode(codes: np.ndarray) -> str:
    """Codes back to letters (PAD becomes '-'); for tests and debugging."""
    return "".join((ALPHABET + "-")[c] for c in codes)
