"""The one way the suite reads a torch pickle (`.pt`, `.bin`): `torch.load(weights_only=True)`, so a file cannot run
code, and a file that is not plain tensors (or is damaged) is refused in one line that names it and says what to
do, never with torch's advice to turn the safety off."""

from __future__ import annotations

import pickle
from pathlib import Path

from suite.errors import SuiteError


def load_tensors(path: str | Path, fix: str, map_location="cpu"):
    """`torch.load(path, weights_only=True)`; SuiteError(what, fix) when the file is missing, holds pickled objects
    other than tensors and plain containers, or cannot be read."""
    import torch

    path = Path(path)
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise SuiteError(f"{path} not found", fix) from None
    except Exception as exc:  # torch raises UnpicklingError, RuntimeError, EOFError … depending on the damage
        text = str(exc)
        if isinstance(exc, pickle.UnpicklingError) and "weights_only" in text.lower():
            raise SuiteError(f"{path} is not a plain tensor checkpoint (it holds pickled Python objects, which are "
                             "never loaded: they could run code)", fix) from None
        lines = [line.strip() for line in text.splitlines() if line.strip() and "weights_only" not in line]
        reason = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
        raise SuiteError(f"{path} cannot be read as a tensor checkpoint ({reason})", fix) from None
