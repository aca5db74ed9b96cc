"""The fast csv reader (bytes + numpy, no str per row) against pandas, the reader it stands in for: the same arrays
and the same errors on every real file and on crafted files that pandas reads in its own way."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from suite.data.cache import apply_length_policy
from suite.data.encode import IUPAC, LOOKUP, JoinedSequences, encode
from suite.data.formats import gunzip, read_csv_split, read_csv_with_pandas, read_simple_csv
from suite.errors import SuiteError
from suite.tasks import get_task

H3 = get_task("gue_h3")  # two classes
SPLICE = get_task("splice_reconstructed")  # three classes


def outcome(read, path: Path, column: str, task) -> tuple:
    """What loading a file gives: its encoded arrays, or the error's type and words."""
    try:
        raw = read(path, column, task)
        enc = encode(apply_length_policy(raw.sequences, task), source=str(raw.path))
    except SuiteError as exc:
        return type(exc).__name__, str(exc)
    return enc.codes.tobytes(), enc.offsets.tolist(), enc.n_iupac, raw.labels.tolist(), raw.labels.dtype


def real_csv_files() -> list[Path]:
    from tests.conftest import _shared_data

    root = _shared_data()
    return sorted(root.rglob("*.csv.gz")) if root else []


@pytest.mark.parametrize("path", real_csv_files(), ids=lambda p: "/".join(p.parts[-3:]))
def test_every_real_file_reads_fast_and_exactly_as_pandas(path):
    column = "seq" if "genomic_benchmarks" in path.parts else "sequence"
    assert read_simple_csv(path, column) is not None  # the official layout takes the fast path
    task = SPLICE if "splice" in path.parts else H3
    assert outcome(read_csv_split, path, column, task) == outcome(read_csv_with_pandas, path, column, task)


CASES = {
    "plain": b"sequence,label\nACGT,1\nggcc,0\n",
    "no final line feed": b"sequence,label\nACGT,1\nGGCC,0",
    "iupac and n": b"sequence,label\nACRYN,1\nswkmbdhvU,0\n",
    "multi-digit and zero-padded labels": b"sequence,label\nACGT,01\nACGT,2\nACGT,0002\n",
    "label out of range": b"sequence,label\nACGT,0\nACGT,12\n",
    "empty sequence": b"sequence,label\nACGT,0\n,1\n",
    "bad character": b"sequence,label\nACGT,0\nAC*T,1\n",
    "digit inside a sequence": b"sequence,label\nACGT,0\nAC1T,1\n",
    "space in a sequence": b"sequence,label\nAC T,0\n",
    "crlf": b"sequence,label\r\nACGT,1\r\nGGCC,0\r\n",
    "quoted": b'sequence,label\n"ACGT",1\nGGCC,"0"\n',
    "blank lines": b"sequence,label\nACGT,1\n\nGGCC,0\n\n",
    "spaces around a label": b"sequence,label\nACGT, 1\nGGCC,0 \n",
    "non-ascii": "sequence,label\nACGT,1\nAéT,0\n".encode(),
    "bom": b"\xef\xbb\xbfsequence,label\nACGT,1\n",
    "header only": b"sequence,label\n",
    "wrong header": b"seq,y\nACGT,1\n",
    "three columns": b"sequence,label,x\nACGT,1,2\n",
    "extra field in one row": b"sequence,label\nACGT,1\nGG,CC,0\n",
    "non-integer label": b"sequence,label\nACGT,1.0\n",
    "long label": b"sequence,label\nACGT,000001\n",
}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("compressed", [False, True])
def test_crafted_files_read_as_pandas_reads_them(tmp_path, name, compressed):
    text = CASES[name]
    path = tmp_path / ("test.csv.gz" if compressed else "test.csv")
    path.write_bytes(gzip.compress(text) if compressed else text)
    assert outcome(read_csv_split, path, "sequence", SPLICE) == outcome(read_csv_with_pandas, path, "sequence", SPLICE)


