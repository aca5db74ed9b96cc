"""Sweeps on real data: cross-validated on train only, failures recorded, resumable, applied to `suite run`."""

import os
import re
import shutil

import numpy as np
import optuna
import pytest
import yaml

from suite.cards import iter_cards
from suite.errors import CardError
from suite.models import get_model_spec
from suite.runs.plan import expand
from suite.runs.settings import resolve_settings
from suite.runs.request import RunRequest
from suite.runs.trial import training_rows
from suite.sweeps.space import load_space, suggest
from suite.sweeps.study import SweepRequest, fold_trials, run_sweep
from suite.tasks import get_task

FAST = {"epochs": 1, "max_train_rows": 400}


@pytest.mark.parametrize("path", iter_cards("sweeps"), ids=lambda p: p.stem)
def test_every_search_space_card_loads_and_every_key_is_a_run_setting(path):
    spec = load_space(path.stem, path)
    task = get_task("tf_mouse_2")
    for params in [spec.space, *spec.tasks.values()]:
        for key, param in params.items():
            value = (param.get("choice") or param.get("int") or param.get("float"))[0]
            resolve_settings(get_model_spec("cnn"), task, "quick", {key: value})  # raises on a key `suite run` does not know


def test_a_bad_parameter_is_a_card_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("description: x\nspace:\n  lr: {float: [0.1, 0.01]}\n")
    with pytest.raises(CardError, match="needs \\[low, high\\] with low < high"):
        load_space("cnn", bad)


def test_suggest_follows_the_space():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    values = suggest(trial, {"lr": {"float": [1e-4, 1e-2], "log": True}, "epochs": {"int": [1, 3]},
                             "head": {"choice": ["linear", "mlp"]}})
    assert 1e-4 <= values["lr"] <= 1e-2 and values["epochs"] in (1, 2, 3) and values["head"] in ("linear", "mlp")


def test_test_sequences_never_reach_the_objective(data_env, tmp_path):
    """A sweep plans the train split alone: the folds partition train, test is never located or loaded."""
    only_train = tmp_path / "data" / "gue" / "mouse" / "2"
    only_train.mkdir(parents=True)
    shutil.copy(data_env / "gue" / "mouse" / "2" / "train.csv.gz", only_train / "train.csv.gz")
    request = SweepRequest(model="cnn", task="tf_mouse_2", data_dir=str(tmp_path / "data"), sets=FAST)
    os.environ["SUITE_DATA_DIR"] = ""  # nothing but the train-only folder (and the package's demo data)
    try:
        trials = fold_trials(request, {}, folds=3)
        # the same folder cannot feed `suite run`: its test split really is absent
        refused = expand(RunRequest(models=("cnn",), tasks="tf_mouse_2", seeds=(0,),
                                    data_dir=str(tmp_path / "data"))).refused
    finally:
        os.environ["SUITE_DATA_DIR"] = str(data_env)
    assert "no dev split found" in refused[0][1] or "no test split found" in refused[0][1]
    assert [set(t.data) for t in trials] == [{"train"}] * 3
    from suite.data.cache import load_split

    labels = load_split(get_task("tf_mouse_2"), "train", data_dir=tmp_path / "data").labels
    vals = [training_rows(labels, t)[1] for t in trials]
    assert np.array_equal(np.sort(np.concatenate(vals)), np.arange(len(labels)))  # folds of train, nothing else

