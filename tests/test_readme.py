"""Every command in the README runs as written: the cheap ones as they are, the expensive ones as a plan
(`--dry-run`) or their `--help`, `make` targets as `make -n`. A README command that this file does not know how to
run fails the test, so a new command cannot slip in untested.

Each command runs in a new process from a folder laid out like a checkout (`../shared` beside it), with the real
data, an empty MLflow store under the test's tmp folder and no network.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

README = REPO / "README.md"

# Commands of other programs, shown for the reader's set-up (installing, a database, a Ray cluster, a shell):
# they are not ours to run here.
OTHER_PROGRAMS = ("pip ", "createdb ", "ray start ", "source ", "export ", "cd ", "git ", "apt-get ", "mlflow ",
                  "bash ", "python benchmarks/")
# `suite` commands that train, serve or pretrain for minutes to hours: shown as a plan (`--dry-run`) where the
# command has one, else their `--help` (which still checks that every flag the README uses exists).
PLANNED = ("suite run ", "suite reproduce ")
HELP_ONLY = ("suite pretrain ", "suite sweep ", "suite server ", "suite ui", "suite report")
RUN_AS_WRITTEN = ("suite tasks", "suite models", "suite data ", "suite reproduce --list", "suite --help")


def readme_commands() -> list[str]:
    """Shell commands of the README's ```bash blocks: comments dropped, `\\` continuations joined."""
    commands, text = [], README.read_text()
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.extend(part.strip() for part in line.split(";") if part.strip())
    return commands


def how_to_run(command: str) -> list[str] | None:
    """The argv to run for a README command (None: another program's command), or raise for an unknown one."""
    if command.startswith(OTHER_PROGRAMS):
        return None
    if command.startswith("make "):
        return ["make", "-n", *shlex.split(command)[1:]]
    command = command.removeprefix(".venv/bin/")
    if not command.startswith("suite"):
        raise AssertionError(f"README command not known to tests/test_readme.py: {command!r}")
    argv = [sys.executable, "-m", "suite", *shlex.split(command)[1:]]
    if command.startswith(RUN_AS_WRITTEN):
        return argv
    if command.startswith(PLANNED):
        return argv if "--dry-run" in argv else [*argv, "--dry-run"]
    if command.startswith(HELP_ONLY):
        flags = [a for a in argv[3:] if a.startswith("--")]
        return [*argv[:4], "--help", *(f"--check-flag={f.split('=')[0]}" for f in flags)]
    raise AssertionError(f"README command not known to tests/test_readme.py: {command!r}")


COMMANDS = readme_commands()


def test_the_readme_has_commands():
    assert len(COMMANDS) >= 20, COMMANDS


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_command_runs_as_written(command, shared_data, tmp_path):
    argv = how_to_run(command)
    if argv is None:
        pytest.skip("another program's command (set-up of a database, cluster or environment)")
    flags = [a.removeprefix("--check-flag=") for a in argv if a.startswith("--check-flag=")]
    argv = [a for a in argv if not a.startswith("--check-flag=")]
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (tmp_path / "shared").symlink_to(shared_data.parent, target_is_directory=True)
    env = {**os.environ, "SUITE_DATA_DIR": str(shared_data), "SUITE_OFFLINE": "1", "COLUMNS": "120",
           "PYTHONPATH": str(REPO), "HOME": str(tmp_path / "home")}
    cwd = REPO if argv[0] == "make" else checkout
    out = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    assert out.returncode == 0, f"{command!r} → {argv[2:]} exit {out.returncode}\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
    for flag in flags:
        assert flag in out.stdout, f"{command!r}: `{flag}` is not an option of this command (--help does not list it)"
    assert "Traceback" not in out.stderr