def test_unusual_files_leave_the_fast_path(tmp_path):
    for name in ("crlf", "quoted", "blank lines", "non-ascii", "bom", "three columns", "long label"):
        path = tmp_path / "test.csv"
        path.write_bytes(CASES[name])
        assert read_simple_csv(path, "sequence") is None, name


def test_damaged_gzip_gives_pandas_error(tmp_path):
    path = tmp_path / "test.csv.gz"
    path.write_bytes(gzip.compress(b"sequence,label\n" + b"ACGT,1\n" * 5000)[:100])
    assert read_simple_csv(path, "sequence") is None
    assert outcome(read_csv_split, path, "sequence", H3) == outcome(read_csv_with_pandas, path, "sequence", H3)
    assert outcome(read_csv_split, path, "sequence", H3)[0] == "CorruptData"


def test_multi_member_gzip_is_read_whole(tmp_path):
    """bgzip and `cat a.gz b.gz` write several gzip members; all of them are the file."""
    data = gzip.compress(b"sequence,label\nACGT,1\n") + gzip.compress(b"GGCC,0\n")
    assert gunzip(data) == gzip.decompress(data)
    path = tmp_path / "test.csv.gz"
    path.write_bytes(data)
    assert read_csv_split(path, "sequence", H3).labels.tolist() == [1, 0]


def test_encoder_matches_the_lookup_table_on_every_byte():
    """The translate-based encoder against the 256-entry table: every valid byte, mixed, with IUPAC counting."""
    valid = np.flatnonzero(LOOKUP != 255).astype(np.uint8)
    rng = np.random.default_rng(0)
    raw = valid[rng.integers(0, len(valid), size=50_000)]
    cuts = np.sort(rng.choice(np.arange(1, raw.size), size=99, replace=False))
    offsets = np.concatenate(([0], cuts, [raw.size])).astype(np.int64)
    joined = JoinedSequences(raw.tobytes(), offsets)
    for seqs in (joined, list(joined)):
        enc = encode(seqs)
        assert np.array_equal(enc.codes, LOOKUP[raw]) and enc.n_iupac == int(IUPAC[raw].sum())
        assert enc.offsets.tolist() == offsets.tolist()


@pytest.mark.parametrize("seqs", [
    JoinedSequences(b"ACGTTGN", np.array([0, 2, 6, 7])),
    JoinedSequences(b"AC,1\nGTTG,0\nN,12\n", np.array([0, 2, 6, 7]), drop=b",\n0123456789"),
])
def test_joined_sequences_read_as_a_list(seqs):
    assert list(seqs) == ["AC", "GTTG", "N"] and len(seqs) == 3
    assert seqs[1] == "GTTG" and seqs[-1] == "N" and seqs[0:2] == ["AC", "GTTG"]
    with pytest.raises(IndexError):
        seqs[3]
    assert encode(seqs).codes.tolist() == [0, 1, 2, 3, 3, 2, 4]


def test_bad_character_is_named_in_the_sequence_not_the_file_bytes():
    seqs = JoinedSequences(b"ACGT,0\nAC*T,1\n", np.array([0, 4, 8]), drop=b",\n0123456789")
    with pytest.raises(SuiteError, match=r"f, row 2, position 3: character '\*'"):
        encode(seqs, source="f")


def test_truncate_pad_policy_is_the_same_on_joined_bytes():
    task = get_task("mtcdna_1k")
    seqs = ["ACGT" * 300, "A" * 1024, "GATTACA"]
    offsets = np.cumsum([0] + [len(s) for s in seqs])
    joined = JoinedSequences("".join(seqs).encode(), offsets)
    assert list(apply_length_policy(joined, task)) == apply_length_policy(seqs, task)
    with_labels = JoinedSequences("".join(f"{s},1\n" for s in seqs).encode(), offsets, drop=b",\n0123456789")
    assert list(apply_length_policy(with_labels, task)) == apply_length_policy(seqs, task)
