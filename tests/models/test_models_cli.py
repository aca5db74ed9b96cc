"""`suite models` as a user runs it."""

import os
import subprocess
import sys


def test_suite_models_lists_cards_and_the_paper_count():
    env = {**os.environ, "COLUMNS": "250"}
    out = subprocess.run([sys.executable, "-m", "suite", "models", "--families"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    for name in ("findna", "findna_t", "cm_mnm", "chordmixer", "transformer"):
        assert name in out.stdout + out.stderr
    assert "findna (paper): 12,651,873 parameters" in out.stderr  # piped: notes on stderr, the table on stdout
    assert "12,650,328" in out.stdout  # the backbone alone
    assert "hyenadna → hyenadna_tiny_1k" in out.stderr  # the aliases


def test_piped_models_name_every_card_whole_one_row_a_line():
    from suite.models import all_models

    out = subprocess.run([sys.executable, "-m", "suite", "models"], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "80"})
    assert out.returncode == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    assert rows[0][0] == "name" and [r[0] for r in rows[1:]] == list(all_models())
    assert all(len(r) == len(rows[0]) for r in rows) and "…" not in out.stdout
    hyena = next(r for r in rows if r[0] == "hyenadna_tiny_1k")
    assert "LongSafari/hyenadna-tiny-1k-seqlen-hf@main" in hyena[5]  # multi-line cells joined with "; ", whole
