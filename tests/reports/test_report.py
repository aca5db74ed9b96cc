"""`suite report` end to end on a temporary MLflow store: files, the MLflow report run, the HTML page (links,
sortable leaderboard, inline plots), `suite ui`'s command line, and a headless-Chromium screenshot."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from suite.cli import app
from suite.errors import SuiteError
from suite.reports.report import ReportRequest, write_report
from suite.reports.ui import ui_command

REPO = Path(__file__).resolve().parents[2]
TASKS = ["human_nontata_promoters", "human_enhancers_cohn"]
SCORES = {"findna": 0.9, "cnn": 0.8, "kmer_lr": 0.7}


@pytest.fixture(scope="module")
def report(module_store, tmp_path_factory):
    for model, base in SCORES.items():
        for i, task in enumerate(TASKS):
            for seed in range(2):
                value = base + 0.01 * seed - 0.02 * i
                module_store.add(model, task, seed, value, history=[value - 0.2, value - 0.05, value])
    out = tmp_path_factory.mktemp("report")
    result = write_report(ReportRequest(tracking_uri=module_store.uri, out=out, ui_port=5123))
    return module_store, result


def test_files_and_the_mlflow_report_run(report):
    store, result = report
    names = {p.relative_to(result.out).as_posix() for p in result.files}
    assert {"report.md", "report.tex", "report.html", "tables/t2.csv", "tables/leaderboard.csv", "tables/cells.csv",
            "plots/cd_diagram.png", "plots/learning_curves.png",
            "plots/bars_genomic_benchmarks_finetune.png"} <= names
    run = store.client.get_run(result.run_id)
    assert run.data.tags["suite.kind"] == "report" and run.info.status == "FINISHED"
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
    assert f"http://127.0.0.1:5123/#/experiments/{store.experiment_id}/runs/" in page
    assert any(f"/runs/{p}" in page for p in store.parents.values())  # a cell opens its parent run
    assert '<table class="sortable">' in page and "addEventListener('click'" in page
    assert page.count("data:image/png;base64,") >= 3


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
