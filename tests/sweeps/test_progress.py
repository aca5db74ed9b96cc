"""`suite sweep`'s progress: each trial's start, every fold's epochs and score, its end, as lines in a log."""

import re

import yaml

from suite.sweeps.study import SweepRequest, run_sweep

STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (.*)$")
SCORE = r"-?\d\.\d{4}"


def test_a_sweep_without_a_terminal_writes_a_line_per_trial_fold_and_epoch(data_env, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "space.yaml").write_text(yaml.safe_dump({"description": "one setting", "space": {
        "lr": {"float": [1e-3, 1e-2], "log": True}}}))
    summary = run_sweep(SweepRequest(model="cnn", task="tf_mouse_2", cv=2, space=str(tmp_path / "space.yaml"),
                                     sets={"epochs": 1, "max_train_rows": 400}, trials=1, study="s",
                                     storage=f"sqlite:///{tmp_path}/optuna.db",
                                     tracking_uri=f"sqlite:///{tmp_path}/mlflow.db"))
    assert summary["counts"]["COMPLETE"] == 1
    lines = [m.group(1) for line in capsys.readouterr().out.splitlines() if (m := STAMP.match(line))]
    expected = [
        r"sweep s trial #0 started: lr=0\.\d+",
        rf"sweep s trial #0 fold 1/2 epoch 1/1 · val mcc {SCORE}",
        rf"sweep s trial #0 fold 1/2 done · val mcc {SCORE} \(mean so far {SCORE}\)",
        rf"sweep s trial #0 fold 2/2 epoch 1/1 · val mcc {SCORE}",
        rf"sweep s trial #0 fold 2/2 done · val mcc {SCORE} \(mean so far {SCORE}\)",
        rf"sweep s trial #0 finished · cv mean mcc {SCORE} · 1/1 trials finished",
    ]
    assert len(lines) == len(expected), lines
    for pattern, line in zip(expected, lines):
        assert re.fullmatch(pattern, line), (pattern, line)
