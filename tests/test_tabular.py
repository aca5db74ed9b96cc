"""Tables survive where they go: drawn in a terminal with names whole, data (tsv/csv/json/md) anywhere else."""

import csv
import io
import json

import pytest
from rich.console import Console
from rich.table import Table

from suite.errors import UnknownName
from suite.tabular import prose, resolve_format, show

LONG = "demo_coding_vs_intergenomic_seqs"


def table() -> Table:
    t = Table(title="tasks: demo")
    for column in ("name", "metric", "weights"):
        t.add_column(column)
    t.add_row(LONG, "accuracy", "hub/x@main\n[yellow]missing[/yellow] (suite models fetch x)")
    t.add_row("", "mcc", "a\tb | c")  # blank under a repeated name (as the leaderboard's task column)
    return t


def console(terminal: bool, width: int = 60) -> Console:
    return Console(file=io.StringIO(), force_terminal=terminal, width=width, color_system=None)


def test_auto_is_a_drawn_table_in_a_terminal_and_tsv_elsewhere():
    assert resolve_format("auto", console(True)) == "table"
    assert resolve_format("auto", console(False)) == "tsv"
    assert resolve_format("JSON", console(True)) == "json"
    with pytest.raises(UnknownName, match="did you mean 'csv'"):
        resolve_format("cvs", console(False))


def test_tsv_is_one_whole_row_a_line_without_markup_or_boxes():
    out = console(False, width=20)
    show(table(), out, repeat=("name",))
    lines = out.file.getvalue().splitlines()
    assert lines[0] == "name\tmetric\tweights"
    assert lines[1].split("\t") == [LONG, "accuracy", "hub/x@main; missing (suite models fetch x)"]
    assert lines[2].split("\t") == [LONG, "mcc", "a b | c"]  # the repeated name filled in; a tab in a cell is not
    assert len(lines) == 3 and "…" not in out.file.getvalue() and "┃" not in out.file.getvalue()


def test_csv_json_and_md_parse_back():
    for fmt in ("csv", "json", "md"):
        out = console(False)
        show(table(), out, fmt)
        text = out.file.getvalue()
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(text)))
            assert rows[1][0] == LONG and len(rows) == 3
        elif fmt == "json":
            rows = json.loads(text)
            assert rows[0] == {"name": LONG, "metric": "accuracy",
                               "weights": "hub/x@main; missing (suite models fetch x)"}
            assert len(text.splitlines()) == 4  # [, one object a line, ]
        else:
            assert text.startswith("**tasks: demo**") and f"| {LONG} | accuracy |" in text and "a b \\| c" in text


def test_a_narrow_terminal_keeps_the_name_column_whole():
    out = console(True, width=50)
    show(table(), out)
    drawn = out.file.getvalue()
    assert LONG in drawn and "…" not in drawn
    weights = "".join(line.split("│")[3].strip() for line in drawn.splitlines() if line.startswith("│"))
    assert "missing(suitemodelsfetchx)" in weights.replace(" ", "")  # other cells fold onto more lines, never cut


def test_notes_go_to_stderr_when_stdout_carries_data(capsys):
    prose(console(False), "auto").print("39 tasks")
    assert capsys.readouterr().err.strip() == "39 tasks"
    terminal = console(True)
    assert prose(terminal, "auto") is terminal


def test_the_leaderboard_in_a_log_names_its_task_and_model_on_every_line():
    from suite.runs.progress import leaderboard

    rows = [{"task": "prom_core_tata", "metric": "mcc", "model": m, "test/mcc_mean": v, "test/mcc_std": 0.01,
             "n_runs": 3, "mode": "finetune", "weights": "none", "cost/wall_seconds_mean": 60.0}
            for m, v in (("findna", 0.8), ("hyenadna_tiny_1k", 0.7))]
    out = console(False, width=80)
    show(leaderboard(rows), out, whole=("task", "model"), repeat=("task", "metric"))
    lines = [line.split("\t") for line in out.file.getvalue().splitlines()]
    assert lines[1][:4] == ["prom_core_tata", "mcc", "findna", "80.00 ± 1.00"]  # no markup
    assert lines[2][:3] == ["prom_core_tata", "mcc", "hyenadna_tiny_1k"]
