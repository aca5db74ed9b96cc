"""Readers for each official data format, registered by the name a task card's `format:` uses.

A format knows where its files sit under a data directory (`candidates`) and how to read one split of one task
into a RawSplit (`read`). Adding a format is adding one class here with `@LOADERS.register`.
"""

from __future__ import annotations

import fnmatch
import gzip
import hashlib
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from suite.data.encode import JoinedSequences
from suite.errors import CorruptData
from suite.registry import Registry
from suite.tasks.spec import TaskSpec

LOADERS: Registry = Registry("data format")


def register(name: str):
    """Class decorator: register one instance of a format class under `name`."""

    def add(cls):
        LOADERS.register(name)(cls())
        return cls

    return add
CSV_SUFFIXES = (".csv.gz", ".csv")


@dataclass(frozen=True)
class RawSplit:
    """One split as read from its official files: sequences (str, or one joined ASCII buffer) and integer labels."""

    sequences: list[str] | JoinedSequences
    labels: np.ndarray  # int64
    path: Path  # the file (or folder) it came from


def read_csv_split(path: Path, seq_column: str, task: TaskSpec) -> RawSplit:
    """A `seq_column,label` csv (plain or gzip) with labels in 0..n_classes-1.

    The official files are plain two-column csv, read as bytes with numpy (`read_simple_csv`); anything else
    (quotes, CR, blank lines, non-ASCII, odd labels, a bad header or a damaged file) goes through pandas, which
    also words every error, so both ways give the same arrays and the same errors (tests/data/test_formats.py)."""
    fast = read_simple_csv(path, seq_column)
    if fast is None:
        return read_csv_with_pandas(path, seq_column, task)
    sequences, labels = fast
    return RawSplit(sequences=sequences, labels=check_labels(labels, path, task), path=path)


