"""The pretraining corpus: seeded, reproducible fixed-length windows from any FASTA (paper §4.1: 1000-bp windows
of hg38; findna-facts §2.1).

Two ways in, chosen by the file's first bytes (not its name):
- plain FASTA: random access through a samtools-compatible `.fai` index (name, length, byte offset of the
  first base, bases per line, bytes per line), built once by one streaming pass and saved next to the file, or
  under <cache>/fai/ when that folder is read-only (<cache> = SUITE_CACHE_DIR or ~/.cache/dna-suite). An index
  older than its FASTA is rebuilt. Windows are gathered from a read-only memory map, vectorised.
- gzip (bgzip included): decompressed whole into memory once per call, line breaks removed. That is fine up to a
  few hundred MB; for a genome (hg38.fa.gz) run `gunzip -k hg38.fa.gz` once and pass the plain file.

Sampling rule (seeded with numpy's default_rng): only records at least `length` long take part;
`weighting="length"` (default) draws a start uniformly over all valid window starts of the corpus, i.e. a
record with probability ∝ (len - length + 1); `weighting="record"` picks a record uniformly first, as the
authors pick a chromosome uniformly (facts §2.1, §10.14). Lowercase (soft-masked) bases count as bases; IUPAC
codes count as N. Windows whose N fraction exceeds `max_n_frac` are skipped and redrawn (the authors kept
them; 1.0 reproduces that). The same (file, n, length, seed, max_n_frac, weighting) always gives the same
windows.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import zlib
from dataclasses import dataclass
from hashlib import sha1
from pathlib import Path

import numpy as np

from suite.data.cache import cache_dir
from suite.data.encode import INVALID, LOOKUP, N_CODE
from suite.errors import BadSequence, CorruptData, DataNotFound, SuiteError

GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 4096  # windows gathered per vectorised step
MAX_ROUNDS = 64


@dataclass(frozen=True)
class FastaIndex:
    """Per record: name, length, byte offset of the first base, bases per line, bytes per line (.fai columns)."""

    names: tuple[str, ...]
    lengths: np.ndarray
    offsets: np.ndarray
    line_bases: np.ndarray
    line_bytes: np.ndarray

    def write(self, path: Path) -> None:
        rows = zip(self.names, self.lengths, self.offsets, self.line_bases, self.line_bytes)
        text = "".join("\t".join(map(str, row)) + "\n" for row in rows)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> FastaIndex:
        names, columns = [], []
        for line in path.read_text().splitlines():
            fields = line.split("\t")
            names.append(fields[0])
            columns.append([int(v) for v in fields[1:5]])
        cols = np.asarray(columns, dtype=np.int64).reshape(-1, 4).T
        return cls(tuple(names), *cols)


def build_index(path: Path) -> FastaIndex:
    """One streaming pass over a plain FASTA. Every line of a record but the last must have the same length."""
    names, rows = [], []
    offset, current = 0, None

    def finish() -> None:
        if current is not None:
            names.append(current[0])
            rows.append(current[1:5])

    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            if line.startswith(b">"):
                finish()
                current = [line[1:].split()[0].decode() if line[1:].strip() else f"record{len(names)}",
                           0, offset + len(line), 0, 0, False]  # name, length, offset, bases, bytes, short seen
            else:
                bases = len(line.rstrip(b"\r\n"))
                if current is None:
                    if bases:
                        raise CorruptData(f"{path}: sequence before the first '>' header", "is this a FASTA file?")
                elif bases:
                    if current[3] == 0:
                        current[3], current[4] = bases, len(line)
                    elif current[5] or bases > current[3]:
                        raise CorruptData(f"{path}, line {number}: lines of record '{current[0]}' differ in length",
                                          "rewrap the file to one width, e.g. `seqkit seq -w 60 in.fa > out.fa`")
                    current[5] = current[5] or bases < current[3]
                    current[1] += bases
                else:
                    current[5] = True  # a blank line ends the record's sequence
            offset += len(line)
    finish()
    if not names:
        raise CorruptData(f"{path} holds no FASTA record", "is this a FASTA file?")
    cols = np.asarray(rows, dtype=np.int64).reshape(-1, 4).T
    return FastaIndex(tuple(names), *cols)


def index_path(path: Path) -> Path:
    """`<file>.fai` next to the FASTA when that folder is writable, else under <cache>/fai/."""
    if os.access(path.parent, os.W_OK):
        return path.with_name(path.name + ".fai")
    key = sha1(str(path.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / "fai" / f"{path.name}.{key}.fai"


def load_index(path: Path) -> FastaIndex:
    """The saved index, (re)built when missing or older than the FASTA."""
    fai = index_path(path)
    if fai.exists() and fai.stat().st_mtime_ns >= path.stat().st_mtime_ns:
        return FastaIndex.read(fai)
    index = build_index(path)
    fai.parent.mkdir(parents=True, exist_ok=True)
    index.write(fai)
    return index


def _read_gzip(path: Path) -> tuple[FastaIndex, np.ndarray]:
    """Decompress whole; records become one line each in an in-memory buffer (so the same gather applies)."""
    try:
        with gzip.open(path, "rb") as handle:
            data = handle.read()
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise CorruptData(f"{path} cannot be read ({exc.__class__.__name__})", "re-download the file") from exc
    if not data.lstrip().startswith(b">"):
        raise CorruptData(f"{path}: no '>' header at the start", "is this a FASTA file?")
    names, seqs = [], []
    for part in data.lstrip()[1:].split(b"\n>"):
        header, _, body = part.partition(b"\n")
        names.append(header.split()[0].decode() if header.strip() else f"record{len(names)}")
        seqs.append(body.replace(b"\n", b"").replace(b"\r", b""))
    lengths = np.asarray([len(s) for s in seqs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    width = np.maximum(lengths, 1)  # one "line" per record: no line breaks inside the buffer
    index = FastaIndex(tuple(names), lengths, offsets, width, width)
    return index, np.frombuffer(b"".join(seqs), dtype=np.uint8)


def open_corpus(path: str | Path) -> tuple[FastaIndex, np.ndarray]:
    """(index, bytes): a memory map of a plain FASTA, or the decompressed bases of a gzip one."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFound(f"FASTA file {path} not found", "pass an existing FASTA (plain or .gz) with --fasta")
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == GZIP_MAGIC
    if gzipped:
        return _read_gzip(path)
    return load_index(path), np.memmap(path, dtype=np.uint8, mode="r")


