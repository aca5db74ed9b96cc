"""suite.foreground.run: a command in its own session, stopped with its whole process group on SIGTERM/SIGINT
(SIGKILL after the grace period for what ignores SIGTERM). Checked on a shell with two sleeping children."""

import signal
import subprocess
import sys

import pytest

from tests import procs

SCRIPT = """
import sys
from suite.foreground import run
sys.exit(run(["sh", "-c", sys.argv[1]], grace=float(sys.argv[2])))
"""
TREE = "{trap} sleep 300 & sleep 300 & echo ready; wait"


def _start(trap: str, grace: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SCRIPT, TREE.format(trap=trap), str(grace)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("trap", ["", "trap '' TERM;"])  # the second ignores SIGTERM: SIGKILL after the grace
def test_a_signal_stops_the_whole_tree(sig, trap):
    proc = _start(trap, grace=1.0)
    tree: set[int] = set()
    try:
        assert proc.stdout.readline().strip() == "ready"  # the shell and both sleeps are running
        tree = procs.descendants(proc.pid)
        assert len(tree) == 4, [procs.cmdline(p) for p in tree]  # python, sh, sleep, sleep
        proc.send_signal(sig)
        assert proc.wait(timeout=60) == 0
        assert "Traceback" not in proc.stderr.read()
        assert not [pid for pid in tree if procs.alive(pid)]
    finally:
        procs.kill(tree)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_the_exit_code_of_a_command_that_ends_on_its_own():
    out = subprocess.run([sys.executable, "-c", SCRIPT, "exit 3", "1"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 3, out.stderr
