import pytest

from suite.cards import build, iter_cards, resolve
from suite.errors import CardError, SuiteError, UnknownName
from suite.tasks import all_tasks, get_task, groups, select_tasks
from suite.tasks.spec import TaskSpec

GB_OFFICIAL = {  # published-baselines.md (train/test); mouse train is 968, not the paper's 1210
    "dummy_mouse_enhancers_ensembl": (968, 242),
    "demo_coding_vs_intergenomic_seqs": (75000, 25000),
    "demo_human_or_worm": (75000, 25000),
    "human_enhancers_cohn": (20843, 6948),
    "human_enhancers_ensembl": (123872, 30970),
    "human_ensembl_regulatory": (231348, 57713),
    "human_nontata_promoters": (27097, 9034),
    "human_ocr_ensembl": (139804, 34952),
}


def test_the_papers_twenty_tasks_are_registered():
    assert len(select_tasks("genomic_benchmarks")) == 8
    assert len(select_tasks("gue_emp")) == 10
    assert "gue_covid" in [t.name for t in select_tasks("gue")] and len(select_tasks("gue")) == 11
    assert [t.name for t in select_tasks("mtcdna")] == ["mtcdna_1k", "mtcdna_4k", "mtcdna_8k"]
    # 8 GB + 10 EMP + covid + MTcDNA = the paper's 20 tasks; MTcDNA is reported at 3 lengths = 3 cards
    assert len(select_tasks("paper")) == 22
    assert len(select_tasks("gue_full")) == 28  # all of GUE: the paper's 11 + 17 more
    assert len(select_tasks("all")) == 8 + 28 + 3


@pytest.mark.parametrize("name", list(GB_OFFICIAL))
def test_genomic_benchmarks_official_sizes(name):
    task = get_task(name)
    assert (task.sizes.train, task.sizes.test) == GB_OFFICIAL[name]
    assert task.metric == "accuracy" and task.sizes.dev is None


@pytest.mark.parametrize("name", list(all_tasks()))
def test_every_card_is_complete(name):
    task = all_tasks()[name]
    assert task.classes and task.metric in ("accuracy", "mcc", "macro_f1")
    assert task.max_bp >= (task.median_len or 0)
    assert task.get_data and task.citation and task.description


def test_metrics_and_classes_per_benchmark():
    assert {t.metric for t in select_tasks("gue_emp")} == {"mcc"}
    assert get_task("gue_covid").metric == "macro_f1" and get_task("gue_covid").n_classes == 9
    assert get_task("human_ensembl_regulatory").n_classes == 3


def test_names_aliases_and_groups_resolve():
    assert get_task("H3K4me3").name == "gue_h3k4me3"
    assert get_task("EMP/H3").name == "gue_h3"
    assert get_task("mtcdna-1k").name == "mtcdna_1k"
    chosen = select_tasks("gue_emp, human_nontata_promoters, gue_h3")
    assert len(chosen) == 11 and chosen[-1].name == "human_nontata_promoters"  # de-duplicated, in order
    assert set(groups()) >= {"genomic_benchmarks", "gue", "gue_emp", "mtcdna", "paper", "all"}


def test_unknown_task_suggests_the_closest_name():
    with pytest.raises(UnknownName, match=r"unknown task 'human_nontata_promoter'; did you mean 'human_nontata_promoters'"):
        select_tasks("human_nontata_promoter")


def _a_card() -> dict:
    return resolve(iter_cards("tasks")[0])


def test_unknown_card_key_names_file_key_and_closest():
    with pytest.raises(CardError, match=r"x.yaml: unknown key 'metrc'; did you mean 'metric'\?"):
        build(TaskSpec, {**_a_card(), "metrc": "mcc"}, "tasks/x.yaml")


def test_missing_key_and_wrong_type_are_errors():
    base = _a_card()
    without = {k: v for k, v in base.items() if k != "metric"}
    with pytest.raises(CardError, match="missing key"):
        build(TaskSpec, without, "card")
    with pytest.raises(CardError, match="max_bp must be int"):
        build(TaskSpec, {**base, "max_bp": "long"}, "card")


def test_include_merges_one_level_and_the_card_wins(tmp_path):
    (tmp_path / "_base.yaml").write_text("a: 1\nb: {x: 1, y: 2}\n")
    (tmp_path / "card.yaml").write_text("include: _base.yaml\nb: {y: 3}\nc: 4\n")
    assert resolve(tmp_path / "card.yaml") == {"a": 1, "b": {"x": 1, "y": 3}, "c": 4}
    (tmp_path / "loop.yaml").write_text("include: loop.yaml\n")
    with pytest.raises(CardError, match="includes itself"):
        resolve(tmp_path / "loop.yaml")


@pytest.mark.parametrize("max_bp", [-1, 0])
def test_a_task_card_without_a_positive_max_bp_is_refused_when_read(max_bp):
    from suite.tasks import _check  # the check every task card passes when the registry reads it

    spec = build(TaskSpec, {**_a_card(), "max_bp": max_bp}, "tasks/x.yaml")
    with pytest.raises(CardError, match=rf"tasks/x.yaml: max_bp {max_bp} must be a positive length"):
        _check(spec, "tasks/x.yaml")


def test_a_group_named_where_one_task_is_needed_says_it_is_a_group():
    with pytest.raises(SuiteError, match=r"'gue' is a group of \d+ tasks, not one task; name one of them") as refused:
        get_task("gue")
    assert "did you mean" not in str(refused.value)
