"""A snapshot's optimizer.pt is read as plain tensors only: anything else is refused in our one line."""

import os
import subprocess
import sys

import torch

from suite.errors import SuiteError
from suite.pretrain.checkpoint import load_checkpoint, save_checkpoint
from suite.pretrain.findna import FinDNAPretrainer
from suite.pretrain.loop import build_backbone, profile_config, run_name


class Payload:  # any pickled object that is not a tensor or a plain container
    pass


def snapshot(run_dir, config, step=1):
    """A resumable snapshot of `config` (as `suite pretrain` writes it) without training: weights fit, step set."""
    _, backbone, _ = build_backbone(config)
    module = FinDNAPretrainer(backbone, config.method)
    optimizer = torch.optim.AdamW(module.student.parameters(), lr=1e-3)
    return save_checkpoint(run_dir, step, module, optimizer, {"config": config.to_dict(), "total_steps": step})


def fresh(config):
    _, backbone, _ = build_backbone(config)
    module = FinDNAPretrainer(backbone, config.method)
    return module, torch.optim.AdamW(module.student.parameters(), lr=1e-3)


def tiny():
    return profile_config("findna", "quick", size="tiny", window_len=64, n_windows=512, batch_size=16, steps=1)


def test_an_optimizer_state_holding_pickled_objects_is_refused_in_one_line(tmp_path):
    config = tiny()
    path = snapshot(tmp_path, config)
    torch.save({"state": {0: Payload()}, "param_groups": []}, path / "optimizer.pt")
    module, optimizer = fresh(config)
    try:
        load_checkpoint(path, module, optimizer)
    except SuiteError as exc:
        line = exc.line()
    else:
        raise AssertionError("a pickled object was loaded")
    assert f"{path / 'optimizer.pt'} is not a plain tensor checkpoint" in line
    assert f"delete {path / 'optimizer.pt'} to resume with a fresh optimizer state" in line
    assert "weights_only=False" not in line and "\n" not in line


def test_a_snapshot_without_its_optimizer_state_resumes_with_a_fresh_one(tmp_path):
    config = tiny()
    path = snapshot(tmp_path, config)
    (path / "optimizer.pt").unlink()
    module, optimizer = fresh(config)
    assert load_checkpoint(path, module, optimizer)["step"] == 1 and not optimizer.state_dict()["state"]


def test_suite_pretrain_refuses_to_resume_from_an_untrusted_optimizer_pickle(tmp_path, cohn_fasta):
    config = profile_config("findna", "quick", steps=1)  # what `suite pretrain --model findna --steps 1` runs
    path = snapshot(tmp_path / "ck" / run_name(config), config)
    torch.save({"state": {0: Payload()}, "param_groups": []}, path / "optimizer.pt")
    out = subprocess.run([sys.executable, "-m", "suite", "pretrain", "--model", "findna", "--fasta", str(cohn_fasta),
                          "--steps", "1", "--out", "ck", "--tracking-uri", "sqlite:///mlflow.db"],
                         capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "COLUMNS": "250"})
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr and "weights_only" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "optimizer.pt is not a plain tensor checkpoint" in lines[0], out.stderr
    assert "to resume with a fresh optimizer state" in lines[0]
