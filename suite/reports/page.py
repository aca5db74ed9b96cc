"""The order a report is read in: the user's own results first, published numbers they have no runs beside last.

A reader opens the report for their runs, so the leaderboard comes first, then the paper's tables that hold a row
of ours (ours above the published rows within each), the statistics and the plots. The paper's tables with no
row of ours (no runs in that mode or on those tasks yet) hold only published numbers: in the HTML they are folded
under one <details> at the end, in markdown they follow under their own heading. LaTeX keeps the paper's order.
"""

from __future__ import annotations

import html
from pathlib import Path

from suite.reports import render
from suite.reports.tables import ReportTable


def has_ours(table: ReportTable) -> bool:
    return any(row.source == "ours" for row in table.rows)


def arrange(tables: list[ReportTable]) -> tuple[list[ReportTable], list[ReportTable], list[ReportTable]]:
    """(tables of ours: the leaderboard first, then the paper's tables in their order; the paired tests;
    the published-only tables)."""
    paired = [t for t in tables if t.key.startswith("paired_")]
    rest = [t for t in tables if t not in paired]
    ours = sorted((t for t in rest if has_ours(t)), key=lambda t: t.key != "leaderboard")  # stable: paper order kept
    return ours, paired, [t for t in rest if not has_ours(t)]


def _short(table: ReportTable) -> str:
    """'Table 3' of 'Table 3 · GUE …', for the contents line."""
    return table.title.split(" · ")[0]


def html_report(tables: list[ReportTable], notes: list[str], figures: list[tuple[Path, str]], meta_html: str,
                run_url) -> str:
    """The one-page HTML report; `meta_html` is the line under the title (already escaped)."""
    ours, paired, published = arrange(tables)
    sections = [render.html_table(t, run_url) for t in ours]
    if not ours:
        sections.append('<section class="card"><h2>No runs of ours yet</h2><p class="caption">This experiment holds '
                        "no finished trial runs in this selection: `suite run` first.</p></section>")
    if notes or paired:
        sections.append('<section class="card" id="statistics"><h2>Statistics</h2>'
                        + "".join(f"<p>{html.escape(n)}</p>" for n in notes) + "</section>")
        sections += [render.html_table(t, run_url) for t in paired]
    if figures:
        sections.append('<section class="card" id="plots"><h2>Plots</h2>'
                        + "".join(render.image_tag(p, c) for p, c in figures) + "</section>")
    if published:
        names = ", ".join(_short(t) for t in published)
        sections.append(f'<details class="published" id="published"><summary>Published results with no runs of ours '
                        f"yet: {html.escape(names)} ({len(published)} tables)</summary>"
                        + "".join(render.html_table(t, run_url) for t in published) + "</details>")
    links = [(t.key, _short(t)) for t in ours] + [("statistics", "Statistics")] * bool(notes or paired)
    links += [("plots", "Plots")] * bool(figures) + [("published", "Published only")] * bool(published)
    nav = "<nav>" + "".join(f'<a href="#{k}">{html.escape(n)}</a>' for k, n in links) + "</nav>"
    return render.html_page("dna-suite report", meta_html, [nav, *sections])


def markdown_report(tables: list[ReportTable], notes: list[str], figures: list[tuple[Path, str]], meta: str,
                    out: Path) -> str:
    """The markdown report in the same order; plots linked relative to `out`."""
    ours, paired, published = arrange(tables)
    body = [f"# dna-suite report\n\n{meta}\n"] + [render.markdown(t) for t in ours]
    body += ["## Statistics\n"] + [f"- {n}" for n in notes] + [""] + [render.markdown(t) for t in paired]
    body += ["## Plots\n"] + [f"![{c}]({p.relative_to(out)})" for p, c in figures]
    if published:
        body += ["\n## Published results with no runs of ours yet\n"] + [render.markdown(t) for t in published]
    return "\n".join(body) + "\n"
