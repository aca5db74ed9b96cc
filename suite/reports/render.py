"""Writers for ReportTable: markdown, LaTeX, HTML and CSV. Best in bold, runner-up underlined (markdown uses
<u>, which GitHub renders). One HTML page carries everything (plots inline as base64) so it can be mailed or
attached to an MLflow run and still open; its leaderboard sorts by clicking a header (a few lines of inline JS).
Each HTML table sits in a card that scrolls sideways when the table is wider than the window (a shadow on the
right edge says so), and headers break after '_' and '/': a 1,400 px window shows the page without scrolling it
sideways.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

import pandas as pd

from suite.reports.tables import Cell, ReportTable


def cell_text(cell: Cell) -> str:
    """'85.55 ± 0.03 (5)' for our runs, '85.55 ± 0.03' for a published cell, the cell's text when it has one."""
    if cell.text:
        return cell.text + cell.note
    if cell.mean is None:
        return "missing"
    text = f"{cell.mean:.2f}" + (f" ± {cell.std:.2f}" if cell.std is not None else "")
    return text + (f" ({cell.n})" if cell.n else "") + cell.note


# ---- markdown ------------------------------------------------------------------------------------------------
def _md_cell(cell: Cell) -> str:
    text = cell_text(cell).replace("|", "\\|")
    return f"**{text}**" if cell.mark == "best" else f"<u>{text}</u>" if cell.mark == "second" else text


def markdown(table: ReportTable) -> str:
    head = [table.row_header, *(h for _, h in table.columns), "source"]
    lines = [f"### {table.title}", "", table.caption, "", "| " + " | ".join(head) + " |",
             "|" + "|".join(["---"] + [":---:"] * len(table.columns) + ["---"]) + "|"]
    for row in table.rows:
        cells = [_md_cell(row.cells.get(c, Cell(text="–"))) for c, _ in table.columns]
        lines.append("| " + " | ".join([row.label, *cells, row.source]) + " |")
    lines += [""] + [f"- {note}" for note in table.footnotes]
    return "\n".join(lines) + "\n"


# ---- LaTeX ---------------------------------------------------------------------------------------------------
_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
        "}": r"\}", "~": r"\textasciitilde{}", "^": r"\^{}", "±": r"$\pm$", "×": r"$\times$", "Δ": r"$\Delta$",
        "‡": r"$^\ddagger$", "·": r"$\cdot$", "÷": r"$\div$", "−": "-"}


def tex_escape(text: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in text)


def _tex_cell(cell: Cell) -> str:
    text = tex_escape(cell_text(cell))
    return rf"\textbf{{{text}}}" if cell.mark == "best" else rf"\underline{{{text}}}" if cell.mark == "second" else text


def latex(table: ReportTable) -> str:
    spec = "l" + "c" * len(table.columns) + "l"
    head = " & ".join(tex_escape(h) for h in [table.row_header, *(h for _, h in table.columns), "source"])
    body = [" & ".join([tex_escape(row.label), *(_tex_cell(row.cells.get(c, Cell(text="–"))) for c, _ in table.columns),
                        tex_escape(row.source)]) + r" \\" for row in table.rows]
    notes = "".join(rf"\\ \footnotesize {tex_escape(n)}" for n in table.footnotes)
    return "\n".join([r"\begin{table*}[t]\centering", rf"\caption{{{tex_escape(table.title)}. {tex_escape(table.caption)}}}",
                      r"\resizebox{\textwidth}{!}{%", rf"\begin{{tabular}}{{{spec}}}", r"\toprule", head + r" \\",
                      r"\midrule", *body, r"\bottomrule", r"\end{tabular}}", rf"\parbox{{\textwidth}}{{{notes}}}",
                      r"\end{table*}", ""])


def latex_document(tables: list[ReportTable]) -> str:
    preamble = [r"\documentclass[10pt]{article}", r"\usepackage[utf8]{inputenc}", r"\usepackage[T1]{fontenc}",
                r"\usepackage{booktabs,graphicx}", r"\usepackage[margin=1.5cm,landscape]{geometry}",
                r"\begin{document}"]
    return "\n".join(preamble + [latex(t) for t in tables] + [r"\end{document}", ""])


# ---- CSV -----------------------------------------------------------------------------------------------------
def wide_frame(table: ReportTable) -> pd.DataFrame:
    """The table as printed (text cells), one row per table row."""
    return pd.DataFrame([{table.row_header: row.label, **{h: cell_text(row.cells.get(c, Cell(text="–")))
                                                 for c, h in table.columns}, "source": row.source}
                         for row in table.rows])


def tidy_frame(tables: list[ReportTable]) -> pd.DataFrame:
    """Every numeric cell of every table with its n, mark, Δ and the run ids it summarises."""
    records = [{"table": t.key, "row": row.label, "source": row.source, "column": c, "mean": cell.mean,
                "std": cell.std, "n": cell.n, "mark": cell.mark, "note": cell.note, "delta": cell.delta,
                "run_ids": " ".join(cell.run_ids)}
               for t in tables for row in t.rows for c, _ in t.columns
               for cell in [row.cells.get(c, Cell())] if cell.mean is not None]
    return pd.DataFrame(records)


