"""Nucleotide encoding: sequences → uint8 codes (A=0, C=1, G=2, T=3, N=4), the index form of the paper's
5-channel one-hot (paper §2: A, C, G, T, N; the authors' code used A, C, G, N, T, findna-facts §6).

Everything is vectorised: all sequences of a split are one ASCII byte string (joined once, or read that way by
formats.py: `JoinedSequences`) mapped through a 256-entry table by `bytes.translate`, one C pass at memory speed;
invalid and IUPAC bytes are then found with `in` (memchr), so a clean split costs one pass and two scans. Lowercase
is accepted; the other IUPAC codes (R Y S W K M B D H V, and U) become N and
are counted; any other character raises BadSequence naming the file, the row and the character.
Padding uses code PAD (= 5), whose one-hot row is all zeros.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property

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

# The table `encode` translates through: LOOKUP, except that IUPAC codes map to a marker so they can be counted
# (and only then rewritten to N) without a second table pass over a split that has none.
IUPAC_MARK = 6
_TABLE = np.where(IUPAC, IUPAC_MARK, LOOKUP).astype(np.uint8).tobytes()
_INVALID_BYTE = bytes([INVALID])
_IUPAC_BYTE = bytes([IUPAC_MARK])

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


@dataclass(frozen=True)
class JoinedSequences(Sequence):
    """Sequences as one ASCII byte string, what a fast reader (formats.read_simple_csv) hands to `encode` without
    building a str per row. Dropping the bytes of `drop` from `data` leaves the sequences end to end: sequence i
    is bases offsets[i]:offsets[i + 1] of that. `drop` lets a reader leave a file's separators and labels in
    place (no sequence contains them) so that one translate pass both drops them and encodes the bases.
    Reads as a list of str too (decoded on access)."""

    data: bytes  # ASCII only (readers check); the encoder reports any byte that is not a nucleotide
    offsets: np.ndarray  # int64, len n + 1
    drop: bytes = b""

    def plain(self) -> JoinedSequences:
        """The same sequences with nothing to drop: data is the sequences end to end (made once)."""
        return JoinedSequences(self._plain_data, self.offsets) if self.drop else self

    @cached_property
    def _plain_data(self) -> bytes:
        return self.data.translate(None, self.drop)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = range(len(self))[i]  # negative indices, IndexError past the end
        return self.plain().data[self.offsets[i] : self.offsets[i + 1]].decode("ascii")

    def __iter__(self) -> Iterator[str]:
        text = self.plain().data.decode("ascii")
        bounds = self.offsets.tolist()
        return (text[a:b] for a, b in zip(bounds[:-1], bounds[1:]))


def encode(sequences: Sequence[str] | JoinedSequences, source: str = "<sequences>",
           first_row: int = 1) -> EncodedSequences:
    """Encode sequences to codes. `source` and `first_row` (the row number of sequences[0]) name a bad input."""
    if isinstance(sequences, JoinedSequences):
        offsets = np.asarray(sequences.offsets, dtype=np.int64)
        lengths = np.diff(offsets)
    else:
        lengths = np.fromiter(map(len, sequences), dtype=np.int64, count=len(sequences))
        offsets = np.zeros(len(sequences) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
    if len(lengths) and lengths.min() == 0:
        row = int(np.argmin(lengths)) + first_row
        raise BadSequence(f"{source}, row {row}: empty sequence", "remove the row or fix the file")
    if isinstance(sequences, JoinedSequences):
        mapped = sequences.data.translate(_TABLE, sequences.drop)
        if len(mapped) != offsets[-1]:
            raise ValueError(f"{source}: JoinedSequences whose offsets do not fit its data (a reader's bug)")
    else:
        joined = "".join(sequences)
        try:
            mapped = joined.encode("ascii").translate(_TABLE)
        except UnicodeEncodeError as exc:
            _raise_bad(source, first_row, offsets, exc.start, joined[exc.start])
    if _INVALID_BYTE in mapped:
        position = mapped.index(_INVALID_BYTE)
        text = sequences.plain().data.decode("ascii") if isinstance(sequences, JoinedSequences) else joined
        _raise_bad(source, first_row, offsets, position, text[position])
    codes = np.frombuffer(mapped, dtype=np.uint8).copy()  # a writable array, as callers (torch.from_numpy) expect
    if _IUPAC_BYTE not in mapped:  # the usual case: no IUPAC code, the translated bytes are the codes
        return EncodedSequences(codes=codes, offsets=offsets, n_iupac=0)
    iupac = codes == IUPAC_MARK
    codes[iupac] = N_CODE
    return EncodedSequences(codes=codes, offsets=offsets, n_iupac=int(np.count_nonzero(iupac)))


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
