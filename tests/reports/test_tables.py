"""Every table cell equals the mean / std of exactly the runs it summarises, read back from a real MLflow store,
and best / runner-up marks land on the right cells."""

from __future__ import annotations

import numpy as np
import pytest

from suite.models import all_models
from suite.reports.collect import collect
from suite.reports.published import published
from suite.reports.render import latex, markdown
from suite.reports.tables import (
    Cell,
    Context,
    Row,
    add_deltas,
    benchmark_rows,
    build_tables,
    paper_rows,
    prepare,
)

MOUSE, CODING, H3, MT = "dummy_mouse_enhancers_ensembl", "demo_coding_vs_intergenomic_seqs", "gue_h3", "mtcdna_1k"
# (model, task, mode) → test values of the primary metric, one per seed
KNOWN = {
    ("findna", MOUSE, "finetune"): [0.99, 0.97, 0.98],
    ("findna", CODING, "finetune"): [0.50, 0.52],
    ("cnn", MOUSE, "finetune"): [0.96, 0.95],
    ("cnn", CODING, "finetune"): [0.60, 0.61, 0.65],
    ("kmer_lr", MOUSE, "finetune"): [0.40],
    ("findna", MOUSE, "probe"): [0.70, 0.72],
    ("findna", H3, "finetune"): [0.30, 0.34],
}
COST = {"findna": (10.0, 400.0, 2e9), "cnn": (30.0, 1000.0, 5e9)}  # s/epoch, peak MB, FLOPs/sample


@pytest.fixture(scope="module")
def built(module_store):
    s = module_store
    ids = {}
    s.add("findna", MOUSE, 0, 0.10)  # superseded by the newer run of the same (model, task, mode, seed) below
    s.add("cnn", MOUSE, 9, 0.01, status="FAILED")  # failed runs never count
    for (model, task, mode), values in KNOWN.items():
        ids[(model, task, mode)] = [s.add(model, task, seed, v, mode=mode) for seed, v in enumerate(values)]
    for model, (seconds, memory, flops) in COST.items():
        for seed, jitter in enumerate((0.0, 2.0)):
            s.add(model, MT, seed, 0.9, metrics={"cost/train_seconds_per_epoch": seconds + jitter,
                                                 "cost/peak_memory_mb": memory, "cost/train_flops_per_sample": flops})
    collected = collect(s.experiment, s.uri)
    ctx = Context(prepare(collected.runs), None, collected.parents)
    return {t.key: t for t in build_tables(ctx)}, ids, collected


def row(table, label):
    return next(r for r in table.rows if r.label == label)


def test_collect_keeps_finished_trials_newest_per_seed(built):
    _, ids, collected = built
    runs = collected.runs
    assert len(runs) == sum(map(len, KNOWN.values())) + 4
    assert set(runs["run_id"]) == {i for group in ids.values() for i in group} | set(
        runs[runs["task"] == MT]["run_id"])
    assert 0.10 not in set(runs["test/accuracy"]) and 0.01 not in set(runs["test/accuracy"])


@pytest.mark.parametrize("key,mode", [("t2", "finetune"), ("t1", "probe"), ("t3", "finetune")])
def test_every_cell_is_the_mean_and_std_of_exactly_its_runs(built, key, mode):
    tables, ids, _ = built
    checked = 0
    for (model, task, m), values in KNOWN.items():
        if m != mode or task not in dict(tables[key].columns):
            continue
        cell = row(tables[key], model).cells[task]
        assert cell.mean == pytest.approx(np.mean(values) * 100)
        if len(values) > 1:
            assert cell.std == pytest.approx(np.std(values, ddof=1) * 100)
        else:
            assert cell.std is None
        assert cell.n == len(values)
        assert set(cell.run_ids) == set(ids[(model, task, m)])
        checked += 1
    assert checked


def test_missing_cells_say_so(built):
    tables, _, _ = built
    assert row(tables["t2"], "findna").cells["human_ocr_ensembl"].text == "no runs"
    assert row(tables["t3"], "findna").cells["avg"].text == "1/11 tasks"


