"""What a run cannot find on this machine is said once, in a few lines, with the command that fetches it."""

from suite.runs.missing import summary
from suite.runs.plan import Missing, Plan, expand
from suite.runs.request import RunRequest

GB = ["demo_coding_vs_intergenomic_seqs", "demo_human_or_worm", "dummy_mouse_enhancers_ensembl", "human_enhancers_cohn",
      "human_enhancers_ensembl", "human_ensembl_regulatory", "human_nontata_promoters", "human_ocr_ensembl"]


def plan(missing: list[Missing], trials: int = 0) -> Plan:
    return Plan(trials=[object()] * trials, refused=[(m.name, m.reason) for m in missing], missing=missing)


def test_nothing_missing_says_nothing():
    assert summary(plan([], trials=3), RunRequest(models=("cnn",), tasks="gue_h3")) == []


def test_every_task_missing_is_three_lines_naming_the_group_to_fetch(monkeypatch, tmp_path):
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path))
    lines = summary(plan([Missing("data", t, "long refusal") for t in GB]),
                    RunRequest(models=("cnn",), tasks="genomic_benchmarks"))
    assert lines[0] == "not on this machine: 8 tasks' data; nothing can run"
    assert lines[1].startswith(f"  data: all 8 tasks of --tasks genomic_benchmarks; looked in {tmp_path}, ")
    assert lines[2] == "  get them (online): suite data fetch genomic_benchmarks"
    assert len(lines) == 3


def test_some_tasks_missing_are_named_and_fetched_by_name(monkeypatch):
    monkeypatch.delenv("SUITE_DATA_DIR", raising=False)
    lines = summary(plan([Missing("data", "human_ocr_ensembl", "x")], trials=4),
                    RunRequest(models=("cnn",), tasks="human_ocr_ensembl,gue_h3", data_dir="/d"))
    assert lines[0] == "not on this machine: 1 task's data; 4 trials run without them"
    assert lines[1].startswith("  data: human_ocr_ensembl; looked in /d, ")
    assert lines[-1] == "  get them (online): suite data fetch human_ocr_ensembl --data-dir /d"


def test_missing_weights_say_fetch_for_published_models_and_pretrain_for_ours():
    missing = [Missing("weights", "hyenadna_tiny_1k", "x"), Missing("weights", "dnabert6", "x"),
               Missing("weights", "findna", "x")]
    lines = summary(plan(missing, trials=0), RunRequest(models=("findna",), tasks="gue_h3", profile="paper"))
    assert lines[0] == "not on this machine: 3 models' weights; nothing can run"
    assert lines[1].startswith("  weights: hyenadna_tiny_1k, dnabert6 (published;")
    assert "runs/checkpoints/findna-paper/teacher.safetensors" in lines[2]
    assert "`suite pretrain --model findna --profile paper --fasta hg38.fa`" in lines[2]
    assert lines[3] == "  get them (online): suite models fetch hyenadna_tiny_1k,dnabert6"


def test_the_plan_keeps_missing_data_and_the_weights_it_never_reached(monkeypatch, tmp_path):
    monkeypatch.setenv("SUITE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    monkeypatch.delenv("SUITE_MODELS_DIR", raising=False)
    monkeypatch.chdir(tmp_path)  # runs/checkpoints/findna-paper is not here
    result = expand(RunRequest(models=("findna", "hyenadna_tiny_1k", "cnn"), tasks="human_ocr_ensembl",
                               seeds=(0,), profile="paper"))
    assert result.trials == []
    assert [(m.kind, m.name) for m in result.missing] == [("data", "human_ocr_ensembl"), ("weights", "findna"),
                                                           ("weights", "hyenadna_tiny_1k")]
    assert "human_ocr_ensembl" in result.missing[0].reason and "suite models fetch" in result.missing[2].reason
