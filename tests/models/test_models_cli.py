"""`suite models` as a user runs it."""

import os
import subprocess
import sys


def test_suite_models_lists_cards_and_the_paper_count():
    env = {**os.environ, "COLUMNS": "250"}
    out = subprocess.run([sys.executable, "-m", "suite", "models", "--families"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    for name in ("findna", "findna_t", "cm_mnm", "chordmixer", "transformer"):
        assert name in out.stdout
    assert "findna (paper): 12,651,873 parameters" in out.stdout
    assert "12,650,328" in out.stdout  # the backbone alone
