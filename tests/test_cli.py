"""The command line as a user runs it: real subprocesses of `python -m suite`."""

import os
import subprocess
import sys

import pytest

from tests.conftest import write_csv_gz


def suite(*args, env=None, cwd=None):
    full_env = {**os.environ, "COLUMNS": "250", **(env or {})}
    return subprocess.run([sys.executable, "-m", "suite", *args], capture_output=True, text=True, env=full_env, cwd=cwd)


def test_tasks_all_lists_every_task_with_data_status(data_env):
    out = suite("tasks", "all")
    assert out.returncode == 0, out.stderr
    assert "39 tasks" in out.stdout
    assert "human_nontata_promoters" in out.stdout and "mtcdna_8k" in out.stdout
    line = next(l for l in out.stdout.splitlines() if "gue_h3k4me3" in l)
    assert "dev, test" in line and "29439/3680/3680" in line


def test_unknown_task_is_one_line_and_exit_code_2():
    out = suite("tasks", "nope_task")
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0
    assert out.stderr.startswith("error: unknown task 'nope_task'")


def test_data_verify_passes_on_present_data_and_says_missing(data_env):
    out = suite("data", "verify", "gue_emp,human_enhancers_cohn")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "CORRUPT" not in out.stdout and "MISSING" in out.stdout
    assert suite("data", "verify", "gue_h3", "--strict").returncode == 1  # train is missing


def test_data_verify_exits_1_on_corrupt_data(tmp_path):
    write_csv_gz(tmp_path / "gue" / "EMP" / "H3" / "test.csv.gz", "sequence,label", [("ACGT", 1)])
    out = suite("data", "verify", "gue_h3", "--data-dir", str(tmp_path), env={"SUITE_DATA_DIR": ""})
    assert out.returncode == 1 and "CORRUPT" in out.stdout and "official size is 1497" in out.stdout


def test_data_show_prints_counts_balance_and_histogram(data_env):
    out = suite("data", "show", "human_nontata_promoters")
    assert out.returncode == 0, out.stderr
    assert "4119 (45.6%)" in out.stdout and "length histogram" in out.stdout and "missing" in out.stdout


@pytest.mark.parametrize("args", [[], ["tasks", "--help"], ["data", "verify", "--help"], ["data", "show", "--help"]])
def test_help_everywhere(args):
    out = suite(*args, "--help") if args else suite("--help")
    assert out.returncode == 0 and "Usage" in out.stdout


def test_listing_tasks_imports_no_heavy_library():
    code = (
        "import sys\nfrom suite.cli import app\nfrom typer.testing import CliRunner\n"
        "r = CliRunner().invoke(app, ['tasks', 'all'])\nassert r.exit_code == 0, r.output\n"
        "heavy = [m for m in ('torch', 'ray', 'mlflow', 'optuna', 'sklearn', 'pandas') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
