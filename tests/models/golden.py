"""Golden fixtures produced by the ORIGINAL implementations (issue 18), and the checks that read them.

A fixture is a folder `tests/fixtures/golden/<name>/` holding:
- the snapshot files the original code reads or writes (`config.json`, tokenizer files), and `model.safetensors`:
  the original module's seeded random weights under the ORIGINAL parameter names, so the suite loads them through
  its real loading path (`tests.models.helpers.built_like_a_run`, the road `--set weights=FOLDER` takes);
- `golden.safetensors`: the inputs (token ids, masks, one-hot, ...) and the original code's outputs on them;
- `provenance.json`: the original repository and commit, the file(s) run, the configuration, the seed, the input
  strings, and what each tensor in `golden.safetensors` is.

The makers (`tests/fixtures/golden/make_*.py`) run only where the original code is present (a path given on their
command line); they are not part of the test run, and the original code never enters the project.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import Tensor

GOLDEN = Path(__file__).resolve().parent.parent / "fixtures" / "golden"
TOLERANCE = 1e-5  # max |ours - theirs| / max(1, max |theirs|), float32 on CPU


def write_fixture(name: str, weights: dict[str, Tensor], tensors: dict[str, Tensor], provenance: dict,
                  files: dict[str, str] | None = None) -> Path:
    """Write fixture `name`: original-named weights, golden tensors, provenance and extra text files (config.json,
    tokenizer files). Tensors are stored contiguous, on CPU; float64 is stored as float32 (the comparison dtype)."""
    from safetensors.torch import save_file

    def clean(t: Tensor) -> Tensor:
        t = t.detach().cpu().contiguous()
        return t.float() if t.dtype == torch.float64 else t

    folder = GOLDEN / name
    folder.mkdir(parents=True, exist_ok=True)
    if weights:
        save_file({k: clean(v) for k, v in weights.items()}, str(folder / "model.safetensors"))
    save_file({k: clean(v) for k, v in tensors.items()}, str(folder / "golden.safetensors"))
    (folder / "provenance.json").write_text(json.dumps(provenance, indent=2) + "\n")
    for filename, text in (files or {}).items():
        (folder / filename).write_text(text)
    return folder


def read_fixture(name: str) -> tuple[Path, dict[str, Tensor], dict]:
    """(folder, golden tensors, provenance) of fixture `name`."""
    from safetensors.torch import load_file

    folder = GOLDEN / name
    return folder, load_file(str(folder / "golden.safetensors")), json.loads((folder / "provenance.json").read_text())


def max_error(actual: Tensor, expected: Tensor) -> float:
    """max |actual - expected| relative to the scale of `expected` (at least 1)."""
    assert actual.shape == expected.shape, f"shape {tuple(actual.shape)} vs golden {tuple(expected.shape)}"
    actual, expected = actual.detach().float().cpu(), expected.float()
    return float((actual - expected).abs().max() / max(1.0, float(expected.abs().max())))


def assert_matches(what: str, actual: Tensor, expected: Tensor, tolerance: float = TOLERANCE) -> float:
    """Fail with the relative max error when `actual` differs from the original code's output; return the error."""
    error = max_error(actual, expected)
    assert error <= tolerance, f"{what}: max error {error:.3g} relative to scale (tolerance {tolerance:g})"
    return error
