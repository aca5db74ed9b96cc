"""Search-space cards (sweeps/*.yaml) → SweepSpec, and the one translation point into Optuna suggestions.

A parameter is `{float: [lo, hi], log: bool}`, `{int: [lo, hi], log: bool}` or `{choice: [a, b, ...]}`; its
key is a `suite run --set` key. The card for a model is sweeps/<family>.yaml (else default.yaml); its `tasks:`
entries replace parameters for one task; `--space FILE` replaces the card.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from suite.cards import build, card_dir, resolve
from suite.errors import CardError, SuiteError

KINDS = ("float", "int", "choice")
PRUNERS = ("median", "successive_halving", "none")


@dataclass(frozen=True)
class SweepSpec:
    description: str
    space: dict
    objective: dict = field(default_factory=lambda: {"cv_folds": 3, "metric": "primary"})
    pruner: dict = field(default_factory=lambda: {"median": {}})
    tasks: dict = field(default_factory=dict)

    def for_task(self, task: str) -> dict:
        """The space with the task's replacements applied."""
        return {**self.space, **self.tasks.get(task, {})}


def space_path(family: str, path: str | Path | None = None) -> Path:
    """The search-space file of a family: `--space FILE`, else sweeps/<family>.yaml, else sweeps/default.yaml."""
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise SuiteError(f"search space {path} not found", "give an existing YAML file to --space")
        return path
    path = card_dir("sweeps") / f"{family}.yaml"
    return path if path.is_file() else card_dir("sweeps") / "default.yaml"


def load_space(family: str, path: str | Path | None = None) -> SweepSpec:
    path = space_path(family, path)
    spec = build(SweepSpec, resolve(path), str(path))
    for task, params in [("", spec.space), *spec.tasks.items()]:
        for name, param in params.items():
            check_param(name, param, f"{path}{f' (task {task})' if task else ''}")
    if len(spec.pruner) != 1 or next(iter(spec.pruner)) not in PRUNERS:
        raise CardError(f"{path}: pruner must be one of {PRUNERS}", "write e.g. `pruner: {median: {}}`")
    return spec


def check_param(name: str, param, where: str) -> None:
    kinds = [k for k in KINDS if isinstance(param, dict) and k in param]
    if len(kinds) != 1 or set(param) - {*KINDS, "log"}:
        raise CardError(f"{where}: parameter '{name}' must be one of {{float|int: [lo, hi], log: bool}} or "
                        "{choice: [...]}", "fix the search space")
    kind = kinds[0]
    values = param[kind]
    if kind == "choice" and (not isinstance(values, list) or not values):
        raise CardError(f"{where}: '{name}' choice needs a non-empty list", "write choice: [a, b]")
    if kind != "choice" and (not isinstance(values, list) or len(values) != 2 or values[0] >= values[1]):
        raise CardError(f"{where}: '{name}' needs [low, high] with low < high", f"got {values}")


def suggest(trial, space: dict) -> dict:
    """One Optuna suggestion per parameter (trial is an optuna.Trial)."""
    values = {}
    for name, param in space.items():
        if "choice" in param:
            values[name] = trial.suggest_categorical(name, param["choice"])
        elif "int" in param:
            lo, hi = param["int"]
            values[name] = trial.suggest_int(name, int(lo), int(hi), log=bool(param.get("log", False)))
        else:
            lo, hi = param["float"]
            values[name] = trial.suggest_float(name, float(lo), float(hi), log=bool(param.get("log", False)))
    return values