def test_best_and_runner_up_marks(built):
    tables, _, _ = built
    t2 = tables["t2"]
    marks = {r.label: r.cells[MOUSE].mark for r in t2.rows}
    # ours 98.00 and 95.50 beat every published mouse value (best 85.55)
    assert marks.pop("findna") == "best" and marks.pop("cnn") == "second"
    assert set(marks.values()) == {""}
    coding = {r.label: r.cells[CODING].mark for r in t2.rows}
    assert coding["DNABERT-2 (paper)"] == "best" and coding["FinDNA (paper)"] == "second"  # 94.19 > 93.73
    assert coding["findna"] == "" and coding["cnn"] == ""
    md = markdown(t2)
    line = next(x for x in md.splitlines() if x.startswith("| findna |"))
    assert "**98.00 ± 1.00 (3)**" in line and "51.00 ± 1.41 (2)" in line and "**51.00" not in line
    assert "<u>95.50 ± 0.71 (2)</u>" in next(x for x in md.splitlines() if x.startswith("| cnn |"))
    assert r"\textbf{98.00 $\pm$ 1.00 (3)}" in latex(t2) and r"\underline{95.50 $\pm$ 0.71 (2)}" in latex(t2)


def test_delta_against_the_paper_row_the_card_names(built):
    tables, _, _ = built
    paper = {(r.model, r.task): r.mean for r in published() if r.table == "T2"}
    findna = row(tables["t2"], "findna")
    mouse = np.mean(KNOWN[("findna", MOUSE, "finetune")]) * 100 - paper[("FinDNA", MOUSE)]
    coding = np.mean(KNOWN[("findna", CODING, "finetune")]) * 100 - paper[("FinDNA", CODING)]
    assert findna.cells[MOUSE].delta == pytest.approx(mouse)
    assert findna.cells["delta"].mean == pytest.approx((mouse + coding) / 2)
    assert findna.cells["delta"].text.endswith("vs FinDNA (2)")
    assert row(tables["t2"], "kmer_lr").cells["delta"].text == "–"  # no published k-mer model


def test_genomic_benchmarks_rows_and_the_cnn_delta(built):
    """T2 shows the genomic-benchmarks rows after the paper's; our cnn's Δ is against its PyTorch CNN, while the
    HyenaDNA name (in both sources) stays matched to the paper's row."""
    tables, _, _ = built
    t2 = tables["t2"]
    gb = {(r.model, r.task): r.mean for r in published() if r.table == "GB"}
    cnn_ref = row(t2, "CNN (genomic-benchmarks)")
    assert cnn_ref.cells[MOUSE].mean == 69.0 and cnn_ref.cells[CODING].mean == 87.6
    assert cnn_ref.cells["human_ocr_ensembl"].mean == 68.0 and cnn_ref.source.startswith("genomic-benchmarks")
    assert row(t2, "HyenaDNA (genomic-benchmarks)").cells[MOUSE].mean == 85.1
    assert row(t2, "HyenaDNA (paper)").cells[MOUSE].mean != 85.1
    labels = [r.label for r in t2.rows]
    assert labels.index("CNN (genomic-benchmarks)") > max(labels.index(x) for x in labels if x.endswith("(paper)"))
    cnn = row(t2, "cnn")
    mouse = np.mean(KNOWN[("cnn", MOUSE, "finetune")]) * 100 - gb[("CNN", MOUSE)]
    coding = np.mean(KNOWN[("cnn", CODING, "finetune")]) * 100 - gb[("CNN", CODING)]
    assert cnn.cells[MOUSE].delta == pytest.approx(95.5 - 69.0) == pytest.approx(mouse)
    assert cnn.cells[CODING].delta == pytest.approx(62.0 - 87.6) == pytest.approx(coding)
    assert cnn.cells["delta"].mean == pytest.approx((mouse + coding) / 2)
    assert cnn.cells["delta"].text.endswith("vs CNN (genomic-benchmarks) (2)")
    assert cnn_ref.cells[CODING].rankable and not cnn_ref.cells[CODING].note  # same setting: ranked like the paper
    assert any(n.startswith("(genomic-benchmarks) rows: genomic-benchmarks experiments/README.md (commit 605d853)")
               for n in t2.footnotes)
    assert "| CNN (genomic-benchmarks) | 69.00 | 87.60 | 93.00 |" in markdown(t2)
    assert not any(r.label.endswith("(genomic-benchmarks)") for r in tables["t3"].rows)  # GUE: none reported


