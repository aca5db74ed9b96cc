"""One process runs trial after trial (a reused Ray worker, suite/runs/fanout.py; the driver under --no-ray): a
trial gives exactly the metrics it gives alone in a new process, whichever trial ran before it there, in either
order, even when the one before changed process-wide settings that change a model's numbers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from suite.runs.plan import expand
from suite.runs.request import RunRequest

# Runs the trials given (TrialSpec dicts) one after another in this one process, and after each leaves behind what
# a trial (a model family, a library it calls) could: changed torch/numpy settings, grad mode off, drawn numbers.
WORKER = """
import json, sys
from pathlib import Path

import numpy as np
import torch

from suite.runs.plan import TrialSpec
from suite.runs.trial import run_trial


def disturb():
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_float32_matmul_precision("medium")
    torch.backends.cudnn.benchmark = True
    torch.set_grad_enabled(False)
    np.seterr(all="raise")
    torch.rand(7), np.random.rand(7), __import__("random").random()


out = Path(sys.argv[2])
results = []
for i, spec in enumerate(json.loads(sys.argv[1])):
    result = run_trial(TrialSpec.from_dict(spec), out / str(i), threads=1)
    history = [{k: v for k, v in row.items() if not k.endswith("seconds")} for row in result.history]
    results.append({"key": result.key, "test": result.test, "val": result.val, "best_epoch": result.best_epoch,
                    "history": history})
    disturb()
print(json.dumps(results))
"""


@pytest.fixture(scope="module")
def two_trials(shared_data):
    """Two trials of different model families, one training epoch on a few hundred rows each."""
    os.environ["SUITE_DATA_DIR"] = str(shared_data)
    plan = expand(RunRequest(models=("cnn", "kmer_lr"), tasks="tf_mouse_2", seeds=(0,), applied_dir=None,
                             sets={"epochs": 1, "max_train_rows": 300}))
    return [t.to_dict() for t in plan.trials]


def test_a_trial_gives_the_same_metrics_after_another_in_the_same_process_as_alone(two_trials, tmp_path):
    a, b = two_trials
    orders = {"aba": [a, b, a], "bab": [b, a, b]}
    procs = {name: subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(specs), str(tmp_path / name)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for name, specs in orders.items()}
    runs = {}
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=900)
        assert proc.returncode == 0, err[-3000:]
        runs[name] = json.loads(out.strip().splitlines()[-1])
    aba, bab = runs["aba"], runs["bab"]
    assert [r["key"] for r in aba] == [a["key"], b["key"], a["key"]]
    assert aba[0]["test"] and bab[0]["test"] and aba[0]["test"] != bab[0]["test"]
    # the first trial of each process is the trial alone in a new process
    assert aba[2] == aba[0] and bab[1] == aba[0]  # a after b, in either process
    assert bab[2] == bab[0] and aba[1] == bab[0]  # b after a
