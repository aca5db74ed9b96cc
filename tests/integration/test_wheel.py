"""A wheel built from the repository carries every card (not only an editable install does)."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CARD_FOLDERS = ["tasks", "models", "sweeps", "reports/published"]


@pytest.mark.integration
def test_built_wheel_carries_the_cards(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    wheel = next(tmp_path.glob("dna_suite-*.whl"))
    members = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", *CARD_FOLDERS], capture_output=True, text=True, cwd=REPO).stdout.split()
    assert tracked, "no cards tracked by git"
    missing = [path for path in tracked if f"suite/_cards/{path}" not in members]
    assert not missing, f"cards missing from the wheel: {missing}"
    assert "suite/cli.py" in members
    assert any(m.endswith("entry_points.txt") for m in members)
