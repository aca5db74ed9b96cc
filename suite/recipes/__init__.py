"""Paper recipes: one card per FinDNA table (recipes/*.yaml), planned and run by `suite reproduce`.

    all_recipes() → {name: RecipeSpec}      get_recipe("T4" | "t4" | "4") → RecipeSpec
"""

from __future__ import annotations

import dataclasses
from functools import cache

from suite.cards import check_name, load_cards
from suite.errors import CardError, UnknownName
from suite.recipes.spec import COLUMNS, KINDS, RecipeSpec

STEPS = ("finetune", "pretrain")
NETWORKS = ("teacher", "student")


@cache
def all_recipes() -> dict[str, RecipeSpec]:
    return load_cards("recipes", RecipeSpec, _check)


def _check(spec: RecipeSpec, path) -> None:
    from suite.models import all_models
    from suite.pretrain.config import PretrainConfig
    from suite.runs.request import MODES

    check_name(spec.name, str(path))
    problems = []
    if spec.kind not in KINDS:
        problems.append((f"kind '{spec.kind}'", f"use one of {', '.join(KINDS)}"))
    if spec.mode not in MODES:
        problems.append((f"mode '{spec.mode}'", f"use one of {', '.join(MODES)}"))
    problems += [(f"column '{c}'", f"use {', '.join(COLUMNS)}") for c in spec.columns if c not in COLUMNS]
    labels = [e.label for e in spec.entries]
    if len(set(labels)) != len(labels):
        problems.append(("two entries share a label", "give every entry its own label"))
    for entry in spec.entries:
        if entry.model not in all_models():
            problems.append((f"entry '{entry.label}': unknown model '{entry.model}'", "name a card in models/"))
        if entry.network not in (None, *NETWORKS):
            problems.append((f"entry '{entry.label}': network '{entry.network}'", f"use {' or '.join(NETWORKS)}"))
        if entry.step not in STEPS:
            problems.append((f"entry '{entry.label}': step '{entry.step}'", f"use {' or '.join(STEPS)}"))
    problems += [(f"mode '{m}'", f"use one of {', '.join(MODES)}") for m in spec.modes if m not in MODES]
    problems += [(f"mode_sets: '{m}' is not a mode of the recipe" if m not in spec.all_modes else
                  f"mode_sets: {m} is not a mapping of run settings", f"use mode_sets: {{{spec.all_modes[0]}: {{KEY: VALUE}}}}")
                 for m, sets in spec.mode_sets.items() if m not in spec.all_modes or not isinstance(sets, dict)]
    for pair in spec.comparisons:
        if len(pair) != 2:
            problems.append((f"comparison {list(pair)} is not a pair", "write [entry, baseline entry]"))
        problems += [(f"comparison {list(pair)} names no entry '{label}'",
                      f"use labels of the entries: {', '.join(labels)}") for label in pair if label not in labels]
    settings = [f.name for f in dataclasses.fields(PretrainConfig) if f.name not in ("model", "profile", "method")]
    problems += [(f"pretraining setting '{key}'", f"use PretrainConfig fields: {', '.join(settings)}, augment")
                 for key in spec.pretraining if key not in (*settings, "augment")]
    problems += [(f"corpus key '{key}'", "use fasta and/or tasks") for key in spec.corpus if key not in ("fasta", "tasks")]
    if spec.kind == "cost" and spec.reference not in labels:
        problems.append((f"reference '{spec.reference}' is not an entry label", f"use one of {', '.join(labels)}"))
    if spec.kind != "cost" and not spec.tasks:
        problems.append(("no tasks", "name tasks or a group"))
    if problems:
        what, fix = problems[0]
        raise CardError(f"{path}: {what}", fix)


def get_recipe(name: str) -> RecipeSpec:
    """A recipe by card name, case-insensitively, with or without the 't' ('T4', 't4', '4')."""
    key = name.strip().lower()
    key = key if key in all_recipes() else f"t{key}"
    if key not in all_recipes():
        raise UnknownName("recipe", name, all_recipes())
    return all_recipes()[key]
