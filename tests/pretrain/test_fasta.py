import gzip
import os

import numpy as np
import pytest

from suite.data.encode import decode
from suite.data.fasta import (
    BgzfBlocks,
    bgzip,
    build_index,
    index_path,
    is_bgzf,
    open_corpus,
    sample_windows,
)
from suite.errors import CorruptData, SuiteError

RNG = np.random.default_rng(0)
CLEAN = "".join(RNG.choice(list("ACGTacgt"), 700))
GAPPY = "".join(RNG.choice(list("ACGT"), 300)) + "N" * 300 + "".join(RNG.choice(list("ACGT"), 300))
SHORT = "ACGT" * 5


def write_fasta(path, records, width=60):
    with (gzip.open(path, "wt") if str(path).endswith(".gz") else open(path, "w")) as handle:
        for name, seq in records:
            handle.write(f">{name} some description\n")
            handle.writelines(seq[i : i + width] + "\n" for i in range(0, len(seq), width))


@pytest.fixture
def fastas(tmp_path):
    records = [("clean", CLEAN), ("gappy", GAPPY), ("short", SHORT)]
    write_fasta(tmp_path / "genome.fa", records, width=60)
    write_fasta(tmp_path / "genome.fa.gz", records, width=70)
    return tmp_path / "genome.fa", tmp_path / "genome.fa.gz"


def test_index_is_samtools_compatible(fastas):
    plain, _ = fastas
    index = build_index(plain)
    assert index.names == ("clean", "gappy", "short")
    assert index.lengths.tolist() == [700, 900, 20]
    assert index.line_bases.tolist() == [60, 60, 20] and index.line_bytes.tolist() == [61, 61, 21]
    header = len(">clean some description\n")
    assert index.offsets[0] == header


def test_windows_are_real_substrings_and_reproducible(fastas):
    plain, gz = fastas
    windows = sample_windows(plain, 300, 50, seed=3, max_n_frac=1.0)
    assert windows.shape == (300, 50) and windows.dtype == np.uint8
    assert index_path(plain).is_file()  # saved once, in the cache, never next to the data
    assert index_path(plain).parent.name == "fai" and not plain.with_name("genome.fa.fai").exists()
    genome = [CLEAN.upper(), GAPPY]
    for row in windows:
        text = decode(row)
        assert any(text in seq for seq in genome)  # never crosses records, never reads the 20-bp record
    assert np.array_equal(windows, sample_windows(plain, 300, 50, seed=3, max_n_frac=1.0))
    assert np.array_equal(windows, sample_windows(gz, 300, 50, seed=3, max_n_frac=1.0))  # gzip path agrees
    assert not np.array_equal(windows, sample_windows(plain, 300, 50, seed=4, max_n_frac=1.0))


def test_n_filter(fastas):
    plain, _ = fastas
    kept_all = sample_windows(plain, 400, 50, seed=1, max_n_frac=1.0)
    assert ((kept_all == 4).mean(1) > 0.5).any()  # the gap is reachable
    filtered = sample_windows(plain, 400, 50, seed=1, max_n_frac=0.1)
    assert ((filtered == 4).mean(1) <= 0.1).all()
    assert not (sample_windows(plain, 400, 50, seed=1, max_n_frac=0.0) == 4).any()


def test_record_weighting_and_errors(fastas):
    plain, _ = fastas
    assert sample_windows(plain, 10, 50, seed=1, weighting="record").shape == (10, 50)
    with pytest.raises(SuiteError):
        sample_windows(plain, 10, 5000, seed=1)  # no record that long
    with pytest.raises(SuiteError):
        sample_windows(plain, 10, 50, seed=1, weighting="chromosome")


def test_stale_index_is_rebuilt_and_ragged_lines_rejected(tmp_path):
    path = tmp_path / "a.fa"
    write_fasta(path, [("a", CLEAN)])
    sample_windows(path, 5, 30, seed=0)
    write_fasta(path, [("b", CLEAN + CLEAN)])
    os.utime(path, ns=(index_path(path).stat().st_mtime_ns + 10**9,) * 2)
    sample_windows(path, 5, 30, seed=0)
    assert index_path(path).read_text().startswith("b\t1400\t")
    path.write_text(">x\nACGTACGT\nACG\nACGTACGT\n")
    with pytest.raises(CorruptData):
        build_index(path)


