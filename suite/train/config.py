"""FitConfig: the downstream training settings of one trial, as plain data (standard library only, so model and
task cards can be checked against its field names without importing torch)."""

from __future__ import annotations

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
# and where the paper profile takes fine-tuning settings from (suite/runs/plan.py merge_hparams).
RUN_SETTINGS = {"val_fraction": 0.1, "max_train_rows": None, "drop_duplicates": False, "recipe_source": "authors"}

