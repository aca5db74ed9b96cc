"""The one training loop on small real data: deterministic for a seed, best state restored, probe trains the head."""

import numpy as np
import pytest
import torch

from suite.data.cache import load_split
from suite.models import build_model, get_model_spec
from suite.tasks import get_task
from suite.train.evaluate import SplitData, evaluate
from suite.train.loop import FitConfig, fit, planned_epochs, seed_everything


@pytest.fixture(scope="module")
def mouse2(shared_data):
    import os

    os.environ["SUITE_DATA_DIR"] = str(shared_data)
    task = get_task("tf_mouse_2")
    train, dev = load_split(task, "train"), load_split(task, "dev")
    return task, SplitData(train.seqs, train.labels, np.arange(600)), SplitData(dev.seqs, dev.labels, np.arange(len(dev)))


def _train(model_name, task, train, val, seed, mode="finetune", epochs=3):
    seed_everything(seed)
    model = build_model(get_model_spec(model_name), task.n_classes, overrides={"max_len": task.max_bp}, weights=False)
    model.set_mode(mode)
    cfg = FitConfig(epochs=epochs, batch_size=32, lr=1e-3, warmup_frac=0.1, patience=None, seed=seed)
    return model, fit(model, train, val, cfg, task.metric, device=torch.device("cpu"))


def test_same_seed_same_result(mouse2):
    task, train, val = mouse2
    _, a = _train("cnn", task, train, val, seed=3)
    _, b = _train("cnn", task, train, val, seed=3)
    _, c = _train("cnn", task, train, val, seed=4)
    assert a.history == b.history
    assert a.history != c.history


def test_best_validation_state_is_restored(mouse2):
    task, train, val = mouse2
    model, result = _train("cnn", task, train, val, seed=0, epochs=4)
    scores = [row["val/mcc"] for row in result.history]
    assert result.best_epoch == int(np.argmax(scores))
    restored, _ = evaluate(model, val, 256, torch.device("cpu"))
    assert restored["mcc"] == pytest.approx(max(scores))
    assert len(result.epoch_seconds) == 4 and result.steps == 4 * 19


def test_probe_mode_trains_only_the_head(mouse2):
    task, train, val = mouse2
    seed_everything(0)
    model = build_model(get_model_spec("cnn"), task.n_classes, overrides={"max_len": task.max_bp}, weights=False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.set_mode("probe")
    fit(model, train, val, FitConfig(epochs=1, batch_size=32, patience=None), task.metric, device=torch.device("cpu"))
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("head.") for k in changed)


def test_early_stopping_stops_after_patience(mouse2):
    task, train, val = mouse2
    seed_everything(0)
    model = build_model(get_model_spec("cnn"), task.n_classes, overrides={"max_len": task.max_bp}, weights=False)
    result = fit(model, train, val, FitConfig(epochs=30, batch_size=32, lr=1e-2, patience=1), task.metric,
                 device=torch.device("cpu"))
    assert len(result.history) < 30
    assert len(result.history) == result.best_epoch + 2  # one epoch without improvement, then stop


def test_planned_epochs_are_the_step_budgets():
    """What progress shows as N in "epoch k/N": the quick profile's 50 epochs within 1,000 steps."""
    quick = FitConfig(epochs=50, batch_size=64, max_steps=1_000)
    assert planned_epochs(quick, 30_000) == 3  # 469 steps a epoch: the budget ends in the third
    assert planned_epochs(quick, 640) == 50  # 10 steps a epoch: the epochs end first
    assert planned_epochs(FitConfig(epochs=4, batch_size=64), 30_000) == 4  # no budget
    assert planned_epochs(FitConfig(solver="lbfgs", l2_grid=(0.1, 1.0, 1.0)), 30_000) == 2  # one per distinct C


def test_fit_runs_the_planned_epochs(mouse2):
    task, train, val = mouse2
    seed_everything(0)
    model = build_model(get_model_spec("cnn"), task.n_classes, overrides={"max_len": task.max_bp}, weights=False)
    cfg = FitConfig(epochs=50, batch_size=64, max_steps=25, patience=None)  # 600 rows: 10 steps a epoch
    seen = []
    fitted = fit(model, train, val, cfg, task.metric, on_epoch=lambda epoch, row: seen.append(epoch),
                 device=torch.device("cpu"))
    assert seen == [0, 1, 2] == list(range(planned_epochs(cfg, len(train)))) and fitted.steps == 25
