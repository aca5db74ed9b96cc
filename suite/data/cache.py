"""Encoded splits on disk, keyed by the data's sha256, so a second load is a memory-map, not a re-parse; and the
same splits tokenized by a wrapped model's tokenizer, so a split is tokenized once per tokenizer, never per batch.

Layout: <cache>/encoded/<task>.<split>.<key>/{codes,offsets,labels}.npy + meta.json, and
<cache>/tokens/<task>.<split>.<key>/{ids,offsets}.npy + meta.json, each written atomically.
<cache> is SUITE_CACHE_DIR, else ~/.cache/dna-suite. The encoded key covers the raw data's sha256, the encoder
version and the task's length policy, so a changed file or policy never reads a stale entry. The tokens key adds
the tokenizer's fingerprint (its files' sha256, its rule's version and its length settings: see
suite/models/wrapped.py), so a changed vocabulary, tokenizer.json or max length never reads stale ids.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from suite.data.encode import EncodedSequences, JoinedSequences, encode
from suite.data.formats import LOADERS, sha256_of
from suite.data.sources import locate
from suite.tasks.spec import TaskSpec

ENCODER_VERSION = 1


@dataclass(frozen=True)
class EncodedSplit:
    """One split, encoded: ragged codes, labels, and where it came from."""

    task: str
    split: str
    seqs: EncodedSequences
    labels: np.ndarray
    sha256: str  # of the raw file(s)
    path: str

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def lengths(self) -> np.ndarray:
        return self.seqs.lengths


@dataclass(frozen=True)
class TokenIds:
    """One split's token ids under one tokenizer, ragged: sequence i's ids are ids[offsets[i]:offsets[i + 1]]
    (what the model's own tokenizer gives for it, before windows and padding). `ids` is memory-mapped."""

    ids: np.ndarray  # int32, all sequences' ids concatenated
    offsets: np.ndarray  # int64, len n + 1
    fingerprint: str  # the tokenizer's (SplitTokenizer.fingerprint)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1


class SplitTokenizer(Protocol):
    """What the token cache needs from a tokenizer (the wrapped families' tokenizers, suite/models/wrapped.py)."""

    fingerprint: str  # sha256 hex of what decides the ids: tokenizer files, rule version, length settings
    tokenize: Callable[[EncodedSequences], tuple[np.ndarray, np.ndarray]]  # codes → (ids, offsets), ragged


def cache_dir() -> Path:
    return Path(os.environ.get("SUITE_CACHE_DIR") or Path.home() / ".cache" / "dna-suite")


def digest(path: Path, cache_root: Path | None = None) -> str:
    """sha256 of a data file, memoised on (path, size, mtime) so unchanged files are hashed once."""
    stats = [path.stat()] if path.is_file() else [p.stat() for p in path.rglob("*") if p.is_file()]
    signature = f"{path.resolve()}|{len(stats)}|{sum(s.st_size for s in stats)}|{max((s.st_mtime_ns for s in stats), default=0)}"
    memo = (cache_root or cache_dir()) / "sha256" / hashlib.sha1(signature.encode()).hexdigest()
    if memo.is_file():
        return memo.read_text().strip()
    value = sha256_of(path)
    memo.parent.mkdir(parents=True, exist_ok=True)
    memo.write_text(value)
    return value


def apply_length_policy(sequences: list[str] | JoinedSequences, task: TaskSpec) -> list[str] | JoinedSequences:
    """`truncate_pad_n`: first max_bp bases, right-padded with N to max_bp (MTcDNA). `pad`: unchanged."""
    if task.length_policy != "truncate_pad_n":
        return sequences
    if isinstance(sequences, JoinedSequences):
        bounds, plain = sequences.offsets.tolist(), sequences.plain().data
        data = b"".join(plain[a : min(b, a + task.max_bp)].ljust(task.max_bp, b"N")
                        for a, b in zip(bounds[:-1], bounds[1:]))
        return JoinedSequences(data, np.arange(len(sequences) + 1, dtype=np.int64) * task.max_bp)
    return [s[: task.max_bp].ljust(task.max_bp, "N") for s in sequences]


def load_split(task: TaskSpec, split: str, data_dir: str | Path | None = None, use_cache: bool = True,
               path: Path | None = None, cache_root: Path | None = None) -> EncodedSplit:
    """One split of a task, encoded; from the on-disk cache when its data has not changed.
    `path` skips the search (a planned trial knows its files); `cache_root` overrides SUITE_CACHE_DIR."""
    path = path or locate(task, split, data_dir).path
    sha = digest(path, cache_root)
    entry = (cache_root or cache_dir()) / "encoded" / f"{task.name}.{split}.{_encoded_key(sha, task)}"
    if use_cache and (entry / "meta.json").is_file():
        return _read_entry(entry, task, split, sha)
    raw = LOADERS.get(task.format).read(path, task, split)  # cache miss: parse and encode once
    seqs = encode(apply_length_policy(raw.sequences, task), source=str(raw.path))
    encoded = EncodedSplit(task.name, split, seqs, raw.labels, sha, str(raw.path))
    if use_cache:
        arrays = {"codes": seqs.codes, "offsets": seqs.offsets, "labels": raw.labels}
        write_entry(entry, arrays, {"n_iupac": seqs.n_iupac, "path": encoded.path, "sha256": sha})
    return encoded


def _encoded_key(sha: str, task: TaskSpec) -> str:
    """What decides a split's codes: the raw data, the encoder, the task's length policy."""
    return hashlib.sha256(f"{sha}|{ENCODER_VERSION}|{task.length_policy}|{task.max_bp}".encode()).hexdigest()[:20]


def load_tokens(task: TaskSpec, encoded: EncodedSplit, tokenizer: SplitTokenizer, use_cache: bool = True,
                cache_root: Path | None = None) -> TokenIds:
    """`encoded`'s token ids under `tokenizer`: tokenized once and stored, then memory-mapped by every trial.

    The key is the split's encoded key (its data's sha256, encoder version and length policy: the codes tokenized)
    with the tokenizer's fingerprint; the ids are exactly what the tokenizer gives on the fly (a test pins it)."""
    key = hashlib.sha256(f"{_encoded_key(encoded.sha256, task)}|{tokenizer.fingerprint}".encode()).hexdigest()[:20]
    entry = (cache_root or cache_dir()) / "tokens" / f"{task.name}.{encoded.split}.{key}"
    if use_cache and (entry / "meta.json").is_file():
        return TokenIds(np.load(entry / "ids.npy", mmap_mode="r"), np.load(entry / "offsets.npy"), tokenizer.fingerprint)
    ids, offsets = tokenizer.tokenize(encoded.seqs)
    tokens = TokenIds(np.ascontiguousarray(ids, dtype=np.int32), np.asarray(offsets, dtype=np.int64),
                      tokenizer.fingerprint)
    if len(tokens) != len(encoded):
        raise ValueError(f"the tokenizer gave {len(tokens)} rows for {len(encoded)} sequences")  # a family's bug
    if use_cache:
        meta = {"fingerprint": tokenizer.fingerprint, "sha256": encoded.sha256, "path": encoded.path}
        write_entry(entry, {"ids": tokens.ids, "offsets": tokens.offsets}, meta)
    return tokens


def write_entry(entry: Path, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """One cache entry, written atomically: `<name>.npy` per array and meta.json (written last, so an entry with
    meta.json is complete) in a temporary folder renamed to `entry`. Every cache of the suite (encoded splits, token
    ids, frozen-backbone embeddings: suite/train/embeddings.py) writes through here; an entry is keyed by everything
    that fixes its content, so whoever writes it first wrote the same thing."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=entry.parent, prefix=".tmp-"))
    for name, array in arrays.items():
        np.save(tmp / f"{name}.npy", array)
    (tmp / "meta.json").write_text(json.dumps(meta))
    try:
        os.replace(tmp, entry)
    except OSError:  # another process wrote the same entry first: theirs is identical
        shutil.rmtree(tmp, ignore_errors=True)


def _read_entry(entry: Path, task: TaskSpec, split: str, sha: str) -> EncodedSplit:
    meta = json.loads((entry / "meta.json").read_text())
    seqs = EncodedSequences(
        codes=np.load(entry / "codes.npy", mmap_mode="r"),
        offsets=np.load(entry / "offsets.npy"),
        n_iupac=int(meta["n_iupac"]),
    )
    return EncodedSplit(task.name, split, seqs, np.load(entry / "labels.npy"), sha, meta["path"])
