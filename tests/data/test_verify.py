import gzip
import shutil

from suite.data.verify import CORRUPT, MISSING, OK, verify_task
from suite.tasks import get_task
from tests.conftest import write_csv_gz


def _split(check, name):
    return next(s for s in check.splits if s.split == name)


def test_real_splits_verify_ok_against_manifest_and_official_sizes(data_env):
    check = verify_task(get_task("human_nontata_promoters"))
    assert _split(check, "test").status == OK and _split(check, "test").rows == 9034
    assert _split(check, "train").status == MISSING
    assert check.status == MISSING  # not CORRUPT: what is there is intact


def test_gue_dev_and_test_verify_and_report_duplicates(data_env):
    check = verify_task(get_task("gue_h3k4me3"))
    assert [s.status for s in check.splits] == [MISSING, OK, OK]
    assert check.duplicates == {"dev/test": 0}


def test_checksum_mismatch_is_corrupt(data_env, tmp_path, monkeypatch):
    root = tmp_path / "data"
    folder = root / "gue" / "EMP" / "H4"
    folder.mkdir(parents=True)
    shutil.copy(data_env / "MANIFEST.tsv", root / "MANIFEST.tsv")
    original = gzip.decompress((data_env / "gue" / "EMP" / "H4" / "test.csv.gz").read_bytes())
    (folder / "test.csv.gz").write_bytes(gzip.compress(original.replace(b"ACGT", b"ACGA", 1)))
    monkeypatch.setenv("SUITE_DATA_DIR", str(root))
    test = _split(verify_task(get_task("gue_h4")), "test")
    assert test.status == CORRUPT and "differs from MANIFEST" in test.detail


def test_wrong_row_count_is_corrupt(tmp_path, monkeypatch):
    write_csv_gz(tmp_path / "gue" / "EMP" / "H4" / "test.csv.gz", "sequence,label", [("ACGT", 1)] * 3)
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    check = verify_task(get_task("gue_h4"))
    assert check.status == CORRUPT
    assert _split(check, "test").detail == "3 rows, official size is 1461"


def test_unreadable_file_is_corrupt_not_a_crash(tmp_path, monkeypatch):
    path = tmp_path / "gue" / "EMP" / "H4" / "dev.csv.gz"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x1f\x8b\x08\x00garbage")
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    dev = _split(verify_task(get_task("gue_h4")), "dev")
    assert dev.status == CORRUPT and "cannot be read" in dev.detail


def test_exact_duplicates_across_splits_are_counted(tmp_path, monkeypatch):
    rows = [("ACGT", 0), ("GGGG", 1), ("acgt", 1)]
    write_csv_gz(tmp_path / "gue" / "EMP" / "H4" / "train.csv.gz", "sequence,label", rows)
    write_csv_gz(tmp_path / "gue" / "EMP" / "H4" / "dev.csv.gz", "sequence,label", [("TTTT", 0)])
    write_csv_gz(tmp_path / "gue" / "EMP" / "H4" / "test.csv.gz", "sequence,label", [("ACGT", 1), ("CCCC", 0)])
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    check = verify_task(get_task("gue_h4"))
    assert check.duplicates == {"train/dev": 0, "train/test": 1, "dev/test": 0}
