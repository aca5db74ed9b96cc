"""FitConfig: the downstream training settings of one trial, as plain data (standard library only, so model and
task cards can be checked against its field names without importing torch)."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from suite.errors import SuiteError


SOLVERS = ("adamw", "lbfgs")


@dataclass(frozen=True)
class FitConfig:
    """Downstream training settings (the merged hyperparameters of a trial)."""

    epochs: int = 10
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_frac: float = 0.1
    patience: int | None = 3  # epochs with neither val metric nor val loss improving before stopping; None = never
    max_steps: int | None = None  # optimizer-step budget (a profile's per-trial budget); None = epochs decide
    grad_clip: float | None = 1.0
    bucket: bool = True  # length-bucketed batches (less padding on variable-length tasks)
    eval_batch_size: int = 256
    amp: bool = True  # bfloat16 autocast, on a GPU only
    compile: bool = False  # torch.compile, on a GPU only
    seed: int = 0
    solver: str = "adamw"  # adamw (this loop) | lbfgs (a linear head fitted to convergence, suite/train/convex.py)
    l2_grid: tuple[float, ...] = (0.001, 0.01, 0.1, 1.0)  # lbfgs: the C values tried, the best on validation kept

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise SuiteError(f"unknown solver '{self.solver}'", f"use solver: {' or '.join(SOLVERS)}")
        check_settings({f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_hparams(cls, hparams: dict) -> FitConfig:
        names = {f for f in cls.__dataclass_fields__}
        values = {k: v for k, v in hparams.items() if k in names}
        if "l2_grid" in values:  # a YAML / --set list (or one number)
            grid = values["l2_grid"]
            values["l2_grid"] = tuple(float(c) for c in (grid if isinstance(grid, (list, tuple)) else [grid]))
        return cls(**values)


FIT_KEYS = tuple(f.name for f in fields(FitConfig))
# Run settings the trial (not the loop) reads, with their defaults: validation fraction, a row cap, leakage removal,
# and where the paper profile takes fine-tuning settings from (suite/runs/settings.py resolve_settings).
RUN_SETTINGS = {"val_fraction": 0.1, "max_train_rows": None, "drop_duplicates": False, "recipe_source": "authors"}



# What each setting must be: (kind, lowest, lowest allowed?, highest, highest allowed?, None allowed?). A value
# outside is refused when the plan is made, before anything trains (a NaN loss or zero epochs would otherwise
# only show as a meaningless result).
_RULES = {
    "epochs": ("int", 1, True, None, False, False),
    "batch_size": ("int", 1, True, None, False, False),
    "lr": ("float", 0.0, False, None, False, False),
    "weight_decay": ("float", 0.0, True, None, False, False),
    "warmup_frac": ("float", 0.0, True, 1.0, False, False),
    "patience": ("int", 1, True, None, False, True),
    "max_steps": ("int", 1, True, None, False, True),
    "grad_clip": ("float", 0.0, False, None, False, True),
    "bucket": ("bool", None, True, None, False, False),
    "eval_batch_size": ("int", 1, True, None, False, False),
    "amp": ("bool", None, True, None, False, False),
    "compile": ("bool", None, True, None, False, False),
    "seed": ("int", 0, True, None, False, False),
    "val_fraction": ("float", 0.0, False, 1.0, False, False),
    "max_train_rows": ("int", 1, True, None, False, True),
    "drop_duplicates": ("bool", None, True, None, False, False),
}


def _requirement(kind: str, low, low_in: bool, high, high_in: bool, nullable: bool) -> str:
    parts = [{"int": "a whole number", "float": "a finite number", "bool": "true or false"}[kind]]
    if low is not None:
        parts.append(f"{'>=' if low_in else '>'} {low:g}")
    if high is not None:
        parts.append(f"{'<=' if high_in else '<'} {high:g}")
    return " ".join(parts) + (" (or null)" if nullable else "")


def check_settings(values: dict) -> None:
    """Refuse a training or run setting of the wrong type or out of its range, in one line naming it."""
    for key, value in values.items():
        if key == "l2_grid":
            grid = value if isinstance(value, (list, tuple)) else [value]
            if not grid or not all(_is_number(c) and c > 0 for c in grid):
                raise SuiteError(f"setting l2_grid={value!r}: must be positive numbers",
                                 "e.g. --set l2_grid=[0.01,0.1,1.0]")
            continue
        rule = _RULES.get(key)
        if rule is None:
            continue
        kind, low, low_in, high, high_in, nullable = rule
        if value is None and nullable:
            continue
        ok = {"int": isinstance(value, int) and not isinstance(value, bool),
              "float": _is_number(value), "bool": isinstance(value, bool)}[kind]
        if ok and low is not None:
            ok = value >= low if low_in else value > low
        if ok and high is not None:
            ok = value <= high if high_in else value < high
        if not ok:
            raise SuiteError(f"setting {key}={value!r}: must be {_requirement(*rule)}",
                             f"fix --set {key} or the card's training block")


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