def read_csv_with_pandas(path: Path, seq_column: str, task: TaskSpec) -> RawSplit:
    """`read_csv_split` for any csv pandas reads (quoted fields, CRLF, blank lines...), one str per row."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, compression="infer")
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise CorruptData(f"{path} cannot be read ({exc.__class__.__name__}: {exc})", "re-download the file") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise CorruptData(f"{path} is not a valid csv ({exc.__class__.__name__})", "re-download the file") from exc
    expected = [seq_column, "label"]
    if [c.strip() for c in frame.columns[:2]] != expected:
        raise CorruptData(
            f"{path} has columns {list(frame.columns)}, expected {','.join(expected)}",
            f"use the official {task.benchmark} file (header `{','.join(expected)}`)",
        )
    return RawSplit(
        sequences=frame.iloc[:, 0].tolist(), labels=parse_labels(frame.iloc[:, 1].to_numpy(), path, task), path=path
    )


MAX_LABEL_DIGITS = 4  # the fast reader takes labels of 1..4 digits; longer ones go through pandas
SCAN_CHUNK = 1 << 20
CSV_SEPARATORS = b",\n0123456789"  # what stands between two sequences of a simple csv: comma, label, line feed


def read_simple_csv(path: Path, seq_column: str) -> tuple[JoinedSequences, np.ndarray] | None:
    """(sequences, labels) of a plain `seq_column,label` csv or csv.gz: ASCII, LF line ends, no quotes, no blank
    line, one comma and a label of 1..4 digits per row. None for anything else (pandas reads it then).

    No str per row and no loop over rows: the file is inflated whole and rows are found with numpy on a uint8 view
    (in chunks). The body stays as it is: the encoder drops commas, labels and line feeds in the same translate
    pass that encodes the bases (`JoinedSequences.drop`), which is safe because the digit count proves that no
    sequence holds a digit (no comma or line feed can be inside one by construction)."""
    if not path.name.endswith((".csv", ".csv.gz")):
        return None
    try:
        data = gunzip(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    except GZIP_ERRORS:  # a damaged file: pandas reads it again and names the damage
        return None
    header = f"{seq_column},label\n".encode()
    if not data.startswith(header):
        return None
    body = data[len(header) :]  # one copy, cheaper than a streamed inflate that could skip the header
    del data
    if not body or not body.isascii():
        return None
    if b'"' in body or b"\r" in body or b"\x00" in body:  # (a blank line has no comma: caught below)
        return None
    raw = np.frombuffer(body, dtype=np.uint8)
    ends, n_commas, n_digits = [], 0, 0
    for lo in range(0, raw.size, SCAN_CHUNK):  # in cache-sized chunks: no temporary as large as the file
        part = raw[lo : lo + SCAN_CHUNK]
        ends.append(np.flatnonzero(part == ord("\n")) + lo)
        n_commas += int(np.count_nonzero(part == ord(",")))
        n_digits += int(np.count_nonzero(part - np.uint8(ord("0")) < 10))
    ends = np.concatenate(ends)
    if raw[-1] != ord("\n"):  # the last row may lack its line feed
        ends = np.append(ends, raw.size)
    if n_commas != len(ends):
        return None  # some row has no comma or more than one (each of the checks below needs exactly one)
    commas = np.full(len(ends), -1, dtype=np.int64)
    starts = np.concatenate(([0], ends[:-1] + 1))
    for width in range(MAX_LABEL_DIGITS, 0, -1):  # the comma nearest the line end wins
        at = ends - width - 1
        hit = (at >= starts) & (raw[np.maximum(at, 0)] == ord(","))
        commas[hit] = at[hit]
    if (commas < 0).any():
        return None
    widths = ends - commas - 1
    labels = np.zeros(len(ends), dtype=np.int64)
    for place in range(MAX_LABEL_DIGITS):
        has = widths > place
        digit = raw[ends[has] - 1 - place].astype(np.int64) - ord("0")
        if ((digit < 0) | (digit > 9)).any():
            return None
        labels[has] += digit * 10**place
    if n_digits != widths.sum():
        return None  # a digit inside a sequence: pandas reads it, the encoder names it
    offsets = np.zeros(len(ends) + 1, dtype=np.int64)
    np.cumsum(commas - starts, out=offsets[1:])
    return JoinedSequences(body, offsets, drop=CSV_SEPARATORS), labels


def gunzip(data: bytes) -> bytes:
    """gzip.decompress (every member), by python-isal's igzip when it is installed: the same bytes, inflated about
    twice as fast as zlib, and inflating is the largest part of a cold load (benchmarks/bench_data.py)."""
    return _GZIP.decompress(data)


def inflater() -> str:
    """Which gzip implementation `gunzip` uses, for benchmark notes."""
    return "isal" if _GZIP is not gzip else "zlib"


GZIP_ERRORS: tuple[type[Exception], ...] = (OSError, EOFError, zlib.error)
try:
    from isal import igzip as _GZIP
    from isal import isal_zlib

    GZIP_ERRORS += (isal_zlib.error,)
except ImportError:  # optional: the standard library reads the same bytes, only slower
    _GZIP = gzip


def parse_labels(values: np.ndarray, path: Path, task: TaskSpec) -> np.ndarray:
    try:
        labels = np.asarray([int(v) for v in values], dtype=np.int64)
    except ValueError as exc:
        raise CorruptData(f"{path}: non-integer label ({exc})", "labels must be class indices 0..n-1") from exc
    return check_labels(labels, path, task)


def check_labels(labels: np.ndarray, path: Path, task: TaskSpec) -> np.ndarray:
    """`labels` when all are in 0..n_classes-1, else CorruptData naming the first row outside."""
    bad = np.flatnonzero((labels < 0) | (labels >= task.n_classes))
    if bad.size:
        raise CorruptData(
            f"{path}, row {bad[0] + 1}: label {labels[bad[0]]} outside 0..{task.n_classes - 1}",
            f"task {task.name} has classes {list(task.classes)}",
        )
    return labels


@register("genomic_benchmarks")
class GenomicBenchmarksFormat:
    """GenomicBenchmarks. Two layouts of the same data:
    - Hugging Face export: <root>/genomic_benchmarks/<task>/<split>.csv[.gz], columns seq,label;
    - the genomic-benchmarks package cache: <root>/<task>/<split>/<class>/<id>.txt, one sequence per file
      (label = index of the class folder in the sorted class names, which is the card's `classes` order).
    """

    subdir = "genomic_benchmarks"

    def candidates(self, root: Path, task: TaskSpec, split: str) -> list[Path]:
        base = root / self.subdir / task.source
        return [base / f"{split}{suffix}" for suffix in CSV_SUFFIXES] + [root / task.source / split]

    @staticmethod
    def cache_root() -> Path:
        """Where the genomic-benchmarks package keeps its data sets (utils.paths.CACHE_PATH)."""
        return Path.home() / ".genomic_benchmarks"

    def upstream_cache(self, task: TaskSpec, split: str) -> list[Path]:
        return [self.cache_root() / task.source / split]

    def download(self, task: TaskSpec) -> None:
        from genomic_benchmarks.loc2seq import download_dataset

        download_dataset(task.source, version=0)

    def read(self, path: Path, task: TaskSpec, split: str) -> RawSplit:
        if path.is_dir():
            return self._read_class_folders(path, task)
        return read_csv_split(path, "seq", task)

    @staticmethod
    def _read_class_folders(path: Path, task: TaskSpec) -> RawSplit:
        sequences: list[str] = []
        labels: list[int] = []
        for label, name in enumerate(task.classes):
            folder = path / name
            if not folder.is_dir():
                raise CorruptData(f"{path} has no class folder '{name}'", "re-download the data set")
            files = sorted(folder.glob("*.txt"), key=lambda p: (len(p.stem), p.stem))
            sequences += [f.read_text().strip() for f in files]
            labels += [label] * len(files)
        return RawSplit(sequences=sequences, labels=np.asarray(labels, dtype=np.int64), path=path)


@register("gue_csv")
class GueFormat:
    """GUE (DNABERT-2): <root>/gue/<group>/<task>/{train,dev,test}.csv, columns sequence,label; gzip accepted.
    The unzipped official archive (<root>/GUE/<group>/<task>/…) is found too."""

    subdir = "gue"

    def candidates(self, root: Path, task: TaskSpec, split: str) -> list[Path]:
        return [
            root / folder / task.source / f"{split}{suffix}" for folder in (self.subdir, "GUE") for suffix in CSV_SUFFIXES
        ]

    def read(self, path: Path, task: TaskSpec, split: str) -> RawSplit:
        return read_csv_split(path, "sequence", task)


@register("mtcdna")
class MtcdnaFormat:
    """MTcDNA (paper §4.5). Either the split csv files the authors' script writes,
    <root>/mtcdna/<max_bp>/{train,dev,test}.csv (columns sequence,label), or the four Ensembl cDNA FASTA
    files in <root>/mtcdna/, from which the split is rebuilt exactly as the authors did (findna-facts §7).
    Sequences are kept whole here; the task's length policy truncates / N-pads them at encoding time."""

    subdir = "mtcdna"

    def candidates(self, root: Path, task: TaskSpec, split: str) -> list[Path]:
        base = root / self.subdir
        return [base / str(task.max_bp) / f"{split}{suffix}" for suffix in CSV_SUFFIXES] + [base]

    def read(self, path: Path, task: TaskSpec, split: str) -> RawSplit:
        if not path.is_dir():
            return read_csv_split(path, "sequence", task)
        files = fasta_files(path, task)
        splits = _split_fasta(tuple(files), int(task.options["min_len"]), int(task.options["split_seed"]))
        sequences, labels = splits[split]
        return RawSplit(sequences=sequences, labels=np.asarray(labels, dtype=np.int64), path=path)

    @staticmethod
    def present(path: Path, task: TaskSpec) -> bool:
        return path.is_dir() and len(fasta_files(path, task, strict=False)) == 4


def fasta_files(folder: Path, task: TaskSpec, strict: bool = True) -> list[tuple[Path, int]]:
    """(file, label) for each FASTA pattern of the card; strict: every pattern must match exactly one file."""
    names = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    found = []
    for label, cls in enumerate(task.classes):
        for pattern in task.options["fasta"][cls]:
            hits = fnmatch.filter(names, pattern)
            if len(hits) != 1:
                if strict:
                    raise CorruptData(
                        f"{folder}: {len(hits)} files match '{pattern}' (class {cls})", "keep exactly one per species"
                    )
                continue
            found.append((folder / hits[0], label))
    return found


def read_fasta(path: Path) -> list[tuple[str, str]]:
    """(header, sequence) records of a FASTA file, plain or gzip."""
    opener = gzip.open if path.suffix == ".gz" else open
    records: list[tuple[str, str]] = []
    header, chunks = None, []
    try:
        with opener(path, "rt") as handle:
            for line in handle:
                line = line.rstrip()
                if line.startswith(">"):
                    if header is not None:
                        records.append((header, "".join(chunks)))
                    header, chunks = line[1:], []
                elif line:
                    if header is None:
                        raise CorruptData(f"{path}: sequence before the first '>' header", "is this a FASTA file?")
                    chunks.append(line)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise CorruptData(f"{path} cannot be read ({exc.__class__.__name__})", "re-download the file") from exc
    if header is not None:
        records.append((header, "".join(chunks)))
    return records


@lru_cache(maxsize=4)
def _split_fasta(files: tuple[tuple[Path, int], ...], min_len: int, seed: int) -> dict[str, tuple[list, list]]:
    from sklearn.model_selection import train_test_split

    sequences, labels = [], []
    for path, label in files:
        for _, seq in read_fasta(path):
            if len(seq) >= min_len:
                sequences.append(seq.upper())
                labels.append(label)
    # The authors' split (data/genome_process.py): test 20 %, then dev = 25 % of the rest; not stratified.
    rest_x, test_x, rest_y, test_y = train_test_split(sequences, labels, test_size=0.2, random_state=seed)
    train_x, dev_x, train_y, dev_y = train_test_split(rest_x, rest_y, test_size=0.25, random_state=seed)
    return {"train": (train_x, train_y), "dev": (dev_x, dev_y), "test": (test_x, test_y)}


def sha256_of(path: Path) -> str:
    """sha256 of a file's bytes, or of a folder's files (names and bytes, sorted)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
