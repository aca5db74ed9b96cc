"""Recipe cards, their planning, the view-pair presets and the student/teacher option (no training here)."""

from __future__ import annotations

import json

import pytest
import yaml

from suite.cards import build, resolve
from suite.errors import CardError, SuiteError
from suite.pretrain.augment import PRESETS, pair_from_lists, parse_pair, parse_view
from suite.pretrain.loop import profile_config, run_name, with_views
from suite.recipes import _check, all_recipes, get_recipe
from suite.recipes.plan import ReproduceRequest, grid_rows, plan_recipe
from suite.recipes.spec import RecipeSpec
from suite.reports.published import published
from suite.runs.plan import expand
from suite.runs.request import RunRequest
from tests.test_cli import suite


def test_one_card_per_paper_table_with_published_rows_for_every_entry():
    paper = {name: recipe for name, recipe in all_recipes().items() if recipe.kind != "study"}
    assert sorted(paper) == [f"t{i}" for i in range(1, 10)]
    assert sorted(set(all_recipes()) - set(paper)) == ["pretraining_arabidopsis", "pretraining_in_domain"]
    tables = {r.table for r in published()}
    for recipe in paper.values():
        assert recipe.published in tables, recipe.name
        names = {r.model for r in published() if r.table == recipe.published}
        for entry in recipe.entries:
            assert entry.published in names, (recipe.name, entry.label)
    assert get_recipe("T4") is get_recipe("t4") is get_recipe("4")
    with pytest.raises(SuiteError, match="unknown recipe 'T10'"):
        get_recipe("T10")


def test_a_bad_card_names_the_file_and_the_fix(tmp_path):
    path = tmp_path / "t99.yaml"
    card = {"name": "t99", "title": "x", "kind": "scores", "tasks": "gue", "entries": [{"label": "A", "model": "nope"}]}
    path.write_text(yaml.safe_dump(card))
    with pytest.raises(CardError, match=r"t99.yaml: entry 'A': unknown model 'nope'"):
        _check(build(RecipeSpec, resolve(path), str(path)), path)
    card["entries"] = [{"label": "A", "model": "findna", "netwrok": "student"}]
    path.write_text(yaml.safe_dump(card))
    with pytest.raises(CardError, match="unknown key 'netwrok'; did you mean 'network'"):
        build(RecipeSpec, resolve(path), str(path))


@pytest.mark.parametrize(("change", "message"), [
    ({"modes": ["probe", "pretrain"]}, r"mode 'pretrain'; use one of"),
    ({"comparisons": [["A", "C"]]}, r"comparison \['A', 'C'\] names no entry 'C'; use labels of the entries: A, B"),
    ({"comparisons": [["A"]]}, r"comparison \['A'\] is not a pair"),
    ({"pretraining": {"stpes": 10}}, r"pretraining setting 'stpes'; use PretrainConfig fields"),
    ({"corpus": {"fasta": "g.fa", "task": "gue"}}, r"corpus key 'task'; use fasta and/or tasks"),
    ({"mode_sets": {"finetnue": {"epochs": 1}}}, r"mode_sets: 'finetnue' is not a mode of the recipe; use mode_sets"),
    ({"mode_sets": {"probe": 3}}, r"mode_sets: probe is not a mapping of run settings"),
])
def test_a_bad_study_card_names_the_problem_and_the_fix(tmp_path, change, message):
    path = tmp_path / "study.yaml"
    card = {"name": "study", "title": "x", "kind": "study", "tasks": "gue", "modes": ["probe", "finetune"],
            "entries": [{"label": "A", "model": "findna"}, {"label": "B", "model": "findna", "sets": {"weights": "none"}}],
            "comparisons": [["A", "B"]], "pretraining": {"steps": 10}, "corpus": {"fasta": "g.fa"},
            "mode_sets": {"probe": {"solver": "lbfgs"}}}
    path.write_text(yaml.safe_dump(card))
    _check(build(RecipeSpec, resolve(path), str(path)), path)  # as written, the card is valid
    path.write_text(yaml.safe_dump({**card, **change}))
    with pytest.raises(CardError, match=message):
        _check(build(RecipeSpec, resolve(path), str(path)), path)


