"""The pretraining corpus: seeded, reproducible fixed-length windows from any FASTA (paper §4.1: 1000-bp windows
of hg38; findna-facts §2.1).

Three ways in, chosen by the file's first bytes (not its name), all with random access and flat memory:
- plain FASTA: a samtools-compatible `.fai` index (name, length, byte offset of the first base, bases per line,
  bytes per line), built once by one streaming pass; windows are gathered from a read-only memory map, vectorised.
- bgzip (BGZF, what NCBI and Ensembl ship as `.fa.gz`/`.fna.gz`, and what `bgzip` writes): the same `.fai` in
  uncompressed coordinates plus a samtools-compatible `.gzi` block index (compressed and uncompressed offset of
  every 64-KiB block), read from the block headers without decompressing. A window decompresses only the blocks it
  touches, one block at a time, so memory does not grow with the genome.
- plain gzip (not blocked): decompressed once, streaming, into <cache>/fasta/ and then read as a plain FASTA.
Indexes are written under <cache>/fai/ (<cache> = SUITE_CACHE_DIR or ~/.cache/dna-suite), never into the data's
folder, which may be shared, read-only or checksummed; an up-to-date `<file>.fai` / `<file>.gzi` already next to
the file (e.g. from `samtools faidx`) is used as it is. An index older than its FASTA is rebuilt.

Soft-masked (lowercase) bases read as their uppercase; `soft_mask="n"` reads them as N instead, so that windows
mostly in repeats are skipped by the N filter.

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
import shutil
import struct
import tempfile
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from hashlib import sha1
from pathlib import Path

import numpy as np

from suite.data.cache import cache_dir
from suite.data.encode import INVALID, LOOKUP, N_CODE
from suite.errors import BadSequence, CorruptData, DataNotFound, SuiteError

GZIP_MAGIC = b"\x1f\x8b"
BGZF_HEADER = 18  # gzip header with one 6-byte extra field: subfield 'BC', length 2, BSIZE (total block size - 1)
BLOCKS_KEPT = 16  # decompressed BGZF blocks kept (up to 64 KiB each), for windows that share a block
SOFT_MASK_RULES = ("upper", "n")
SOFT_MASKED_AS_N = LOOKUP.copy()  # LOOKUP with lowercase bases (soft-masked repeats) read as N
SOFT_MASKED_AS_N[[c for c in range(ord("a"), ord("z") + 1) if LOOKUP[c] != INVALID]] = N_CODE
CHUNK = 4096  # windows gathered per vectorised step (bounds the int64 position array: CHUNK x length)
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


def build_index(path: Path, opener=open) -> FastaIndex:
    """One streaming pass over a FASTA (plain, or decompressed by `opener`, e.g. gzip.open for BGZF, whose `.fai`
    holds uncompressed offsets as samtools writes it). Every line of a record but the last must have the same
    length."""
    names, rows = [], []
    offset, current = 0, None

    def finish() -> None:
        if current is not None:
            names.append(current[0])
            rows.append(current[1:5])

    with opener(path, "rb") as handle:
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


def index_path(path: Path, suffix: str = ".fai") -> Path:
    """Where the index of `path` lives: an up-to-date `<file><suffix>` already next to the file (samtools'), else
    <cache>/fai/<file>.<key><suffix>, keyed by the file's absolute path."""
    beside = path.with_name(path.name + suffix)
    if beside.is_file() and beside.stat().st_mtime_ns >= path.stat().st_mtime_ns:
        return beside
    key = sha1(str(path.resolve()).encode()).hexdigest()[:16]
    return cache_dir() / "fai" / f"{path.name}.{key}{suffix}"


def _fresh(index: Path, path: Path) -> bool:
    return index.is_file() and index.stat().st_mtime_ns >= path.stat().st_mtime_ns


def load_index(path: Path, opener=open) -> FastaIndex:
    """The saved `.fai`, (re)built when missing or older than the FASTA."""
    fai = index_path(path)
    if _fresh(fai, path):
        return FastaIndex.read(fai)
    index = build_index(path, opener)
    fai.parent.mkdir(parents=True, exist_ok=True)
    index.write(fai)
    return index


def _corrupt(path: Path, what: str) -> CorruptData:
    return CorruptData(f"{path} cannot be read ({what})", "re-download the file, or check it with `gzip -t`")


def is_bgzf(path: Path) -> bool:
    """A BGZF file starts with a gzip member whose extra field is the 'BC' subfield (SAM/BAM spec §4.1)."""
    with open(path, "rb") as handle:
        head = handle.read(BGZF_HEADER)
    return len(head) == BGZF_HEADER and head[:4] == b"\x1f\x8b\x08\x04" and head[12:16] == b"BC\x02\x00"


@dataclass(frozen=True)
class BgzfBlocks:
    """Where every BGZF block starts, in the file (`compressed`) and in the decompressed stream (`uncompressed`).
    Saved as samtools' `.gzi`: uint64 count, then (compressed, uncompressed) uint64 pairs for every block but the
    first, which is (0, 0)."""

    compressed: np.ndarray
    uncompressed: np.ndarray

    @classmethod
    def scan(cls, path: Path) -> BgzfBlocks:
        """Walk the block headers: BSIZE gives the next block's offset, the trailing ISIZE its decompressed size;
        nothing is decompressed."""
        compressed, uncompressed, offset, total = [], [], 0, 0
        size = path.stat().st_size
        with open(path, "rb") as handle:
            while offset < size:
                handle.seek(offset)
                head = handle.read(BGZF_HEADER)
                if len(head) < BGZF_HEADER or head[:4] != b"\x1f\x8b\x08\x04" or head[12:14] != b"BC":
                    raise _corrupt(path, f"no BGZF block header at byte {offset}")
                block_size = struct.unpack("<H", head[16:18])[0] + 1
                handle.seek(offset + block_size - 4)
                tail = handle.read(4)
                if len(tail) < 4:
                    raise _corrupt(path, f"the BGZF block at byte {offset} is truncated")
                compressed.append(offset)
                uncompressed.append(total)
                total += struct.unpack("<I", tail)[0]
                offset += block_size
        return cls(np.asarray(compressed, dtype=np.int64), np.asarray(uncompressed, dtype=np.int64))

    def write(self, path: Path) -> None:
        pairs = np.stack([self.compressed[1:], self.uncompressed[1:]], axis=1).astype("<u8")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(struct.pack("<Q", len(pairs)) + pairs.tobytes())
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> BgzfBlocks:
        raw = path.read_bytes()
        count = struct.unpack("<Q", raw[:8])[0]
        pairs = np.frombuffer(raw[8 : 8 + 16 * count], dtype="<u8").reshape(count, 2).astype(np.int64)
        return cls(np.concatenate([[0], pairs[:, 0]]), np.concatenate([[0], pairs[:, 1]]))


class BgzfBases:
    """The decompressed bytes of a BGZF file, indexable by an array of uncompressed positions (what `gather` asks):
    each block the positions touch is decompressed once per call, the last few are kept."""

    def __init__(self, path: Path, blocks: BgzfBlocks) -> None:
        self.path, self.blocks = path, blocks
        self.decompressions = 0  # blocks decompressed so far (what a window sample costs)
        self._kept: OrderedDict[int, np.ndarray] = OrderedDict()

    def _block(self, number: int) -> np.ndarray:
        if number in self._kept:
            self._kept.move_to_end(number)
            return self._kept[number]
        with open(self.path, "rb") as handle:
            handle.seek(int(self.blocks.compressed[number]))
            head = handle.read(BGZF_HEADER)
            block_size = struct.unpack("<H", head[16:18])[0] + 1
            payload = handle.read(block_size - BGZF_HEADER)
        self.decompressions += 1
        try:
            data = np.frombuffer(zlib.decompress(payload[:-8], wbits=-15), dtype=np.uint8)
        except zlib.error as exc:
            raise _corrupt(self.path, f"BGZF block {number}: {exc}") from exc
        self._kept[number] = data
        if len(self._kept) > BLOCKS_KEPT:
            self._kept.popitem(last=False)
        return data

    def __getitem__(self, positions: np.ndarray) -> np.ndarray:
        flat = np.asarray(positions, dtype=np.int64).ravel()
        numbers = np.searchsorted(self.blocks.uncompressed, flat, side="right") - 1
        order = np.argsort(numbers, kind="stable")
        bounds = np.flatnonzero(np.diff(numbers[order])) + 1
        out = np.empty(flat.shape, dtype=np.uint8)
        for group in np.split(order, bounds) if flat.size else []:
            number = int(numbers[group[0]])
            data = self._block(number)
            local = flat[group] - self.blocks.uncompressed[number]
            if local.max() >= data.size:
                raise _corrupt(self.path, f"position {int(flat[group].max())} lies past BGZF block {number}")
            out[group] = data[local]
        return out.reshape(np.shape(positions))


BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")  # SAM spec §4.1.2
BGZF_BLOCK_INPUT = 0xFF00  # bytes of input per block, as bgzip (a block must stay under 64 KiB compressed)


def bgzip(source: Path, target: Path, level: int = 6) -> None:
    """Compress a plain file into BGZF (what `bgzip -c source > target` writes), for a genome that arrives as plain
    gzip or as plain text: BGZF keeps random access, so a genome need not be decompressed to disk."""
    with open(source, "rb") as reader, open(target, "wb") as writer:
        while chunk := reader.read(BGZF_BLOCK_INPUT):
            packer = zlib.compressobj(level, zlib.DEFLATED, -15)
            body = packer.compress(chunk) + packer.flush()
            header = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
            writer.write(header + struct.pack("<H", BGZF_HEADER + len(body) + 8 - 1) + body
                         + struct.pack("<II", zlib.crc32(chunk), len(chunk)))
        writer.write(BGZF_EOF)


def _open_bgzf(path: Path) -> tuple[FastaIndex, BgzfBases]:
    gzi = index_path(path, ".gzi")
    if _fresh(gzi, path):
        blocks = BgzfBlocks.read(gzi)
    else:
        blocks = BgzfBlocks.scan(path)
        gzi.parent.mkdir(parents=True, exist_ok=True)
        blocks.write(gzi)
    try:
        index = load_index(path, gzip.open)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise _corrupt(path, exc.__class__.__name__) from exc
    return index, BgzfBases(path, blocks)


def _decompressed_copy(path: Path) -> Path:
    """A plain gzip FASTA (not BGZF) has no random access: decompress it once, streaming, under <cache>/fasta/,
    keyed by path, size and mtime, and read that."""
    stat = path.stat()
    key = sha1(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    target = cache_dir() / "fasta" / f"{path.name.removesuffix('.gz')}.{key}"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
        try:
            with gzip.open(path, "rb") as source, os.fdopen(fd, "wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 22)
        except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
            os.unlink(tmp)
            raise _corrupt(path, exc.__class__.__name__) from exc
        os.replace(tmp, target)
    return target


@dataclass(frozen=True)
class Corpus:
    """What windows are sampled from: an index of records, their bases (ASCII bytes, random access) and where
    they came from (recorded on the pretraining run)."""

    name: str
    index: FastaIndex
    bases: np.ndarray | BgzfBases
    sources: tuple[dict, ...]


def open_corpus(path: str | Path) -> Corpus:
    """A FASTA file as a corpus: a memory map of a plain FASTA (or of a plain gzip's decompressed copy), or the
    block reader of a BGZF one. Nothing is read whole."""
    path = Path(path)
    if not path.is_file():
        raise DataNotFound(f"FASTA file {path} not found", "pass an existing FASTA (plain or .gz) with --fasta")
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == GZIP_MAGIC
    source = {"fasta": str(path.resolve()), "bytes": path.stat().st_size}
    if gzipped and is_bgzf(path):
        return Corpus(str(path), *_open_bgzf(path), (source,))
    plain = _decompressed_copy(path) if gzipped else path
    return Corpus(str(path), load_index(plain), np.memmap(plain, dtype=np.uint8, mode="r"), (source,))


def train_corpus(tasks: list, data_dir: str | Path | None = None) -> Corpus:
    """The train splits of downstream tasks as a corpus, one record per sequence, labels unused (DNABERT-2's
    further pretraining on the tasks' own sequences, its Table 3 "+" row). Only the train split is ever read: the
    split is not a parameter, so dev and test cannot leak into pretraining."""
    from suite.data.cache import load_split

    if not tasks:
        raise SuiteError("no task given for the in-domain corpus", "name tasks or groups, e.g. --tasks gue_tf")
    names, lengths, parts, sources = [], [], [], []
    letters = np.frombuffer(b"ACGTN", dtype=np.uint8)
    for task in tasks:
        split = load_split(task, "train", data_dir)
        names.extend(f"{task.name}:{i}" for i in range(len(split)))
        lengths.append(split.lengths)
        parts.append(letters[split.seqs.codes])
        sources.append({"task": task.name, "split": split.split, "sequences": len(split), "sha256": split.sha256})
    lengths = np.concatenate(lengths).astype(np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    width = np.maximum(lengths, 1)  # one "line" per record
    index = FastaIndex(tuple(names), lengths, offsets, width, width)
    return Corpus("train splits of " + ", ".join(t.name for t in tasks), index, np.concatenate(parts), tuple(sources))


def gather(index: FastaIndex, data: np.ndarray, records: np.ndarray, starts: np.ndarray, length: int) -> np.ndarray:
    """Raw bytes (n, length) of windows [start, start + length) of the given records (vectorised)."""
    positions = starts[:, None] + np.arange(length, dtype=np.int64)[None, :]
    lb, lw = index.line_bases[records][:, None], index.line_bytes[records][:, None]
    return np.asarray(data[index.offsets[records][:, None] + (positions // lb) * lw + positions % lb])


def sample_windows(path: str | Path | Corpus, n: int, length: int, seed: int, max_n_frac: float = 0.1,
                   weighting: str = "length", soft_mask: str = "upper") -> np.ndarray:
    """n windows of `length` bases as uint8 codes (n, length) (A=0, C=1, G=2, T=3, N=4), reproducible for a seed.

    Windows with more than `max_n_frac` N are skipped; see the module docstring for the sampling rule."""
    if n < 0 or length < 1:
        raise SuiteError(f"cannot sample {n} windows of length {length}", "ask for n ≥ 0 windows of length ≥ 1")
    if weighting not in ("length", "record"):
        raise SuiteError(f"unknown window weighting '{weighting}'", "use 'length' or 'record' (authors')")
    if soft_mask not in SOFT_MASK_RULES:
        raise SuiteError(f"unknown soft_mask rule '{soft_mask}'", "use 'upper' (lowercase = bases) or 'n' (= N)")
    table = LOOKUP if soft_mask == "upper" else SOFT_MASKED_AS_N
    corpus = path if isinstance(path, Corpus) else open_corpus(path)
    index, data, path = corpus.index, corpus.bases, corpus.name
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
        records = candidates[picks]
        # gathered in genome order, so a BGZF block (or a memory-mapped page) is read about once per draw; kept in
        # draw order, so the windows are the same whatever the reader
        codes = np.empty((draw, length), dtype=np.uint8)
        order = np.argsort(index.offsets[records] + starts, kind="stable")
        for lo in range(0, draw, CHUNK):
            rows = order[lo : lo + CHUNK]
            raw = gather(index, data, records[rows], starts[rows], length)
            codes[rows] = table[raw]
            bad = np.argwhere(codes[rows] == INVALID)
            if bad.size:
                row, col = bad[0]
                raise BadSequence(f"{path}, record '{index.names[records[rows[row]]]}', position "
                                  f"{starts[rows[row]] + col + 1}: character {chr(raw[row, col])!r} is not a "
                                  "nucleotide", "only A C G T N and IUPAC codes are accepted; fix the FASTA")
        ok = codes[(codes == N_CODE).mean(axis=1) <= max_n_frac]
        kept.append(ok[: n - have])
        have += len(kept[-1])
    if have < n:
        raise SuiteError(f"{path}: only {have} of {n} windows have at most {max_n_frac:.0%} N",
                         "raise max_n_frac or use a FASTA with fewer gaps")
    return np.concatenate(kept) if kept else np.zeros((0, length), dtype=np.uint8)
