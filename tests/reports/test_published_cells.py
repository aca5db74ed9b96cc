"""reports/published/findna_paper.csv against cells typed by hand from the paper's Tables 1, 2, 3, 5 and 6
(paper.txt), and the model cards' compare_with names against the published model names."""

from __future__ import annotations

import pytest

from suite.models import all_models
from suite.reports.published import published

# (table, model, task, metric, mean, std) as printed in the paper
PAPER = [
    ("T1", "HyenaDNA", "human_ensembl_regulatory", "accuracy", 57.42, 0.01),
    ("T1", "FinDNA-T", "human_ensembl_regulatory", "accuracy", 80.22, 0.05),
    ("T1", "FinDNA", "demo_human_or_worm", "accuracy", 91.30, 0.15),
    ("T1", "FinDNA", "dummy_mouse_enhancers_ensembl", "accuracy", 78.43, 0.22),
    ("T2", "DNABERT", "human_enhancers_cohn", "accuracy", 65.96, 1.15),
    ("T2", "DNABERT-2", "demo_coding_vs_intergenomic_seqs", "accuracy", 94.19, 0.03),
    ("T2", "CM-MNM", "human_nontata_promoters", "accuracy", 97.13, 0.17),
    ("T2", "FinDNA", "human_ocr_ensembl", "accuracy", 81.19, 0.12),
    ("T2", "HyenaDNA", "human_enhancers_ensembl", "accuracy", 89.41, 0.09),
    ("T3", "DNABERT-6mer", "gue_h3k14ac", "mcc", 40.06, None),
    ("T3", "NT-2500M-multi", "gue_h3k4me1", "mcc", 55.30, None),
    ("T3", "NT-500M-human", "gue_covid", "macro_f1", 55.50, None),
    ("T3", "DNABERT-2+", "gue_h3k79me3", "mcc", 65.46, None),
    ("T3", "FinDNA", "gue_h4ac", "mcc", 64.73, 0.26),
    ("T3", "FinDNA", "gue_h3k4me3", "mcc", 59.80, 0.15),
    ("T3", "DNABERT-2+", "gue", "mcc_f1_average", 59.71, None),
    ("T3", "FinDNA", "", "params_millions", 25.4, None),
    ("T5", "NT-500M-human", "mtcdna_4k", "accuracy", 92.79, None),
    ("T5", "DNABERT-2", "mtcdna_8k", "accuracy", 97.52, None),
    ("T5", "FinDNA", "mtcdna_1k", "accuracy", 95.26, None),
    ("T6", "NT-500M-human", "mtcdna_1k", "memory_factor", 3.60, None),
    ("T6", "DNABERT-2", "mtcdna_1k", "flops_factor", 2.75, None),
    ("T6", "DNABERT-2", "mtcdna_1k", "time_factor", 1.71, None),
]


@pytest.mark.parametrize("table,model,task,metric,mean,std", PAPER, ids=[f"{p[0]}-{p[1]}-{p[2] or p[3]}" for p in PAPER])
def test_published_cell_matches_the_paper(table, model, task, metric, mean, std):
    (row,) = [r for r in published() if (r.table, r.model, r.task, r.metric) == (table, model, task, metric)]
    assert row.mean == mean
    assert row.std == std


def test_findna_covid_is_micro_f1_as_its_code_computes():
    (row,) = [r for r in published() if (r.table, r.model, r.task) == ("T3", "FinDNA", "gue_covid")]
    assert (row.metric, row.mean, row.std) == ("micro_f1", 74.09, 0.09)


def test_every_compare_with_names_a_published_model():
    names = {r.model for r in published()}
    for spec in all_models().values():
        assert set(spec.compare_with) <= names, f"{spec.name}: {spec.compare_with}"
    assert all_models()["findna"].compare_with == ("FinDNA",)
    assert all_models()["findna_t"].compare_with == ("FinDNA-T",)
    assert all_models()["cm_mnm"].compare_with == ("CM-MNM",)