def test_t2_paper_grid_and_t4_jobs():
    t2 = plan_recipe(ReproduceRequest("T2", profile="paper"))
    rows = grid_rows(t2)
    assert len(rows) == t2.grid_size == 200
    assert {(r["model"], r["mode"]) for r in rows} >= {("findna", "finetune"), ("dnabert6", "finetune")}
    t4 = plan_recipe(ReproduceRequest("T4"))
    assert t4.grid_size == 4 * 8 * 1 and t4.mode == "probe"
    assert [j.config.method.views for j in t4.jobs] == list(PRESETS)
    assert len({j.folder for j in t4.jobs}) == 4  # each pair its own pretraining folder
    t9 = plan_recipe(ReproduceRequest("T9", seeds=(0, 1)))
    assert len(t9.jobs) == 1 and t9.jobs[0].entries == ["FinDNA-student", "FinDNA-teacher"]
    assert t9.grid_size == 2 * 5 * 2


def test_cli_list_and_dry_run():
    out = suite("reproduce", "--list")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["table", "pretraining_arabidopsis", "pretraining_in_domain",
                                                       *(f"T{i}" for i in range(1, 10))]
    assert "5 x 11 x 3 x 2 modes; = 330 trials" in lines[1] and "findna-t-quick-steps-2000-" in lines[1]
    assert "= 200 trials" in suite("reproduce", "--list", "--profile", "paper").stdout
    dry = suite("reproduce", "T2", "--profile", "paper", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "5 entries x 8 tasks x 5 seeds = 200 trials" in dry.stderr and "200 trials:" in dry.stderr  # notes
    grid = dry.stdout.splitlines()
    assert len(grid) == 201 and grid[0].split("\t")[:3] == ["entry", "model", "task"]
    assert all(len(row.split("\t")) == 7 for row in grid)  # piped: one whole row a line, a reason in each status
    drawn = suite("reproduce", "--list", "--format", "table")
    assert "│ T1" in drawn.stdout
    bad = suite("reproduce", "T11")
    assert bad.returncode == 2 and bad.stderr.startswith("error: unknown recipe 'T11'")


def test_view_pairs_by_letters_presets_or_names():
    assert [parse_pair(p) for p in PRESETS] == [("M", ""), ("M", "DIT"), ("DTM", "DIT"), ("DTM", "NR")]
    assert parse_view(["masking", "deletion"]) == parse_view("masking,deletion") == "DM"
    assert pair_from_lists(["masking", "translocation", "deletion"], ["noise", "reverse_complement"]) == "DTM+NR"
    assert pair_from_lists(["masking"], []) == "M+NoAug"
    with pytest.raises(SuiteError, match="unknown augmentation"):
        parse_view(["masking", "shuffle"])
    config = with_views(profile_config("findna"), "M+DIT")
    assert config.method.view_pair() == ("M", "DIT") and run_name(config) == "findna-quick-views-M_DIT"
    assert run_name(profile_config("findna", "paper")) == "findna-paper"  # what the card points at
    with pytest.raises(SuiteError):
        with_views(profile_config("findna"), "NR+M")  # the student must be masked for MNM


def test_network_option_picks_the_exported_file(tmp_path, data_env):
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "teacher.safetensors").write_bytes(b"t")
    (folder / "student.safetensors").write_bytes(b"s")
    (folder / "config.json").write_text(json.dumps({"networks": {"teacher": "teacher.safetensors",
                                                                 "student": "student.safetensors"}}))

    def plan(**sets):
        return expand(RunRequest(models=("findna",), tasks="tf_mouse_2", seeds=(0,), mode="probe",
                                 sets={"weights": str(folder), **sets}))

    teacher, student, default = plan(network="teacher"), plan(network="student"), plan()
    assert student.trials[0].model["weights"]["file"] == "student.safetensors"
    assert teacher.trials[0].model["weights"]["file"] == default.trials[0].model["weights"]["file"] == "teacher.safetensors"
    assert student.trials[0].key != teacher.trials[0].key
    assert teacher.trials[0].key == default.trials[0].key  # the card's file is the teacher: the same trial, run once
    assert student.trials[0].tags["network"] == "student" and "network" not in default.trials[0].tags
    (_, reason), = plan(network="ema").refused
    assert "no 'ema' network" in reason and "teacher, student" in reason
    random_init = expand(RunRequest(models=("findna",), tasks="tf_mouse_2", seeds=(0,), sets={"network": "student"}))
    (_, reason), = random_init.refused
    assert "network=student with random initialisation" in reason and not random_init.trials
