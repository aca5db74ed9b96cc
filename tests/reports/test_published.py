from suite.reports.published import published, quote_mismatches
from suite.tasks import all_tasks, groups


def test_every_published_row_names_a_known_task_or_group():
    names = set(all_tasks()) | set(groups()) | {""}
    rows = published()
    assert len(rows) == 238 + 280 + 3 * 8  # FinDNA paper (with Table 7), DNABERT-2 GUE table, genomic-benchmarks
    assert {r.task for r in rows} <= names


def test_the_full_gue_table_is_there():
    gue = [r for r in published() if r.source.startswith("DNABERT-2 paper")]
    assert len(gue) == 28 * 10
    assert {r.task for r in gue} == {t.name for t in all_tasks().values() if "gue_full" in t.groups}


def test_the_three_known_quote_mismatches_are_flagged():
    found = {(m.model, m.task, m.quoted, m.original) for m in quote_mismatches()}
    # published-baselines.md: FinDNA's Table 3 quotes the 3-mer values for DNABERT (6-mer) on H3 and covid,
    # and the 6-mer value for NT-500M-human on covid
    assert found == {
        ("DNABERT-6mer", "gue_h3", 74.15, 73.10),
        ("DNABERT-6mer", "gue_covid", 62.23, 55.50),
        ("NT-500M-human", "gue_covid", 55.50, 50.82),
    }
