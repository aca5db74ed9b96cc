"""Pretraining checkpoints: resumable step snapshots and the exported backbone a model card loads.

Layout under `<out>/<name>/` (e.g. runs/checkpoints/findna-paper/):
    steps/<step:08d>/pretrainer.safetensors   student.* (backbone + head), teacher.*, center: the whole module
    steps/<step:08d>/optimizer.pt             AdamW state (torch.save; read back with weights_only=True only;
                                               deleting it resumes with a fresh optimizer state)
    steps/<step:08d>/state.json               step, total_steps, config, MLflow run id, RNG states (base64)
    <weights file>                             the backbone used downstream (teacher; student for CM-MNM),
                                               keys as the backbone's own state_dict; the card's `weights.file`
    config.json                                card name, family, backbone params, step, pretraining config
and `<out>/index.json` lists every exported run by name (the registry a card's `weights.local` points into).
A snapshot folder is written under a temporary name and renamed, so a killed run never leaves half a snapshot.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from suite.errors import SuiteError
from suite.models.weights import load_into, read_tensors

STEPS = "steps"


def _tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().contiguous().cpu() for k, v in module.state_dict().items()}


def rng_state() -> dict:
    state = {"torch": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode()}
    if torch.cuda.is_available():
        state["cuda"] = [base64.b64encode(s.numpy().tobytes()).decode() for s in torch.cuda.get_rng_state_all()]
    return state


def set_rng_state(state: dict) -> None:
    decode = lambda s: torch.frombuffer(bytearray(base64.b64decode(s)), dtype=torch.uint8)  # noqa: E731
    torch.set_rng_state(decode(state["torch"]))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([decode(s) for s in state["cuda"]])


def _write_json(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    os.replace(tmp, path)


def save_checkpoint(run_dir: Path, step: int, module: nn.Module, optimizer: torch.optim.Optimizer,
                    state: dict, keep: int = 2) -> Path:
    """Snapshot after `step` optimiser steps; keeps the newest `keep` snapshots. Returns its folder."""
    steps_dir = Path(run_dir) / STEPS
    steps_dir.mkdir(parents=True, exist_ok=True)
    final = steps_dir / f"{step:08d}"
    tmp = Path(tempfile.mkdtemp(dir=steps_dir, prefix=".partial-"))
    save_file(_tensors(module), str(tmp / "pretrainer.safetensors"))
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    _write_json(tmp / "state.json", {**state, "step": step, "rng": rng_state()})
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    for old in sorted(p for p in steps_dir.iterdir() if p.name.isdigit())[:-keep]:
        shutil.rmtree(old)
    return final


def latest_checkpoint(run_dir: Path) -> Path | None:
    steps_dir = Path(run_dir) / STEPS
    if not steps_dir.is_dir():
        return None
    done = sorted(p for p in steps_dir.iterdir() if p.name.isdigit() and (p / "state.json").is_file())
    return done[-1] if done else None


def load_checkpoint(path: Path, module: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> dict:
    """Load a snapshot into `module` (exact keys and shapes) and `optimizer`, restore the RNG states; returns
    state.json."""
    path = Path(path)
    fix = f"resume with the configuration it was written with, or delete {path} to resume from the snapshot before it"
    try:
        state = json.loads((path / "state.json").read_text())
    except (OSError, ValueError) as exc:
        raise SuiteError(f"checkpoint {path} cannot be read ({exc.__class__.__name__})", fix) from exc
    load_into(module, path / "pretrainer.safetensors", source=f"checkpoint {path}", fix=fix)
    if optimizer is not None:
        load_optimizer(path / "optimizer.pt", optimizer, next(iter(module.state_dict().values())).device)
    set_rng_state(state["rng"])
    return state


def load_optimizer(file: Path, optimizer: torch.optim.Optimizer, device) -> None:
    """The AdamW state of a snapshot, read as plain tensors only (torch.load with weights_only=True). A snapshot
    without optimizer.pt (deleted on purpose) resumes with a fresh optimizer state: same weights, step and
    schedules, new moment estimates."""
    if not file.is_file():
        return
    fix = (f"delete {file} to resume with a fresh optimizer state, or delete its snapshot folder {file.parent} to "
           "resume from the one before it")
    state = read_tensors(file, fix, map_location=device)
    try:
        optimizer.load_state_dict(state)
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise SuiteError(f"{file} does not fit this optimizer ({type(exc).__name__})", fix) from None


def export(run_dir: Path, backbone: nn.Module, weights_file: str, meta: dict,
           others: dict[str, nn.Module] | None = None) -> Path:
    """Write the downstream backbone + config.json, and register the run in `<out>/index.json`.

    `others`: further networks by name (the student beside the teacher), each written to `<name>.safetensors`
    and listed in config.json's `networks` (name → file), so a run can choose one with `--set network=NAME`."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    files = {meta.get("source", Path(weights_file).stem): (weights_file, backbone)}
    files.update({name: (f"{name}.safetensors", net) for name, net in (others or {}).items()})
    for file, net in files.values():
        tmp = run_dir / f".{file}.tmp"
        save_file(_tensors(net), str(tmp))
        os.replace(tmp, run_dir / file)
    config = {**meta, "weights_file": weights_file, "networks": {name: file for name, (file, _) in files.items()},
              "exported": time.strftime("%Y-%m-%dT%H:%M:%S")}
    _write_json(run_dir / "config.json", config)
    index_path = run_dir.parent / "index.json"
    index = json.loads(index_path.read_text()) if index_path.is_file() else {}
    listed = ("model", "family", "step", "total_steps", "exported")
    index[run_dir.name] = {"path": str(run_dir), "weights": weights_file, **{k: config[k] for k in listed if k in config}}
    _write_json(index_path, index)
    return run_dir / weights_file


def load_backbone(run_dir: str | Path) -> nn.Module:
    """The exported backbone of a pretraining run (config.json + its weights file), strictly loaded."""
    from suite.models import FAMILIES, load_families

    run_dir = Path(run_dir)
    config_path = run_dir / "config.json"
    if not config_path.is_file():
        raise SuiteError(f"no pretrained model at {run_dir} (config.json missing)", "run `suite pretrain` first")
    config = json.loads(config_path.read_text())
    if not FAMILIES.names():
        load_families()
    backbone = FAMILIES.get(config["family"])(config["backbone_params"], None, str(config_path))
    load_into(backbone, run_dir / config["weights_file"], source=f"pretrained model {run_dir}",
              fix="use the config.json and weights one `suite pretrain` run exported together")
    return backbone
