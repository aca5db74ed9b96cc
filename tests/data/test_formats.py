"""Every loader on the real shared data, and on small files written in the official layouts."""

import gzip
from pathlib import Path

import numpy as np
import pytest

from suite.data.cache import load_split
from suite.data.formats import LOADERS
from suite.data.sources import find
from suite.errors import BadSequence, CorruptData
from suite.tasks import all_tasks, get_task
from tests.conftest import write_csv_gz


def test_every_card_format_is_a_registered_loader_and_every_loader_is_used():
    used = {t.format for t in all_tasks().values()}
    assert used == set(LOADERS.names())


def test_genomic_benchmarks_csv_on_real_data(data_env):
    task = get_task("human_nontata_promoters")
    data = load_split(task, "test")
    assert len(data) == 9034
    assert np.bincount(data.labels).tolist() == [4119, 4915]  # official per-class test counts
    assert set(data.lengths.tolist()) == {251}


def test_gue_csv_on_real_data(data_env):
    task = get_task("gue_h3")
    dev, test = load_split(task, "dev"), load_split(task, "test")
    assert (len(dev), len(test)) == (1497, 1497)
    assert set(np.unique(test.labels)) == {0, 1}
    assert test.lengths.max() == 500


def test_genomic_benchmarks_package_cache_layout(tmp_path, monkeypatch):
    """The genomic-benchmarks package's own layout: <task>/<split>/<class>/<id>.txt."""
    task = get_task("human_ensembl_regulatory")
    for cls, seqs in {"enhancer": ["ACGT", "AAAA"], "ocr": ["CCCC"], "promoter": ["GGTT", "TTTT", "ACAC"]}.items():
        folder = tmp_path / "human_ensembl_regulatory" / "test" / cls
        folder.mkdir(parents=True)
        for i, seq in enumerate(seqs):
            (folder / f"{i}.txt").write_text(seq)
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    data = load_split(task, "test")
    assert data.labels.tolist() == [0, 0, 1, 2, 2, 2]
    assert len(data) == 6


def _mtcdna_fasta(folder: Path, n_mouse: int, n_turtle: int) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)

    def record(i, length):
        return f">t{i}\n" + "".join(rng.choice(list("ACGT"), size=length)) + "\n"

    names = {
        "Chelonoidis_abingdonii.ASM359739v1.cdna.all.fa.gz": n_turtle,
        "Gopherus_agassizii.ASM289641v1.cdna.all.fa.gz": n_turtle,
        "Mus_musculus.GRCm39.cdna.all.fa.gz": n_mouse,
        "Mus_spretus.SPRET_EiJ_v1.cdna.all.fa.gz": n_mouse,
    }
    for name, n in names.items():
        # half the records are too short (<= 5000 nt) and must be filtered out
        text = "".join(record(i, 5001 + i * 7 if i % 2 == 0 else 4000) for i in range(2 * n))
        (folder / name).write_bytes(gzip.compress(text.encode()))


def test_mtcdna_from_ensembl_fasta_rebuilds_the_authors_split(tmp_path, monkeypatch):
    _mtcdna_fasta(tmp_path / "mtcdna", n_mouse=20, n_turtle=5)
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    task = get_task("mtcdna_1k")
    splits = {s: load_split(task, s, use_cache=False) for s in ("train", "dev", "test")}
    total = 2 * 20 + 2 * 5  # records longer than 5000 nt
    assert sum(len(d) for d in splits.values()) == total
    assert len(splits["test"]) == 10 and len(splits["dev"]) == 10  # ceil(0.2 n), ceil(0.25 of the rest)
    assert set(splits["train"].lengths.tolist()) == {1024}  # truncated to max_bp
    eight_k = load_split(get_task("mtcdna_8k"), "test", use_cache=False)
    assert set(eight_k.lengths.tolist()) == {8192}  # N-padded to max_bp
    assert (eight_k.seqs.get(0)[6000:] == 4).all()


def test_mtcdna_presplit_csv(tmp_path, monkeypatch):
    write_csv_gz(tmp_path / "mtcdna" / "4096" / "test.csv.gz", "sequence,label", [("ACGT" * 10, 1), ("TTTT", 0)])
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    data = load_split(get_task("mtcdna_4k"), "test", use_cache=False)
    assert data.labels.tolist() == [1, 0] and set(data.lengths.tolist()) == {4096}


def test_truncated_gzip_is_corrupt_data(tmp_path, monkeypatch):
    path = write_csv_gz(tmp_path / "gue" / "EMP" / "H3" / "test.csv.gz", "sequence,label", [("ACGT" * 50, 1)] * 500)
    path.write_bytes(path.read_bytes()[:200])
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    with pytest.raises(CorruptData, match="cannot be read"):
        load_split(get_task("gue_h3"), "test", use_cache=False)


def test_wrong_columns_are_corrupt_data(tmp_path, monkeypatch):
    write_csv_gz(tmp_path / "gue" / "EMP" / "H3" / "test.csv.gz", "seq,y", [("ACGT", 1)])
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    with pytest.raises(CorruptData, match=r"has columns \['seq', 'y'\], expected sequence,label"):
        load_split(get_task("gue_h3"), "test", use_cache=False)


def test_label_outside_the_classes_is_corrupt_data(tmp_path, monkeypatch):
    write_csv_gz(tmp_path / "gue" / "EMP" / "H3" / "dev.csv.gz", "sequence,label", [("ACGT", 0), ("ACGT", 2)])
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    with pytest.raises(CorruptData, match=r"row 2: label 2 outside 0..1"):
        load_split(get_task("gue_h3"), "dev", use_cache=False)


def test_bad_character_in_a_file_names_file_and_row(tmp_path, monkeypatch):
    path = write_csv_gz(tmp_path / "gue" / "EMP" / "H3" / "dev.csv.gz", "sequence,label", [("ACGT", 0), ("AC*T", 1)])
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    with pytest.raises(BadSequence, match=rf"{path}, row 2, position 3: character '\*'"):
        load_split(get_task("gue_h3"), "dev", use_cache=False)


def test_plain_csv_is_accepted_like_gzip(tmp_path, monkeypatch):
    folder = tmp_path / "gue" / "EMP" / "H4"
    folder.mkdir(parents=True)
    (folder / "test.csv").write_text("sequence,label\nACGT,1\nGGCC,0\n")
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    task = get_task("gue_h4")
    assert find(task, "test").path.name == "test.csv"
    assert load_split(task, "test", use_cache=False).labels.tolist() == [1, 0]
