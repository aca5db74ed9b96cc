"""A study recipe end to end (issue 21): `suite reproduce pretraining_in_domain` pretrains CM-MNM, FinDNA and FinDNA-T
once each with matched settings on the tasks' train splits, probes and fine-tunes every entry (random-init entries
too) in one grid, and writes a table per mode and the study page: pretraining health and cost, mean ± std,
paired Wilcoxon, Friedman + CD. Tiny networks and a few steps; the numbers are checked against the MLflow runs.

Data: GUE tf_mouse_2 (complete, shared data) and a small draw of human_nontata_promoters, as test_reproduce.py."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from suite.errors import SuiteError
from suite.recipes.plan import ReproduceRequest, plan_study
from suite.recipes.run import reproduce
from suite.runs.request import RunRequest
from tests.recipes.test_reproduce import NONTATA, TASKS
from tests.recipes.test_reproduce import world as world  # noqa: F401 (the module's data folder fixture)

RECIPE = "pretraining_in_domain"
PRETRAINED = ("CM-MNM", "FinDNA", "FinDNA-T")
RANDOM = ("ChordMixer (random init)", "FinDNA-T backbone (random init)")


def request(world, **changes) -> ReproduceRequest:  # noqa: F811
    run = RunRequest(models=(), tasks="", sets={"epochs": 2, "max_train_rows": 300, "batch_size": 64, "patience": 2},
                     data_dir=str(world["root"] / "data"), tracking_uri=world["uri"], storage=str(world["root"] / "ray"))
    base = {"recipe": RECIPE, "profile": "quick", "seeds": (0, 1), "tasks": TASKS, "run": run, "pretrain_steps": 30,
            "pretrain_sets": {"size": "tiny", "n_windows": 256, "batch_size": 8, "save_every": 100,
                              "tasks": "tf_mouse_2", "backbone_overrides": {"max_len": 251}},
            "checkpoints": str(world["root"] / "checkpoints"), "use_ray": False,
            "out": str(world["root"] / "tables")}
    return ReproduceRequest(**{**base, **changes})


@pytest.fixture(scope="module")
def study(world):  # noqa: F811
    return reproduce(request(world), quiet=True)


def test_study_card_plans_matched_pretraining_once_for_both_modes():
    plans = plan_study(ReproduceRequest(RECIPE), runs=False)
    assert [p.mode for p in plans] == ["probe", "finetune"]
    assert [p.jobs for p in plans][0] == [p.jobs for p in plans][1]
    jobs = plans[0].jobs
    assert sorted(label for job in jobs for label in job.entries) == sorted(PRETRAINED)
    assert {job.folder.parent.name for job in jobs} == {RECIPE}  # a study's checkpoints stay in its own folder
    configs = [job.config for job in jobs]
    # matched budgets: everything but the model (and its method) is the same
    assert len({(c.total_steps, c.batch_size, c.window_len, c.n_windows, c.lr, c.size, c.tasks) for c in configs}) == 1
    assert configs[0].tasks.split(",")[0] == "tf_human_0" and len(configs[0].tasks.split(",")) == 11
    for plan in plans:
        random = [e for e in plan.entries if e.entry.label in RANDOM]
        assert len(random) == 2 and all(e.job is None and e.request.sets["weights"] == "none" for e in random)
    # the card's run settings: a 300-step fine-tuning budget; a probe is a linear head fitted to convergence
    probe, finetune = plans
    assert all(e.request.sets["solver"] == "lbfgs" for e in probe.entries)
    assert all(e.request.sets["max_steps"] == 300 and "solver" not in e.request.sets for e in finetune.entries)


def test_study_pretrains_each_method_once_on_train_splits_only(world, study):  # noqa: F811
    assert sorted(p.name for p in study.pretrained) == sorted(job.folder.name for job in study.plan.jobs)
    for job in study.plan.jobs:
        meta = json.loads((job.folder / "config.json").read_text())
        assert meta["pretrain_config"]["tasks"] == "tf_mouse_2" and meta["step"] == 30
        assert [(s["task"], s["split"]) for s in meta["corpus"]] == [("tf_mouse_2", "train")]


def test_study_runs_every_entry_in_both_modes_and_writes_its_tables(world, study):  # noqa: F811
    assert study.summary.failed == 0 and study.summary.finished == 5 * 2 * 2 * 2
    client = MlflowClient(tracking_uri=world["uri"])
    experiment = client.get_experiment_by_name("dna-suite").experiment_id
    runs = client.search_runs([experiment], f"tags.`suite.kind` = 'trial' AND tags.`suite.recipe` = '{RECIPE}'",
                              max_results=1000)
    cells = {(r.data.tags["suite.entry"], r.data.tags["suite.mode"], r.data.tags["suite.task"], r.data.tags["suite.seed"])
             for r in runs}
    assert len(cells) == 5 * 2 * 2 * 2 == len(runs)
    out = world["root"] / "tables" / RECIPE
    for mode in ("probe", "finetune"):
        assert (out / mode / "table.md").is_file()
    page = (out / "study.md").read_text()
    assert "Command: `suite reproduce pretraining_in_domain --profile quick --seeds 0,1" in page
    assert (out / "pretraining_curves.png").stat().st_size > 0 and (out / "cd_probe.png").stat().st_size > 0
    # a cell of the page is the mean ± std of exactly its runs
    values = [r.data.metrics["test/mcc"] * 100 for r in runs
              if (r.data.tags["suite.entry"], r.data.tags["suite.mode"], r.data.tags["suite.task"])
              == ("FinDNA", "probe", "tf_mouse_2")]
    section = page.split("## probe")[1].split("## finetune")[0]
    row = next(line for line in section.splitlines() if line.startswith("| tf_mouse_2 |"))
    labels = next(line for line in section.splitlines() if line.startswith("| task |")).split(" | ")[1:]
    cell = row.split(" | ")[1:][[label.strip(" |") for label in labels].index("FinDNA")]
    assert cell.strip(" |") == f"{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}"
    # every comparison of the card is tested per task and across tasks, and the Friedman test is reported
    assert section.count("| FinDNA | CM-MNM | ") == 2 and "| **FinDNA** | **CM-MNM** | **across 2 tasks**" in section
    assert re.search(r"χ² = [0-9.]+, p = [0-9.e-]+; Nemenyi CD", section)


def test_study_page_reports_pretraining_health_and_cost(world, study):  # noqa: F811
    page = (world["root"] / "tables" / RECIPE / "study.md").read_text()
    rows = [line for line in page.split("## Pretraining")[1].split("## probe")[0].splitlines()
            if line.startswith("| ") and "quick-steps-30" in line]
    assert len(rows) == 3
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[2] == "30" and cells[3] == "8 × 64" and cells[4] == "15,360"  # 30 × 8 × 64 bases
        assert float(cells[5].replace(",", "")) > 0 and float(cells[6]) > 0  # time, FLOPs
        assert re.fullmatch(r"0\.\d{4} \(0\.\d{4}\)", cells[7])  # accuracy (majority base)
    assert next(r for r in rows if "cm-mnm" in r).split("|")[-3].strip() == "no teacher"


def test_study_page_probes_every_backbone_on_the_planted_motif(world, study):  # noqa: F811
    from suite.recipes.study import motif_probe

    page = (world["root"] / "tables" / RECIPE / "study.md").read_text()
    section = page.split("## Planted motif")[1].split("## probe")[0]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines() if line.startswith("| ")]
    accuracy = {row[0]: row[1] for row in cells if len(row) == 2 and row[0] != "backbone" and "---" not in row[0]}
    assert set(accuracy) == set(PRETRAINED + RANDOM)
    assert study.plan.mode == "probe"
    entry = next(e for e in study.plan.entries if e.entry.label == "FinDNA")
    assert entry.plan.trials[0].weights == str(entry.job.folder)  # the pretrained backbone, not a random one
    again = np.array([motif_probe(entry.plan.trials[0], seed) for seed in study.plan.seeds])
    assert accuracy["FinDNA"] == f"{again.mean():.3f} ± {again.std(ddof=1):.3f}"
    assert all(0.0 <= float(a.split(" ± ")[0]) <= 1.0 for a in accuracy.values())
    verdicts = [row for row in cells if len(row) == 4 and row[0] != "entry" and "---" not in row[0]]
    assert [(row[0], row[1]) for row in verdicts] == [("FinDNA", "ChordMixer (random init)"),
                                                      ("CM-MNM", "ChordMixer (random init)"), ("FinDNA", "CM-MNM"),
                                                      ("FinDNA-T", "FinDNA-T backbone (random init)")]
    assert all(row[3] in ("yes", "**no**") for row in verdicts)


def test_study_again_reuses_pretraining_and_every_run(world, study):  # noqa: F811
    again = reproduce(request(world), quiet=True)
    assert again.pretrained == [] and again.summary.finished == 0
    assert again.summary.skipped == again.summary.planned == 5 * 2 * 2 * 2


def test_study_corpus_is_found_in_the_data_folders_or_named_in_one_line(tmp_path, monkeypatch):
    from suite.recipes import get_recipe
    from suite.recipes.plan import corpus_fasta

    recipe = get_recipe("pretraining_arabidopsis")
    monkeypatch.delenv("SUITE_DATA_DIR", raising=False)
    given = ReproduceRequest(recipe.name, run=RunRequest(models=(), tasks="", data_dir=str(tmp_path)))
    with pytest.raises(SuiteError, match="its corpus pretrain/arabidopsis_thaliana_tair10_chr1.fna.gz is in no data "
                                         "folder"):
        corpus_fasta(recipe, given)
    genome = tmp_path / recipe.corpus["fasta"]
    genome.parent.mkdir()
    genome.write_bytes(b"")
    assert corpus_fasta(recipe, given) == str(genome)
    assert corpus_fasta(recipe, ReproduceRequest(recipe.name, fasta="other.fa")) == "other.fa"  # --fasta wins
    assert corpus_fasta(get_recipe(RECIPE), ReproduceRequest(RECIPE)) is None  # the tasks are its corpus


def test_training_time_of_a_run_resumed_in_pieces_counts_only_training():
    from suite.recipes.study import active_seconds

    # steps 1-10 at 1 s each, killed; resumed an hour later from the checkpoint after step 5: steps 6-10 again
    first = [1000 * s for s in range(1, 11)]
    resumed = [3_600_000 + 1000 * s for s in range(6, 11)]
    # in step order (6, 6, 7, 7, ...) the times go back and forth; in time order it is 14 s of training + 1 wait
    assert active_seconds(first + resumed) == 15.0
    assert active_seconds(first) == 10.0 and np.isnan(active_seconds([5]))
