import numpy as np
import pytest

from suite.data import cache
from suite.data.cache import load_split
from suite.data.sources import candidates, fetch, how_to_get, locate
from suite.errors import DataNotFound
from suite.tasks import get_task
from tests.conftest import write_csv_gz


def test_explicit_data_dir_wins_over_env(tmp_path, data_env):
    write_csv_gz(tmp_path / "gue" / "EMP" / "H3" / "test.csv.gz", "sequence,label", [("ACGT", 1)])
    task = get_task("gue_h3")
    assert locate(task, "test", data_dir=tmp_path).path.is_relative_to(tmp_path)
    assert locate(task, "test").path.is_relative_to(data_env)


def test_missing_split_names_task_every_place_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    task = get_task("gue_h3")
    with pytest.raises(DataNotFound) as err:
        locate(task, "train")
    message = err.value.line()
    assert message.startswith("task gue_h3: no train split found; looked in ")
    for place, _ in candidates(task, "train"):
        assert str(place) in message
    assert "GUE/EMP/H3" in message and "\n" not in message


def test_genomic_benchmarks_offline_says_the_download_was_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SUITE_OFFLINE", "1")
    with pytest.raises(DataNotFound, match="download skipped: zenodo.org is unreachable") as err:
        locate(get_task("human_ocr_ensembl"), "train")
    assert ".genomic_benchmarks" in err.value.line()  # the upstream package cache was looked in


def test_how_to_get_names_the_folder_searched_never_an_unset_variable(tmp_path, monkeypatch):
    task = get_task("gue_h3")
    monkeypatch.delenv("SUITE_DATA_DIR", raising=False)
    text = how_to_get(task)
    assert "put GUE/EMP/H3 under DIR/gue/, then pass --data-dir DIR or set SUITE_DATA_DIR=DIR" in text
    assert "$" not in text
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    assert how_to_get(task).endswith(f"put GUE/EMP/H3 under {tmp_path}/gue/")
    with pytest.raises(DataNotFound, match=f"under {tmp_path}/gue/"):
        locate(task, "train")


def test_a_get_data_placeholder_the_suite_does_not_fill_is_a_card_error():
    import dataclasses

    from suite.errors import CardError
    from suite.tasks import _check

    with pytest.raises(CardError, match="unknown placeholder"):
        _check(dataclasses.replace(get_task("gue_h3"), get_data="put it in {where}"), "gue/h3.yaml")


def test_fetch_says_present_or_why_not_and_how(tmp_path, monkeypatch):
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SUITE_OFFLINE", "1")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert fetch(get_task("prom_core_tata")) == "present"  # the package's demo data
    with pytest.raises(DataNotFound, match="zenodo.org is unreachable"):
        fetch(get_task("human_ocr_ensembl"))
    with pytest.raises(DataNotFound, match="no package downloads gue data; get it by hand: download the GUE archive"):
        fetch(get_task("gue_h3"))


def test_unknown_split_is_a_clear_error(data_env):
    with pytest.raises(DataNotFound, match="has no 'dev' split"):
        locate(get_task("human_nontata_promoters"), "dev")


def test_second_load_comes_from_the_cache_and_is_identical(data_env, tmp_path, monkeypatch):
    monkeypatch.setenv("SUITE_CACHE_DIR", str(tmp_path / "cache"))
    task = get_task("gue_h4")
    first = load_split(task, "dev")
    entries = list((tmp_path / "cache" / "encoded").iterdir())
    assert len(entries) == 1 and entries[0].name.startswith("gue_h4.dev.")
    second = load_split(task, "dev")
    assert isinstance(second.seqs.codes, np.memmap)  # memory-mapped, not re-parsed
    assert np.array_equal(first.seqs.codes, second.seqs.codes)
    assert np.array_equal(first.labels, second.labels) and first.sha256 == second.sha256


def test_changed_file_gets_a_new_cache_entry(tmp_path, monkeypatch):
    monkeypatch.setenv("SUITE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path / "data"))
    path = tmp_path / "data" / "gue" / "EMP" / "H3" / "test.csv.gz"
    write_csv_gz(path, "sequence,label", [("ACGT", 1)])
    task = get_task("gue_h3")
    assert load_split(task, "test").labels.tolist() == [1]
    write_csv_gz(path, "sequence,label", [("ACGT", 0), ("GG", 1)])
    assert load_split(task, "test").labels.tolist() == [0, 1]


def test_digest_is_the_file_sha256(data_env):
    import hashlib

    path = data_env / "gue" / "EMP" / "H4" / "dev.csv.gz"
    assert cache.digest(path) == hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_demo_task_ships_in_the_package_after_the_users_data(tmp_path, monkeypatch):
    from suite.data.verify import OK, verify_task

    monkeypatch.setenv("SUITE_DATA_DIR", "")
    task = get_task("prom_core_tata")
    located = locate(task, "train")
    assert located.origin == "package demo data" and "_data" in str(located.path)
    check = verify_task(task)  # against the package's MANIFEST.tsv and the official sizes
    assert check.status == OK and [s.rows for s in check.splits] == [4904, 613, 613]
    assert check.duplicates["train/test"] > 0  # GUE promoter tasks hold exact train/test duplicates
    write_csv_gz(tmp_path / "gue" / "prom" / "prom_core_tata" / "train.csv.gz", "sequence,label", [("ACGT", 1)])
    assert locate(task, "train", data_dir=tmp_path).origin == "data dir"  # the user's own data comes first


# ---------------------------------------------------------------- the download host's probe (issue 20)
@pytest.fixture
def listener(monkeypatch):
    """A real TCP listener on loopback standing in for the download host, and the probe's memory emptied; each
    probe that reaches it is a connection waiting in its backlog (`connections()` accepts and counts them)."""
    import socket

    from suite.data import sources

    monkeypatch.setattr(sources, "_ANSWERS", {})
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)

    def connections() -> int:
        n = 0
        while True:
            try:
                server.accept()[0].close()
                n += 1
            except OSError:  # timeout: nothing more is waiting
                return n

    yield server.getsockname(), connections
    server.close()


def test_the_download_host_is_probed_once_per_process(listener, monkeypatch):
    from suite.data.sources import online

    host, connections = listener
    monkeypatch.delenv("SUITE_OFFLINE", raising=False)
    assert all(online(host) for _ in range(5))
    assert connections() == 1


def test_no_probe_offline_nor_when_the_data_is_on_disk(listener, monkeypatch, tmp_path):
    from suite.data import sources

    host, connections = listener
    monkeypatch.setenv("SUITE_OFFLINE", "1")
    assert sources.online(host) is False
    assert connections() == 0
    monkeypatch.delenv("SUITE_OFFLINE")
    task = get_task("human_ocr_ensembl")  # a GenomicBenchmarks task: the package could download it
    for split in task.splits:
        write_csv_gz(tmp_path / "genomic_benchmarks" / task.source / f"{split}.csv.gz", "seq,label", [("ACGT", 1)])
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    monkeypatch.setitem(sources.DOWNLOAD_HOSTS, task.format, host)  # its downloads would ask the listener
    assert all(locate(task, split).origin != "download" for split in task.splits)
    assert fetch(task) == "present"
    assert connections() == 0