def test_study_records_a_failed_trial_resumes_and_ends_with_the_requested_trials(data_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    space = tmp_path / "space.yaml"
    # batch_size 0 is a real failing configuration (the loop cannot form a batch): such trials must be
    # recorded as FAIL without stopping the study
    space.write_text(yaml.safe_dump({"description": "test", "space": {
        "lr": {"float": [1e-3, 1e-1], "log": True}, "batch_size": {"choice": [0, 64]}},
        "pruner": {"median": {"n_startup_trials": 1}}}))
    base = dict(model="kmer_lr", task="tf_mouse_2", cv=2, space=str(space), sets=FAST, study="resume-test",
                storage=f"sqlite:///{tmp_path}/optuna.db", tracking_uri=f"sqlite:///{tmp_path}/mlflow.db")
    first = run_sweep(SweepRequest(trials=2, **base))
    assert first["counts"]["COMPLETE"] + first["counts"]["PRUNED"] == 2
    second = run_sweep(SweepRequest(trials=5, **base))  # the same study, continued
    counts = second["counts"]
    assert counts["COMPLETE"] + counts["PRUNED"] == 5
    assert counts["FAIL"] >= 1, counts  # the failing configuration was drawn and recorded, not lost
    assert second["best_value"] is not None and second["best_params"]["batch_size"] == 64
    study = optuna.load_study(study_name="resume-test", storage=base["storage"])
    complete = [t for t in study.trials if t.state.name == "COMPLETE"]
    assert all(set(t.intermediate_values) == {0, 1} for t in complete)  # one report per fold
    from mlflow.tracking import MlflowClient

    client = MlflowClient(base["tracking_uri"])
    exp = client.get_experiment_by_name("dna-suite-sweeps")
    nested = client.search_runs([exp.experiment_id], "tags.`suite.kind` = 'sweep_trial'")
    assert len(nested) == len([t for t in study.trials if t.state.name != "RUNNING"])  # each trial once
    parent = client.search_runs([exp.experiment_id], "tags.`suite.kind` = 'sweep'")
    assert len(parent) == 1 and parent[0].data.tags["best.batch_size"] == "64"


def test_suite_run_picks_up_applied_parameters(data_env, tmp_path):
    applied = tmp_path / "applied"
    applied.mkdir()
    (applied / "cnn__tf_mouse_2.yaml").write_text(yaml.safe_dump(
        {"study": "cnn__tf_mouse_2", "params": {"lr": 0.0042, "head": "mlp", "epochs": 3}}))
    request = RunRequest(models=("cnn", "kmer_lr"), tasks="tf_mouse_2", seeds=(0,), applied_dir=str(applied))
    by_model = {t.model_name: t for t in expand(request).trials}
    cnn = by_model["cnn"]
    assert cnn.hparams["lr"] == 0.0042 and cnn.hparams["epochs"] == 3 and cnn.model["head"] == "mlp"
    assert cnn.tags["params_from"] == "cnn__tf_mouse_2"
    assert "params_from" not in by_model["kmer_lr"].tags  # applied per model x task
    overridden = expand(RunRequest(models=("cnn",), tasks="tf_mouse_2", seeds=(0,), applied_dir=str(applied),
                                   sets={"lr": 0.1})).trials[0]
    assert overridden.hparams["lr"] == 0.1  # --set still wins over the applied sweep


def test_a_study_whose_every_trial_fails_stops_instead_of_looping(data_env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    space = tmp_path / "space.yaml"
    space.write_text(yaml.safe_dump({"description": "always fails", "space": {"batch_size": {"choice": [0]}}}))
    summary = run_sweep(SweepRequest(model="kmer_lr", task="tf_mouse_2", cv=2, space=str(space), sets=FAST,
                                     trials=3, storage=f"sqlite:///{tmp_path}/optuna.db",
                                     tracking_uri=f"sqlite:///{tmp_path}/mlflow.db"))
    assert summary["counts"]["FAIL"] == 5 and summary["counts"]["COMPLETE"] == 0 and summary["best_value"] is None


def test_a_search_space_key_must_be_a_run_setting_before_any_trial(tmp_path):
    from suite.errors import SuiteError
    from suite.sweeps.space import SweepSpec
    from suite.sweeps.study import check_space_keys

    fine = {"lr": {}, "epochs": {}, "head": {}, "pooling": {}, "model.layers": {}, "max_train_rows": {}}
    check_space_keys(SweepSpec("ok", fine), tmp_path / "ok.yaml")
    for space, tasks, says in [({"learning_rte": {}}, {}, "'learning_rte' is not a setting of `suite run`"),
                               ({"model.": {}}, {}, "'model.' is not a setting"),
                               ({}, {"tf_mouse_2": {"lrr": {}}}, "(task tf_mouse_2): 'lrr' is not a setting")]:
        with pytest.raises(SuiteError, match=re.escape(says)):
            check_space_keys(SweepSpec("bad", space, tasks=tasks), tmp_path / "bad.yaml")


def test_sweep_numbers_that_mean_nothing_are_refused_before_the_study_opens(tmp_path, monkeypatch):
    from suite.errors import SuiteError

    monkeypatch.chdir(tmp_path)
    for changes, says in [({"trials": 0}, "--trials 0"), ({"workers": 0}, "--workers 0"), ({"cv": 1}, "--cv 1"),
                          ({"timeout": 0.0}, "--timeout 0"), ({"cpus_per_worker": 0.0}, "--cpus-per-worker 0")]:
        with pytest.raises(SuiteError, match=re.escape(says)):
            run_sweep(SweepRequest(model="cnn", task="tf_mouse_2", **changes))
    assert not (tmp_path / "runs").exists()