def test_cohn_windows(cohn_fasta):
    windows = sample_windows(cohn_fasta, 500, 200, seed=42, max_n_frac=0.05)
    assert windows.shape == (500, 200) and windows.max() <= 4
    assert np.array_equal(windows, sample_windows(cohn_fasta, 500, 200, seed=42, max_n_frac=0.05))
    assert ((windows == 4).mean(1) <= 0.05).all()


def test_bgzip_reads_by_block_and_agrees_with_plain(fastas, tmp_path):
    plain, gz = fastas
    packed = tmp_path / "genome.fa.bgz"
    bgzip(plain, packed)
    assert is_bgzf(packed) and not is_bgzf(gz) and not is_bgzf(plain)
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()  # a valid multi-member gzip, as bgzip's
    assert np.array_equal(sample_windows(packed, 300, 50, seed=3, max_n_frac=1.0),
                          sample_windows(plain, 300, 50, seed=3, max_n_frac=1.0))
    assert index_path(packed, ".gzi").is_file() and index_path(packed).is_file()


def test_bgzip_touches_only_the_blocks_a_window_needs(tmp_path):
    genome = "".join(np.random.default_rng(1).choice(list("ACGT"), 400_000))  # about 7 BGZF blocks
    write_fasta(tmp_path / "big.fa", [("chr", genome)], width=80)
    bgzip(tmp_path / "big.fa", tmp_path / "big.fa.gz")
    blocks = BgzfBlocks.scan(tmp_path / "big.fa.gz")
    assert len(blocks.compressed) == 8  # 7 data blocks + the EOF block, none decompressed to find them
    # samtools' .gzi layout: uint64 count, then (compressed, uncompressed) pairs of every block but the first
    blocks.write(tmp_path / "x.gzi")
    raw = (tmp_path / "x.gzi").read_bytes()
    assert int.from_bytes(raw[:8], "little") == 7 and len(raw) == 8 + 7 * 16
    assert np.array_equal(BgzfBlocks.read(tmp_path / "x.gzi").uncompressed, blocks.uncompressed)
    corpus = open_corpus(tmp_path / "big.fa.gz")
    index, bases = corpus.index, corpus.bases
    start = 200_000
    where = index.offsets[0] + (start + np.arange(60)) // 80 * 81 + (start + np.arange(60)) % 80
    assert bytes(bases[where]).decode() == genome[start : start + 60]
    assert bases.decompressions <= 2


def test_soft_mask_rule_and_plain_gzip_copy(tmp_path):
    write_fasta(tmp_path / "masked.fa.gz", [("chr", "acgtacgtac" * 20 + "ACGTACGTAC" * 20)], width=60)
    upper = sample_windows(tmp_path / "masked.fa.gz", 50, 20, seed=0, max_n_frac=1.0)
    as_n = sample_windows(tmp_path / "masked.fa.gz", 50, 20, seed=0, max_n_frac=1.0, soft_mask="n")
    assert (upper < 4).all() and (as_n == 4).any() and np.array_equal(as_n[as_n < 4], upper[as_n < 4])
    assert not (sample_windows(tmp_path / "masked.fa.gz", 50, 20, seed=0, max_n_frac=0.0, soft_mask="n") == 4).any()
    with pytest.raises(SuiteError):
        sample_windows(tmp_path / "masked.fa.gz", 5, 20, seed=0, soft_mask="lower")


def test_truncated_bgzip_is_one_line(fastas, tmp_path):
    plain, _ = fastas
    bgzip(plain, tmp_path / "cut.fa.gz")
    data = (tmp_path / "cut.fa.gz").read_bytes()
    (tmp_path / "cut.fa.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptData):
        sample_windows(tmp_path / "cut.fa.gz", 5, 20, seed=0)


def test_train_corpus_reads_only_the_train_split(data_env):
    from suite.data.cache import load_split
    from suite.data.fasta import train_corpus
    from suite.tasks import get_task

    task = get_task("prom_core_tata")
    corpus = train_corpus([task])
    assert [s["split"] for s in corpus.sources] == ["train"] and corpus.sources[0]["task"] == "prom_core_tata"
    train = load_split(task, "train")
    assert len(corpus.index.names) == len(train) and corpus.index.lengths.sum() == train.lengths.sum()
    windows = sample_windows(corpus, 50, 60, seed=0, max_n_frac=1.0)
    texts = [decode(train.seqs.get(i)) for i in range(len(train))]
    assert all(any(decode(row) in text for text in texts) for row in windows)  # each within one train sequence
    with pytest.raises(SuiteError):
        sample_windows(corpus, 10, 500, seed=0)  # longer than the task's sequences: one line, not a crash
