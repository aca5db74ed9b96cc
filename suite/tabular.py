"""Every table the command line prints, in a form that survives where it goes.

In a terminal a table is drawn with rich, and its name columns never shrink or end in "…": they keep their
full width, and any other cell that must give way folds onto the next line instead of being cut. Anywhere
else (a pipe, a log file, `--format`), a table is data: one header line, then one line per row, every cell
whole, no box drawing, no colour. So `suite tasks all | grep cohn`, `cut -f1` and `json.loads` all work.

Tables are built as rich `Table`s where they are made (suite/cli.py, suite/runs/progress.py `leaderboard`);
`show` is the one place that decides how they come out. Lines said around a table (counts, notes, the
title) go through `prose`: the same stream in a terminal, stderr when stdout carries data, so that data
stays parseable.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text

from suite.errors import UnknownName

FORMATS = ("auto", "table", "tsv", "csv", "json", "md")
"""auto: `table` in a terminal, `tsv` anywhere else (tab-separated: cut, awk and spreadsheets read it as is,
and names never hold a tab). table: rich's drawing. json: a list of {column: cell} objects, one a line."""


def resolve_format(fmt: str, console: Console) -> str:
    """The format a table comes out in: `auto` becomes `table` in a terminal and `tsv` anywhere else."""
    fmt = (fmt or "auto").strip().lower()
    if fmt not in FORMATS:
        raise UnknownName("table format", fmt, FORMATS)
    if fmt == "auto":
        return "table" if console.is_terminal else "tsv"
    return fmt


def prose(console: Console, fmt: str) -> Console:
    """Where the lines around a table go: `console` when tables are drawn, stderr when stdout carries data."""
    return console if resolve_format(fmt, console) == "table" else Console(stderr=True, soft_wrap=True)


def show(table: Table, console: Console, fmt: str = "auto", whole: Iterable[str] | None = None,
         repeat: Iterable[str] = (), notes: Console | None = None) -> None:
    """Print `table` in `fmt` (see FORMATS).

    `whole`: headers of the columns that must never be cut in a terminal (default: the first column).
    `repeat`: headers of columns left blank under a repeated value (the leaderboard's task and metric); in data
    formats the value is written on every row, so each line stands alone for grep.
    `notes`: where the title goes in data formats (default `prose`: stderr); a run's log keeps it on stdout."""
    fmt = resolve_format(fmt, console)
    if fmt == "table":
        _draw(table, console, set(whole if whole is not None else [_header(table.columns[0])] if table.columns else []))
        return
    headers = [_header(column) for column in table.columns]
    rows = _rows(table, [headers.index(h) for h in repeat if h in headers])
    if table.title and fmt != "md":
        (notes or prose(console, fmt)).print(_plain(table.title), highlight=False)
    text = {"tsv": _tsv, "csv": _csv, "json": _json, "md": _md}[fmt](headers, rows, _plain(table.title or ""))
    console.file.write(text)
    console.file.flush()


def _draw(table: Table, console: Console, whole: set[str]) -> None:
    """rich's drawing, with name columns at their full width and every other cell folding rather than cut."""
    for column in table.columns:
        column.overflow = "fold"
        if _header(column) in whole:
            column.no_wrap = True
            cells = [column.header, *column.cells]
            column.min_width = max(len(line) for cell in cells for line in _plain(cell).split("\n"))
    console.print(table)


def _header(column) -> str:
    return _plain(column.header)


def _plain(cell) -> str:
    """A cell as text: markup (strings are rich markup in a Table) and styles dropped."""
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return str(cell)


def _rows(table: Table, repeated: list[int]) -> list[list[str]]:
    """Every row as whole, one-line cells (a cell's own line breaks become '; ')."""
    columns = [[_one_line(c) for c in column.cells] for column in table.columns]
    rows = [list(row) for row in zip(*columns)]
    for above, row in zip(rows, rows[1:]):
        for i in repeated:
            if not row[i]:
                row[i] = above[i]
    return rows


def _one_line(cell) -> str:
    lines = (part.strip() for part in _plain(cell).replace("\t", " ").split("\n"))
    return "; ".join(part for part in lines if part)


def _tsv(headers: list[str], rows: list[list[str]], title: str) -> str:
    return "".join("\t".join(line) + "\n" for line in [headers, *rows])


def _csv(headers: list[str], rows: list[list[str]], title: str) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([headers, *rows])
    return out.getvalue()


def _json(headers: list[str], rows: list[list[str]], title: str) -> str:
    if not rows:
        return "[]\n"
    lines = [json.dumps(dict(zip(headers, row)), ensure_ascii=False) for row in rows]
    return "[\n" + ",\n".join(lines) + "\n]\n"


def _md(headers: list[str], rows: list[list[str]], title: str) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |\n"

    head = f"**{title}**\n\n" if title else ""
    return head + line(headers) + "|" + "|".join("---" for _ in headers) + "|\n" + "".join(line(r) for r in rows)