# ---- HTML ----------------------------------------------------------------------------------------------------
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1800px;color:#1b1f24;padding:0 16px}
h1{font-size:24px;margin:0 0 4px} h2{font-size:18px;margin:4px 0 6px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
p.meta,p.caption{color:#57606a;margin:4px 0 8px} nav{margin:4px 0 8px;font-size:13px} nav a{color:#0969da;margin-right:12px} p.meta a{color:#0969da}
section.card{border:1px solid #d0d7de;border-radius:6px;padding:10px 14px;margin:16px 0;background:#fff;min-width:0}
.scroll{overflow-x:auto} .scroll.wide{box-shadow:inset -14px 0 12px -12px rgba(0,0,0,.35)}
details.published{margin:24px 0} details.published>summary{cursor:pointer;font-size:16px;font-weight:600;padding:8px 0;color:#57606a}
table{border-collapse:collapse;font-size:12.5px;margin:6px 0} th,td{padding:3px 7px;border-bottom:1px solid #eaeef2;text-align:center;white-space:nowrap}
th{white-space:normal;min-width:44px;vertical-align:bottom} span.sd{display:block;font-size:10.5px;color:#6e7781;font-weight:400}
th{background:#f6f8fa;font-weight:600;position:sticky;top:0} td.label,th.label{text-align:left} td.src{text-align:left;color:#57606a;font-size:11px;white-space:normal;overflow-wrap:anywhere;min-width:90px;max-width:130px}
td.label{white-space:normal;min-width:110px;max-width:220px}
tr.paper td{background:#fbfbf6;color:#4a4f55;font-style:italic} tr:hover td{background:#eef6ff}
td b{color:#0b3d91} td u{text-decoration-thickness:2px;text-underline-offset:3px} td.missing{color:#b0b6bd}
a{color:inherit;text-decoration:none} td a:hover{text-decoration:underline} ul.notes{color:#57606a;font-size:12px;margin:2px 0 0 18px;padding:0}
table.sortable th{cursor:pointer} table.sortable th:after{content:" \\2195";color:#aab}
figure{margin:10px 0;display:inline-block;vertical-align:top} figure img{max-width:100%;border:1px solid #eaeef2} figcaption{color:#57606a;font-size:12px}
"""

SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
    var body=t.tBodies[0],rows=Array.from(body.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
    rows.sort(function(a,b){var x=a.cells[i].dataset.v,y=b.cells[i].dataset.v;
      if(x===undefined||x===''){return 1;} if(y===undefined||y===''){return -1;}
      var nx=parseFloat(x),ny=parseFloat(y);var d=(isNaN(nx)||isNaN(ny))?x.localeCompare(y):nx-ny;return asc?d:-d;});
    rows.forEach(function(r){body.appendChild(r);});});});});
function markWide(){document.querySelectorAll('.scroll').forEach(function(d){
  d.classList.toggle('wide',d.scrollWidth>d.clientWidth+1);});}
markWide();window.addEventListener('resize',markWide);
"""


def _html_text(cell: Cell) -> str:
    """Mean on one line, '± std (n)' smaller below it: keeps 15-column tables within a screen's width."""
    if cell.text or cell.mean is None:
        return html.escape(cell_text(cell))
    spread = (f"± {cell.std:.2f}" if cell.std is not None else "") + (f" ({cell.n})" if cell.n else "")
    return (f"{cell.mean:.2f}{html.escape(cell.note)}"
            + (f'<span class="sd">{html.escape(spread.strip())}</span>' if spread else ""))


def _html_cell(cell: Cell, run_url) -> str:
    text = _html_text(cell)
    if cell.mark == "best":
        text = f"<b>{text}</b>"
    elif cell.mark == "second":
        text = f"<u>{text}</u>"
    if cell.link and run_url:
        text = f'<a href="{html.escape(run_url(cell.link))}" title="open the MLflow run">{text}</a>'
    value = "" if cell.mean is None else f"{cell.mean:.6g}"
    css = ' class="missing"' if cell.mean is None else ""
    return f'<td data-v="{value}"{css}>{text}</td>'


def header_html(text: str) -> str:
    """A header that may break after '_' or '/' (task names such as prom_core_notata are the widest cells)."""
    return html.escape(text).replace("_", "_<wbr>").replace("/", "/<wbr>")


def html_table(table: ReportTable, run_url=None) -> str:
    """The table in a card; the source column only when a row is not ours (a leaderboard's rows all are)."""
    sourced = any(row.source != "ours" for row in table.rows)
    head = "".join(f"<th>{header_html(h)}</th>" for _, h in table.columns)
    rows = []
    for row in table.rows:
        cells = "".join(_html_cell(row.cells.get(c, Cell(text="–")), run_url) for c, _ in table.columns)
        css = "" if row.source == "ours" else ' class="paper"'
        source = f'<td class="src">{html.escape(row.source)}</td>' if sourced else ""
        rows.append(f'<tr{css}><td class="label" data-v="{html.escape(row.label)}">{html.escape(row.label)}</td>'
                    f'{cells}{source}</tr>')
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in table.footnotes)
    css = ' class="sortable"' if table.sortable else ""
    source_head = '<th class="label">source</th>' if sourced else ""
    return (f'<section class="card" id="{table.key}"><h2>{html.escape(table.title)}</h2>'
            f'<p class="caption">{html.escape(table.caption)}</p>'
            f'<div class="scroll"><table{css}><thead><tr><th class="label">{html.escape(table.row_header)}</th>{head}'
            f'{source_head}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>'
            + (f'<ul class="notes">{notes}</ul>' if notes else "") + "</section>")


def image_tag(path: Path, caption: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(caption)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>")


def html_page(title: str, meta: str, sections: list[str]) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1><p class=\"meta\">{meta}</p>"
            + "".join(sections) + f"<script>{SORT_JS}</script></body></html>\n")
