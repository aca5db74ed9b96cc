"""Planning: trials, run keys and the configuration layers (no training here)."""

import dataclasses

import pytest

from suite.errors import SuiteError
from suite.models import get_model_spec
from suite.runs.plan import expand
from suite.runs.request import RunRequest, parse_seeds, parse_sets
from suite.runs.settings import resolve_settings
from suite.tasks import get_task


def request(**kw):
    base = dict(models=("cnn", "kmer_lr"), tasks="tf_mouse_2,prom_core_tata", seeds=(0, 1))
    return RunRequest(**{**base, **kw})


def test_one_trial_per_model_task_seed_with_stable_unique_keys(data_env):
    plan = expand(request())
    assert len(plan.trials) == 2 * 2 * 2 and not plan.refused
    keys = [t.key for t in plan.trials]
    assert len(set(keys)) == 8
    assert keys == [t.key for t in expand(request()).trials]  # stable
    assert len({t.parent_key for t in plan.trials}) == 4  # (model, task) parents over seeds


def test_folds_multiply_trials_and_fold_selects_one(data_env):
    assert len(expand(request(folds=3)).trials) == 8 * 3
    one = expand(request(folds=3, fold=1)).trials
    assert len(one) == 8 and {t.fold for t in one} == {1}
    with pytest.raises(SuiteError, match="--fold 3 needs --folds K"):
        expand(request(folds=3, fold=3))


def test_key_changes_with_what_can_move_a_score(data_env):
    base = {t.key for t in expand(request()).trials}
    assert base.isdisjoint({t.key for t in expand(request(mode="probe")).trials})
    assert base.isdisjoint({t.key for t in expand(request(sets={"lr": 0.01})).trials})
    assert base.isdisjoint({t.key for t in expand(request(profile="paper")).trials})


def test_key_follows_the_package_code_not_the_commit(data_env, monkeypatch):
    import suite.runs.plan as plan_module

    base = [t.key for t in expand(request()).trials]
    monkeypatch.setattr(plan_module, "code_version", lambda: "0.1.0+gdocsonly")  # a commit of docs or reports
    again = expand(request()).trials
    assert [t.key for t in again] == base and {t.code_version for t in again} == {"0.1.0+gdocsonly"}
    monkeypatch.setattr(plan_module, "code_identity", lambda: "0.1.0+tchanged")  # the package changed
    changed = expand(request()).trials
    assert set(base).isdisjoint(t.key for t in changed) and {t.code_identity for t in changed} == {"0.1.0+tchanged"}


def test_code_identity_is_the_package_tree_and_code_version_the_commit():
    import subprocess
    from pathlib import Path

    import suite
    from suite.provenance import code_identity, code_version

    root = Path(suite.__file__).resolve().parent.parent
    tree = subprocess.run(["git", "rev-parse", "--short=12", "HEAD:suite"], cwd=root, capture_output=True, text=True)
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=root, capture_output=True, text=True)
    if tree.returncode != 0:
        assert code_identity() == code_version() == suite.__version__  # an installed package: no git
        return
    assert code_identity().startswith(f"{suite.__version__}+t{tree.stdout.strip()}")
    assert code_version().startswith(f"{suite.__version__}+g{commit.stdout.strip()}")


def hparams_of(task, training, profile, sets, mode="finetune"):
    """(hparams, backbone overrides) of a card with this `training:` block."""
    settings = resolve_settings(dataclasses.replace(get_model_spec("findna"), training=training), task, profile, sets,
                                mode)
    return settings.hparams, settings.backbone


FINDNA_LIKE = {"follows_paper": True, "finetune": {"lr": 1e-4, "epochs": 7}, "probe": {"lr": 0.02},
               "quick": {"lr": 3e-3}, "tasks": {"gue_h3": {"batch_size": 16}}}


def test_layers_card_then_paper_then_authors_then_profile_then_set():
    task = get_task("gue_h3")  # paper: batch 32, lr 5e-4, 20 epochs
    hp, _ = hparams_of(task, FINDNA_LIKE, "paper", {})
    # the paper's recipe over the card's generic row, then the authors' per-task config; no early stopping
    assert (hp["batch_size"], hp["lr"], hp["epochs"], hp["patience"]) == (16, 5e-4, 20, None)
    hp, _ = hparams_of(task, FINDNA_LIKE, "paper", {"recipe_source": "paper"})
    assert hp["batch_size"] == 32  # the switch: the paper's value where the authors' config differs
    hp, _ = hparams_of(task, FINDNA_LIKE, "paper", {}, mode="probe")
    assert (hp["batch_size"], hp["lr"]) == (32, 5e-4)  # probing: the paper's recipe, never the fine-tuning configs
    hp, _ = hparams_of(task, {"finetune": {"lr": 1e-3}}, "paper", {})
    assert hp["lr"] == 1e-3 and hp["batch_size"] == 64  # a model that does not follow FinDNA's paper keeps its own
    hp, _ = hparams_of(task, FINDNA_LIKE, "quick", {})
    assert hp["lr"] == 3e-3 and hp["epochs"] == 50 and hp["max_steps"] == 1_000 and hp["max_train_rows"] is None
    hp, _ = hparams_of(task, FINDNA_LIKE, "quick", {}, mode="probe")
    assert hp["lr"] == 3e-3  # the card's profile block comes after the mode's
    hp, backbone = hparams_of(task, FINDNA_LIKE, "quick", {"epochs": 1, "model.layers": 2})
    assert hp["epochs"] == 1 and backbone == {"layers": 2}
    with pytest.raises(SuiteError, match="recipe_source=code: unknown"):
        hparams_of(task, FINDNA_LIKE, "paper", {"recipe_source": "code"})


