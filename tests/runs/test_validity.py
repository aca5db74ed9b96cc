"""Only valid results are recorded: what a plan can know is refused before anything runs, and a trial whose result
would mean nothing (non-finite loss or metric, no step, a validation set that cannot select) ends FAILED with its
reason on the console and in MLflow, never FINISHED."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from suite.errors import CorruptData, InvalidResult, SuiteError
from suite.runs.plan import expand
from suite.runs.request import RunRequest, parse_seeds
from suite.runs.trial import check_result, check_splits
from suite.train.config import FitConfig, check_settings
from suite.train.evaluate import SplitData


@pytest.mark.parametrize("key, value, says", [
    ("epochs", -1, "epochs=-1: must be a whole number >= 1"),
    ("epochs", 0, "epochs=0"),
    ("epochs", 2.5, "a whole number"),
    ("lr", "abc", "lr='abc': must be a finite number > 0"),
    ("lr", 0.0, "> 0"),
    ("lr", math.nan, "finite"),
    ("batch_size", 0, "batch_size=0"),
    ("warmup_frac", 1.0, "< 1"),
    ("weight_decay", -0.1, ">= 0"),
    ("patience", 0, "patience=0"),
    ("max_steps", -5, "max_steps=-5"),
    ("val_fraction", 1.5, "val_fraction=1.5"),
    ("max_train_rows", 0, "max_train_rows=0"),
    ("bucket", "yes", "true or false"),
    ("seed", -1, "seed=-1"),
    ("l2_grid", [0.1, -1.0], "l2_grid"),
])
def test_a_setting_out_of_range_is_one_line_naming_it(key, value, says):
    with pytest.raises(SuiteError) as caught:
        check_settings({key: value})
    assert says in caught.value.line() and "\n" not in caught.value.line()


def test_settings_in_range_and_nullable_ones_pass():
    check_settings({"epochs": 1, "lr": 1e9, "patience": None, "max_steps": None, "grad_clip": None, "lr_x": "ignored",
                    "warmup_frac": 0.0, "l2_grid": 0.1})
    FitConfig(epochs=1, patience=None)


def test_the_plan_refuses_bad_sets_and_requests_before_anything_runs(data_env):
    base = dict(models=("kmer_lr",), tasks="tf_mouse_2", seeds=(0,), applied_dir=None)
    for sets in ({"epochs": -1}, {"lr": "abc"}, {"val_fraction": 0}):
        with pytest.raises(SuiteError):
            expand(RunRequest(**base | {"sets": sets}))
    for change in ({"seeds": ()}, {"folds": 1}, {"cpus_per_trial": 0}, {"max_concurrent": 0}, {"seeds": (-1,)}):
        with pytest.raises(SuiteError):
            expand(RunRequest(**base | change))
    with pytest.raises(SuiteError, match="not a count"):
        parse_seeds("abc")
    plan = expand(RunRequest(**base | {"folds": 3000, "sets": {"max_train_rows": 300}}))
    assert plan.trials == [] and "under 2 rows" in plan.refused[0][1]


def test_data_that_fails_its_manifest_checksum_is_refused_unless_allowed(tmp_path, shared_data):
    folder = tmp_path / "gue" / "tf" / "2"
    folder.mkdir(parents=True)
    for split in ("train", "dev", "test"):
        shutil.copy(shared_data / "gue" / "tf" / "2" / f"{split}.csv.gz", folder)
    lines = [line for line in (shared_data / "MANIFEST.tsv").read_text().splitlines()
             if line.startswith(("path", "gue/tf/2/"))]
    (tmp_path / "MANIFEST.tsv").write_text("\n".join(lines).replace("104c47285b69", "000000000000") + "\n")
    request = RunRequest(models=("kmer_lr",), tasks="tf_human_2", seeds=(0,), data_dir=str(tmp_path), applied_dir=None)
    plan = expand(request)
    assert plan.trials == [] and "test: sha256" in plan.refused[0][1] and "--allow-unverified" in plan.refused[0][1]
    allowed = expand(RunRequest(**{**request.__dict__, "allow_unverified": True}))
    assert len(allowed.trials) == 1 and allowed.trials[0].tags["unverified"] == "allowed"
    assert allowed.trials[0].data["train"]["rows"] == 19000 and allowed.trials[0].data["test"]["rows"] is None
    with pytest.raises(CorruptData):  # the same check, named, for callers of task_data
        from suite.runs.plan import task_data
        from suite.tasks import get_task
        task_data(get_task("tf_human_2"), str(tmp_path))


def _split(labels) -> SplitData:
    labels = np.asarray(labels)
    return SplitData([None] * len(labels), labels, np.arange(len(labels)))


def test_splits_that_cannot_give_a_result_are_refused_by_the_trial():
    train = _split([0, 1, 0, 1])
    check_splits(train, _split([0, 1]), False, "mcc")
    for val in (_split([]), _split([1]), _split([1, 1, 1])):
        with pytest.raises(InvalidResult, match="validation set has"):
            check_splits(train, val, False, "mcc")
    with pytest.raises(InvalidResult, match="train split has no rows"):
        check_splits(_split([]), _split([0, 1]), False, "mcc")
    with pytest.raises(InvalidResult, match="test split has no rows"):
        check_splits(train, _split([0, 1]), True, "mcc")


def test_a_result_needs_a_step_and_finite_metrics():
    check_result(3, {"mcc": 0.2, "loss": 0.6}, {"mcc": 0.1})
    with pytest.raises(InvalidResult, match="no training step"):
        check_result(0, {"mcc": 0.2}, {"mcc": 0.1})
    with pytest.raises(InvalidResult, match="the test mcc is nan"):
        check_result(3, {"mcc": 0.2}, {"mcc": math.nan})
    with pytest.raises(InvalidResult, match="the validation loss is inf"):
        check_result(3, {"loss": math.inf}, {})


def test_a_diverging_run_is_failed_with_its_reason_on_the_console_and_in_mlflow(tmp_path, data_env):
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    out = subprocess.run(
        [sys.executable, "-m", "suite", "run", "--models", "cnn", "--tasks", "tf_mouse_2", "--seeds", "1",
         "--set", "lr=1e9", "--set", "epochs=1", "--set", "max_train_rows=200", "--no-ray", "--quiet",
         "--tracking-uri", uri, "--experiment", "diverge"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "COLUMNS": "250"}, timeout=600)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    failed = [line for line in out.stdout.splitlines() if line.startswith("failed ")]
    assert len(failed) == 1 and "cnn × tf_mouse_2 × seed 0" in failed[0] and "training diverged" in failed[0]
    client = MlflowClient(uri)
    runs = client.search_runs([client.get_experiment_by_name("diverge").experiment_id],
                              "tags.`suite.kind` = 'trial'")
    assert [r.info.status for r in runs] == ["FAILED"]
    assert "train loss is nan" in runs[0].data.tags["suite.error"]