def test_genomic_benchmarks_rows_in_the_probe_table_are_flagged_not_ranked(built):
    tables, _, _ = built
    t1 = tables["t1"]
    for label in ("CNN (genomic-benchmarks)", "CNN-TF (genomic-benchmarks)", "HyenaDNA (genomic-benchmarks)"):
        cell = row(t1, label).cells[MOUSE]
        assert cell.note == "§" and not cell.rankable and not cell.mark
    assert any(n.startswith("§ another setting") for n in t1.footnotes)
    assert row(t1, "findna").cells["delta"].text.endswith("vs FinDNA (1)")  # the paper's probe row, unaffected


def test_hyenadna_cards_compare_with_the_papers_row():
    rows = paper_rows("T2", [MOUSE]) + benchmark_rows([MOUSE])
    ours = [Row("hyenadna", "ours", {MOUSE: Cell(80.0)}, "hyenadna_tiny_1k")]
    assert "HyenaDNA" in all_models()["hyenadna_tiny_1k"].compare_with
    for order in (rows, rows[::-1]):  # whatever order the published rows come in
        add_deltas(ours, order, [MOUSE])
        paper = next(r for r in rows if r.label == "HyenaDNA (paper)").cells[MOUSE].mean
        assert ours[0].cells[MOUSE].delta == pytest.approx(80.0 - paper)
        assert ours[0].cells["delta"].text.endswith("vs HyenaDNA (1)")


def test_benchmark_rows_cover_the_tasks_asked_for():
    rows = benchmark_rows([MOUSE, "human_ocr_ensembl", H3])
    assert [r.label for r in rows] == ["CNN (genomic-benchmarks)", "CNN-TF (genomic-benchmarks)",
                                       "HyenaDNA (genomic-benchmarks)"]
    assert [r.model for r in rows] == ["CNN", "CNN-TF", "HyenaDNA"]
    assert rows[0].cells[H3].text == "not reported" and rows[0].cells["human_ocr_ensembl"].mean == 68.0
    assert all(c.rankable for r in rows for c in r.cells.values())  # no mode given: ranked like the paper's rows
    assert benchmark_rows([H3, MT]) == []


def test_paper_rows_and_quote_mismatch_flags(built):
    tables, _, _ = built
    t3 = tables["t3"]
    assert row(t3, "DNABERT-6mer (paper)").cells["gue_h3"].note == "*"
    assert row(t3, "FinDNA (paper)").cells["gue_covid"].note == "‡"
    assert not row(t3, "FinDNA (paper)").cells["gue_covid"].mark  # another metric: never ranked
    assert any("reports 73.10" in n for n in t3.footnotes)
    assert row(t3, "FinDNA (paper)").cells["avg"].mean == 66.49


def test_cost_table_divides_means_by_the_findna_runs(built):
    tables, _, _ = built
    cnn = row(tables["t6"], "cnn")
    assert cnn.cells["time"].mean == pytest.approx(31.0 / 11.0)
    assert cnn.cells["memory"].mean == pytest.approx(2.5) and cnn.cells["flops"].mean == pytest.approx(2.5)
    assert cnn.cells["time_abs"].mean == pytest.approx(31.0) and cnn.cells["time_abs"].std == pytest.approx(np.sqrt(2))
    assert row(tables["t6"], "findna").cells["time"].mark == "best"  # lower is better here
    assert row(tables["t6"], "NT-500M-human (paper)").cells["memory"].mean == 3.60


def test_leaderboard_ranks_and_wins(built):
    tables, _, _ = built
    board = tables["leaderboard"]
    by = {r.label: r for r in board.rows}
    # mouse: findna 98 > cnn 95.5 > kmer 40; coding: cnn 62 > findna 51; h3 findna alone; mtcdna: tie at 90
    assert by["findna"].cells["rank"].mean == pytest.approx((1 + 2 + 1 + 1.5) / 4)
    assert by["cnn"].cells["rank"].mean == pytest.approx((2 + 1 + 1.5) / 3)
    assert by["findna"].cells["wins"].mean == 3 and by["cnn"].cells["wins"].mean == 2
    assert by["findna · probe"].cells[MOUSE].mean == pytest.approx(71.0)
    assert by["findna · probe"].cells["rank"].mean == 3 and by["kmer_lr"].cells["rank"].mean == 4
    assert [r.label for r in board.rows] == ["findna", "cnn", "findna · probe", "kmer_lr"]  # by mean rank
    assert board.sortable
