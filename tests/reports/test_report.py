"""`suite report` end to end on a temporary MLflow store: files, the MLflow report run (in its own experiment), the
HTML page (our results first, published-only tables folded, links to the UI's address, sortable leaderboard, inline
plots), `suite ui`'s command line and saved leaderboard view, and a headless-Chromium screenshot."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suite.cli import app
from suite.errors import SuiteError
from suite.reports.report import ReportRequest, write_report
from suite.reports.runs_view import LEADERBOARD_KEY
from suite.reports.ui import leaderboard_view, ui_command

REPO = Path(__file__).resolve().parents[2]
TASKS = ["human_nontata_promoters", "human_enhancers_cohn"]
SCORES = {"findna": 0.9, "cnn": 0.8, "kmer_lr": 0.7}
UI = "http://gpu-node.lan:5123"


@pytest.fixture(scope="module")
def report(module_store, tmp_path_factory):
    for model, base in SCORES.items():
        for i, task in enumerate(TASKS):
            for seed in range(2):
                value = base + 0.01 * seed - 0.02 * i
                module_store.add(model, task, seed, value, history=[value - 0.2, value - 0.05, value])
    out = tmp_path_factory.mktemp("report")
    result = write_report(ReportRequest(tracking_uri=module_store.uri, out=out, ui_url=UI))
    return module_store, result


def test_files_and_the_mlflow_report_run(report):
    store, result = report
    names = {p.relative_to(result.out).as_posix() for p in result.files}
    assert {"report.md", "report.tex", "report.html", "tables/t2.csv", "tables/leaderboard.csv", "tables/cells.csv",
            "plots/cd_diagram.png", "plots/learning_curves.png",
            "plots/bars_genomic_benchmarks_finetune.png"} <= names
    run = store.client.get_run(result.run_id)
    assert run.data.tags["suite.kind"] == "report" and run.info.status == "FINISHED"
    # its own experiment: among the parent runs it would break the leaderboard the UI sorts
    assert run.info.experiment_id == store.client.get_experiment_by_name("dna-suite-reports").experiment_id
    assert not store.client.search_runs([store.experiment_id], "tags.`suite.kind` = 'report'")
    logged = {a.path for a in store.client.list_artifacts(result.run_id)}
    assert {"report.html", "report.md", "plots", "tables"} <= logged
    assert result.n_runs == len(SCORES) * len(TASKS) * 2  # the report run itself is never read back as a trial


def test_statistics_are_reported(report):
    _, result = report
    assert any(n.startswith("Friedman test over the 2 tasks") for n in result.notes)
    paired = next(t for t in result.tables if t.key.startswith("paired_"))
    assert paired.title == "Paired tests · findna vs cnn" and len(paired.rows) == 2
    assert "Wilcoxon signed-rank" in paired.caption and "Welch" in paired.caption


def test_html_links_runs_and_sorts_the_leaderboard(report):
    store, result = report
    page = (result.out / "report.html").read_text()
    assert f"{UI}/#/experiments/{store.experiment_id}/runs/" in page and "127.0.0.1" not in page
    assert any(f"{UI}/#/experiments/{store.experiment_id}/runs/{p}" in page for p in store.parents.values())
    assert f"{UI}/#/experiments/{store.experiment_id}/runs?workflowType=machine_learning&amp;searchFilter=" in page
    assert '<table class="sortable">' in page and "addEventListener('click'" in page
    assert page.count("data:image/png;base64,") >= 3


def test_html_leads_with_our_results_and_folds_published_only_tables(report):
    """Ours: the leaderboard, then Table 2 (fine-tuned genomic benchmarks); no runs of ours in Tables 1, 3, 5, 6:
    folded under <details> at the end."""
    _, result = report
    page = (result.out / "report.html").read_text()
    cards = re.findall(r'<section class="card" id="([^"]+)">', page)
    assert cards[:2] == ["leaderboard", "t2"]
    assert page.index("<table") > page.index('id="leaderboard"')  # the page's first table is the leaderboard
    folded = page.split('<details class="published"', 1)[1]
    assert {"t1", "t3", "t5", "t6"} == set(re.findall(r'<section class="card" id="([^"]+)">', folded))
    assert "open" not in folded.split(">", 1)[0]  # folded until clicked
    board, rest = page.split('id="t2"', 1)
    assert ">source</th>" not in board and ">source</th>" in rest  # the leaderboard's rows are all ours: no source
    md = (result.out / "report.md").read_text()
    assert md.index("### Leaderboard") < md.index("### Table 2") < md.index("## Published results") < md.index(
        "### Table 1")


def test_cli_report_and_bad_input(report, tmp_path):
    store, _ = report
    runner = CliRunner()
    done = runner.invoke(app, ["report", "--tracking-uri", store.uri, "--out", str(tmp_path), "--format", "md",
                               "--tasks", "genomic_benchmarks", "--models", "findna,cnn", "--no-log"])
    assert done.exit_code == 0, done.output
    text = (tmp_path / "report.md").read_text()
    assert "| findna |" in text and "| kmer_lr |" not in text
    with pytest.raises(SuiteError, match="unknown report format"):
        write_report(ReportRequest(tracking_uri=store.uri, out=tmp_path, formats=("pdf",)))
    with pytest.raises(SuiteError, match="no MLflow experiment 'nope'"):
        write_report(ReportRequest(experiment="nope", tracking_uri=store.uri, out=tmp_path))


def test_ui_command_serves_the_store_on_localhost(report, tmp_path):
    store, _ = report
    command = ui_command(store.uri, 5123)
    assert command[command.index("--host") + 1] == "127.0.0.1" and command[command.index("--port") + 1] == "5123"
    assert command[command.index("--backend-store-uri") + 1] == store.uri
    with pytest.raises(SuiteError, match="no MLflow store"):
        ui_command(f"sqlite:///{tmp_path}/absent.db")
    with pytest.raises(SuiteError, match="already a tracking server"):
        ui_command("http://127.0.0.1:5000")


def test_ui_saves_the_leaderboard_view_and_the_report_links_it(report, tmp_path):
    store, _ = report
    url = leaderboard_view(store.uri, "dna-suite", "http://127.0.0.1:5123")
    assert url == (f"http://127.0.0.1:5123/#/experiments/{store.experiment_id}/runs?workflowType=machine_learning"
                   f"&viewStateShareKey={LEADERBOARD_KEY}")
    tag = store.client.get_experiment(store.experiment_id).tags[f"mlflow.sharedViewState.{LEADERBOARD_KEY}"]
    assert json.loads(json.loads(tag)["state"])["orderByKey"] == "metrics.`test/primary_mean`"
    with pytest.raises(SuiteError, match="no MLflow experiment 'nope'"):
        leaderboard_view(store.uri, "nope", "http://127.0.0.1:5123")
    again = write_report(ReportRequest(tracking_uri=store.uri, out=tmp_path, formats=("html",), log=False))
    assert f"viewStateShareKey={LEADERBOARD_KEY}" in (again.out / "report.html").read_text()


def test_screenshot_of_the_html_report(report, tmp_path):
    """benchmarks/screenshot_report.sh renders the page in headless Chromium; the PNG must not be blank."""
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("chromium not installed (apt-get install -y chromium): the HTML screenshot needs it")
    import matplotlib.image

    _, result = report
    png = tmp_path / "report.png"
    subprocess.run([str(REPO / "benchmarks" / "screenshot_report.sh"), str(result.out / "report.html"), str(png),
                    "1200x1600"], check=True, timeout=120)
    pixels = matplotlib.image.imread(png)
    assert pixels.shape[:2] == (1600, 1200)
    assert pixels[..., :3].std() > 0.05  # text and tables, not an empty white page