def test_every_card_states_its_training_and_unknown_keys_are_refused(tmp_path):
    from suite.errors import CardError
    from suite.models import all_models, check_training

    assert all("finetune" in spec.training for spec in all_models().values())
    with pytest.raises(CardError, match=r"unknown key 'learning_rate' in training.finetune"):
        check_training({"finetune": {"learning_rate": 1e-3}}, "card.yaml")
    with pytest.raises(CardError, match=r"unknown key 'quik' in training; did you mean 'quick'"):
        check_training({"finetune": {}, "quik": {}}, "card.yaml")
    with pytest.raises(CardError, match="needs a `finetune:` block"):
        check_training({"lr": 1e-3}, "card.yaml")


def test_pooling_a_family_cannot_feed_is_refused_at_plan_time(data_env):
    for model, pooling, reason in [("cnn", "mean", "gives one vector per sequence"),
                                   ("cm_mnm", "cls_mean", "n_cls = 0")]:
        plan = expand(request(models=(model,), tasks="tf_mouse_2", sets={"pooling": pooling}))
        assert not plan.trials and reason in plan.refused[0][1], plan.refused
    assert expand(request(models=("findna",), tasks="tf_mouse_2", sets={"pooling": "max"})).trials


def test_backbone_params_a_family_does_not_take_are_refused_at_plan_time(data_env):
    plan = expand(request(models=("findna",), tasks="tf_mouse_2", sets={"model.layerz": 2}))
    assert not plan.trials and "unknown key 'layerz'; did you mean 'layers'" in plan.refused[0][1], plan.refused


def test_unknown_setting_is_refused_with_a_suggestion():
    with pytest.raises(SuiteError, match=r"--set epoch: unknown setting; did you mean 'epochs'"):
        hparams_of(get_task("gue_h3"), {}, "quick", {"epoch": 2})


def test_task_without_train_split_is_refused_and_the_others_still_plan(data_env):
    plan = expand(request(tasks="gue_h3,tf_mouse_2"))
    assert {t.task_name for t in plan.trials} == {"tf_mouse_2"}
    (task, reason), = plan.refused
    assert task == "gue_h3" and reason.startswith("task gue_h3: no train split found; looked in")


def test_missing_pretrained_weights_are_refused_at_plan_time(data_env):
    plan = expand(request(models=("findna",), tasks="tf_mouse_2", profile="paper"))
    assert not plan.trials
    assert "pretrained weights not found" in plan.refused[0][1] and "suite pretrain" in plan.refused[0][1]


def test_unknown_model_and_mode():
    with pytest.raises(SuiteError, match="unknown model 'cnnn'"):
        expand(request(models=("cnnn",)))
    with pytest.raises(SuiteError, match="unknown mode"):
        expand(request(mode="zero-shot"))


def test_parse_seeds_and_sets():
    assert parse_seeds("3") == (0, 1, 2) and parse_seeds("1,7,42") == (1, 7, 42)
    assert parse_sets(["lr=1e-3", "head=mlp", "bucket=false"]) == {"lr": 1e-3, "head": "mlp", "bucket": False}


def test_drop_leaked_removes_train_rows_seen_in_dev_or_test():
    import numpy as np

    from suite.data.cache import EncodedSplit
    from suite.data.encode import encode
    from suite.runs.trial import drop_leaked

    def split(seqs):
        return EncodedSplit("t", "s", encode(seqs), np.zeros(len(seqs), dtype=int), "", "")

    train = split(["ACGT", "GGGG", "acgt", "TTTT"])
    rows, dropped = drop_leaked(train, np.arange(4), [split(["CCCC"]), split(["ACGT", "TTTA"])])
    assert rows.tolist() == [1, 3] and dropped == 2  # case-insensitive: acgt == ACGT


def test_weights_can_point_at_a_checkpoint_folder(data_env, tmp_path):
    plan = expand(request(models=("findna",), tasks="tf_mouse_2", sets={"weights": str(tmp_path)}))
    assert not plan.trials and str(tmp_path / "teacher.safetensors") in plan.refused[0][1]
