"""A wheel built from the repository carries every card and the demo task (not only an editable install does)."""

import csv
import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CARD_FOLDERS = ["tasks", "models", "sweeps", "reports/published"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    out_dir = tmp_path_factory.mktemp("wheel")
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out_dir), str(REPO)],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    return zipfile.ZipFile(next(out_dir.glob("dna_suite-*.whl")))


@pytest.mark.integration
def test_built_wheel_carries_the_cards(wheel):
    members = set(wheel.namelist())
    tracked = subprocess.run(["git", "ls-files", *CARD_FOLDERS], capture_output=True, text=True, cwd=REPO).stdout.split()
    assert tracked, "no cards tracked by git"
    missing = [path for path in tracked if f"suite/_cards/{path}" not in members]
    assert not missing, f"cards missing from the wheel: {missing}"
    assert "suite/cli.py" in members
    assert any(m.endswith("entry_points.txt") for m in members)


@pytest.mark.integration
def test_built_wheel_carries_the_demo_task_and_its_checksums_verify(wheel):
    manifest = list(csv.DictReader(io.StringIO(wheel.read("suite/_data/MANIFEST.tsv").decode()), delimiter="\t"))
    assert {row["path"] for row in manifest} == {f"gue/prom/prom_core_tata/{s}.csv.gz" for s in ("train", "dev", "test")}
    for row in manifest:
        data = wheel.read(f"suite/_data/{row['path']}")
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
    assert "suite/_data/README.md" in wheel.namelist()  # provenance and licence