def gather(index: FastaIndex, data: np.ndarray, records: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """Raw bytes (n, length) of windows [start, start + length) of the given records (vectorised)."""
    positions = starts[:, None] + np.arange(length, dtype=np.int64)[None, :]
    lb, lw = index.line_bases[records][:, None], index.line_bytes[records][:, None]
    return np.asarray(data[index.offsets[records][:, None] + (positions // lb) * lw + positions % lb])


def sample_windows(path: str | Path, n: int, length: int, seed: int, max_n_frac: float = 0.1,
                   weighting: str = "length") -> np.ndarray:
    """n windows of `length` bases as uint8 codes (n, length) (A=0, C=1, G=2, T=3, N=4), reproducible for a seed.

    Windows with more than `max_n_frac` N are skipped; see the module docstring for the sampling rule."""
    if n < 0 or length < 1:
        raise SuiteError(f"cannot sample {n} windows of length {length}", "ask for n ≥ 0 windows of length ≥ 1")
    if weighting not in ("length", "record"):
        raise SuiteError(f"unknown window weighting '{weighting}'", "use 'length' or 'record' (authors')")
    index, data = open_corpus(path)
    candidates = np.flatnonzero(index.lengths >= length)
    if candidates.size == 0:
        raise SuiteError(f"{path}: no record is {length} bp or longer (longest {index.lengths.max()})",
                         "ask for shorter windows")
    starts_per_record = (index.lengths[candidates] - length + 1).astype(np.float64)
    weights = starts_per_record / starts_per_record.sum() if weighting == "length" else None
    rng = np.random.default_rng(seed)
    kept, have = [], 0
    for _ in range(MAX_ROUNDS):
        if have >= n:
            break
        draw = min(max(2 * (n - have), 256), 64 * CHUNK)
        picks = rng.choice(candidates.size, size=draw, p=weights)
        starts = np.floor(rng.random(draw) * starts_per_record[picks]).astype(np.int64)
        starts = np.minimum(starts, starts_per_record[picks].astype(np.int64) - 1)
        for lo in range(0, draw, CHUNK):
            if have >= n:
                break
            records = candidates[picks[lo : lo + CHUNK]]
            raw = gather(index, data, records, starts[lo : lo + CHUNK], length)
            codes = LOOKUP[raw]
            bad = np.argwhere(codes == INVALID)
            if bad.size:
                row, col = bad[0]
                raise BadSequence(f"{path}, record '{index.names[records[row]]}', position "
                                  f"{starts[lo + row] + col + 1}: character {chr(raw[row, col])!r} is not a nucleotide",
                                  "only A C G T N and IUPAC codes are accepted; fix the FASTA")
            ok = codes[(codes == N_CODE).mean(axis=1) <= max_n_frac]
            kept.append(ok[: n - have])
            have += len(kept[-1])
    if have < n:
        raise SuiteError(f"{path}: only {have} of {n} windows have at most {max_n_frac:.0%} N",
                         "raise max_n_frac or use a FASTA with fewer gaps")
    return np.concatenate(kept) if kept else np.zeros((0, length), dtype=np.uint8)
