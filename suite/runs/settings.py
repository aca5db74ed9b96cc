"""resolve_settings: what one model x task runs with, and for every setting the layer it came from.

Training settings, later wins: FitConfig defaults (and the run defaults, suite/train/config.py RUN_SETTINGS) ▸ the
model card's `training.finetune` ▸ its `training.probe` (probe mode) ▸ in the paper profile, for cards with
`follows_paper: true` (FinDNA's own models), the task card's `paper:` recipe and then, when fine-tuning, the
authors' per-task config (`training.tasks`; `--set recipe_source=paper` keeps the paper's values instead) ▸ the
profile's caps and fixed values ▸ the card's block for the profile (`training.quick`) ▸ the applied sweep and
`--set`. Model settings: size (`--set` ▸ the profile's when the card has it ▸ the card's default), weights (`--set`
▸ the profile's; none for a card without pretrained weights), pooling and head (the card ▸ `--set`). Backbone, as
suite/models build_backbone builds it: the card's params ▸ its size ▸ `fidelity.backbone` ▸ `--set model.<key>` ▸
the task-level recipe (the card's `recipes:` entry in the paper profile, else the task's length), which the
family applies last (and from which it derives the rest, e.g. ChordMixer's width).

Every value a run used is in its params and none comes from a default a card hides: `suite run --explain` and
`suite models show` print each with its source before anything trains, and every trial logs them (settings.tsv).
"""

from __future__ import annotations

import dataclasses
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from suite.errors import SuiteError, closest
from suite.models import HEAD_NAMES, POOLING_NAMES
from suite.models.spec import ModelSpec
from suite.runs.profiles import get_profile
from suite.tabular import show
from suite.tasks.spec import TaskSpec
from suite.train.config import RUN_SETTINGS, FitConfig, check_settings

RECIPE_SOURCES = ("authors", "paper")  # paper profile, fine-tuning: the authors' per-task configs, or the paper's
CARD_SETTINGS = ("head", "pooling", "head_hidden", "head_dropout")  # model card fields a run may override
PAPER_KEYS = ("batch_size", "lr", "weight_decay", "epochs", "warmup_frac")
DEFAULTS = {f.name: f.default for f in dataclasses.fields(FitConfig)}


def known_settings() -> list[str]:
    """Every key `--set` (and a sweep's search space) may name, `model.<key>` aside: the training and run settings,
    then size, weights, network and the card settings a run may override."""
    return [*DEFAULTS, *RUN_SETTINGS, "size", "weights", "network", *CARD_SETTINGS]


class _Layers:
    """Values merged layer by layer, later wins, each remembering the layer that set it last."""

    def __init__(self) -> None:
        self.values: dict = {}
        self.sources: dict = {}

    def add(self, values: dict, source: str) -> None:
        self.values.update(values)
        self.sources.update(dict.fromkeys(values, source))


@dataclass(frozen=True)
class Settings:
    """One model x task's settings (JSON-able) and, in `sources`, the layer each came from."""

    hparams: dict
    backbone: dict  # the `--set model.<key>` overrides
    size: str
    weights: str  # "card" | "none" | a folder
    network: str | None
    recipe: dict  # task-level backbone settings
    card: dict  # pooling, head, head_hidden, head_dropout as the run uses them
    params: dict  # the backbone configuration the layers give (`model.<key>` rows)
    sources: dict  # hparams and model settings by name, backbone keys as `model.<key>`

    def rows(self, seeds) -> list[tuple[str, object, str]]:
        """(setting, value, source): training, then model, then backbone settings. `seeds` fills the seed row:
        every trial's seed is the one --seeds gives it."""
        values = {**self.hparams, "seed": seeds, "size": self.size, "weights": self.weights,
                  **({"network": self.network} if self.network else {}), **self.card,
                  **{f"model.{k}": v for k, v in self.params.items()}}
        return [(key, value, self.sources[key]) for key, value in values.items()]

    def at_checkpoint(self, spec: ModelSpec, model: dict) -> Settings:
        """These settings once the weights bring their own architecture (a `suite pretrain` folder's config.json,
        a hub snapshot): size "checkpoint", whose params (the folder's, else the card's) replace the card's size."""
        where = f"weights {model['weights']['local']}"
        base = f"{where} (config.json)" if model["params"] != spec.params else f"model card {spec.name}: params"
        layers = _Layers()
        layers.add(model["params"], base)
        card_layers = (f"model card {spec.name}: params", f"model card {spec.name}: sizes.{self.size}")
        later = {k: v for k, v in self.params.items() if self.sources[f"model.{k}"] not in card_layers}
        for key, value in later.items():
            layers.add({key: value}, self.sources[f"model.{key}"])
        sources = {k: v for k, v in self.sources.items() if not k.startswith("model.")}
        return dataclasses.replace(self, size=model["default_size"], params=layers.values,
                                   sources={**sources, "size": where,
                                            **{f"model.{k}": s for k, s in layers.sources.items()}})


def resolve_settings(spec: ModelSpec, task: TaskSpec | None, profile_name: str, sets: dict, mode: str = "finetune",
                     applied: dict | None = None, study: str | None = None) -> Settings:
    """The layers of the module docstring, for `spec` on `task` (None: the per-task layers left out, as `suite models
    show` without --task). `sets` are --set's; `applied`, what `suite sweep --apply` wrote (its `study`), under them.
    An unknown or ill-typed setting is refused here, in one line."""
    card = f"model card {spec.name}"
    profile = get_profile(profile_name)
    given = {**(applied or {}), **sets}

    def given_by(key: str) -> str:
        return "--set" if key in sets else f"sweep {study} (applied)"

    training = spec.training
    hp = _Layers()
    hp.add(DEFAULTS, "FitConfig default")
    hp.add(RUN_SETTINGS, "run default")
    hp.add(training.get("finetune", {}), f"{card}: training.finetune")
    if mode == "probe":
        hp.add(training.get("probe", {}), f"{card}: training.probe")
    source = given.get("recipe_source", hp.values["recipe_source"])
    if source not in RECIPE_SOURCES:
        raise SuiteError(f"--set recipe_source={source}: unknown", f"choose one of {', '.join(RECIPE_SOURCES)}")
    if profile.name == "paper" and training.get("follows_paper") and task is not None:
        if task.paper is not None:
            hp.add({k: getattr(task.paper, k) for k in PAPER_KEYS}, f"task card {task.name} (paper recipe)")
        if mode == "finetune" and source == "authors":
            hp.add(training.get("tasks", {}).get(task.name, {}), f"{card}: training.tasks.{task.name}")
    for key, cap in profile.caps.items():
        if hp.values.get(key) is None or hp.values[key] > cap:
            hp.add({key: cap}, f"profile {profile.name} (cap)")
    hp.add(profile.sets, f"profile {profile.name}")
    hp.add(training.get(profile.name, {}), f"{card}: training.{profile.name}")
    backbone = {}
    for key, value in given.items():
        if key.startswith("model."):
            backbone[key[len("model."):]] = value
        elif key in DEFAULTS or key in RUN_SETTINGS:
            hp.add({key: value}, given_by(key))
        elif key in CARD_SETTINGS:
            valid = {"head": HEAD_NAMES, "pooling": POOLING_NAMES}.get(key)
            if valid and value not in valid:
                raise SuiteError(f"--set {key}={value}: unknown", f"choose one of {', '.join(valid)}")
        elif key == "network":
            if not isinstance(value, str) or not value:
                raise SuiteError(f"--set network={value}: not a network name", "use network=teacher or network=student")
        elif key not in ("size", "weights"):
            guess = closest(key, known_settings())
            raise SuiteError(f"--set {key}: unknown setting", f"did you mean '{guess}'?" if guess else
                             f"settings: {', '.join(sorted([*DEFAULTS, *RUN_SETTINGS]))}, size, weights, network, "
                             "head, pooling, model.<backbone key>")
    check_settings(hp.values)

    if sets.get("size"):
        size, size_from = sets["size"], "--set"
    elif profile.model_size in spec.size_names:
        size, size_from = profile.model_size, f"profile {profile.name}"
    else:
        size, size_from = spec.default_size, f"{card}: default_size"
    weights, weights_from = weights_choice(spec, sets, profile)
    if task is None:
        recipe, recipe_from = {}, ""
    elif profile.name == "paper" and task.name in spec.recipes:
        recipe, recipe_from = dict(spec.recipes[task.name]), f"{card}: recipes.{task.name} (paper profile)"
    else:
        recipe, recipe_from = {"max_len": task.max_bp}, f"task card {task.name}: max_bp"
    params = _Layers()
    params.add(spec.params, f"{card}: params")
    params.add(spec.sizes.get(size, {}), f"{card}: sizes.{size}")
    params.add(spec.fidelity.get("backbone", {}), f"{card}: fidelity.backbone")
    for key, value in backbone.items():
        params.add({key: value}, given_by(f"model.{key}"))
    params.add(recipe, recipe_from)
    chosen = _Layers()
    chosen.add({k: getattr(spec, k) for k in CARD_SETTINGS}, card)
    for key in (k for k in CARD_SETTINGS if k in given):
        chosen.add({key: given[key]}, given_by(key))
    sources = {**hp.sources, "seed": "--seeds", "size": size_from, "weights": weights_from,
               **({"network": given_by("network")} if "network" in given else {}), **chosen.sources,
               **{f"model.{k}": s for k, s in params.sources.items()}}
    return Settings(hp.values, backbone, size, weights, given.get("network"), recipe, chosen.values, params.values,
                    sources)


def weights_choice(spec: ModelSpec, sets: dict, profile) -> tuple[str, str]:
    """(weights, source): `card`, `none` or a folder (--set weights=…, else the profile's); models without
    pretrained weights (baselines) always start from random init."""
    if spec.weights.is_random:
        return "none", f"model card {spec.name}: no pretrained weights"
    return (sets["weights"], "--set") if sets.get("weights") else (profile.weights, f"profile {profile.name}")


def settings_table(title: str | None, labels: tuple[str, ...], groups: Iterable[tuple[tuple, Iterable[tuple]]]) -> Table:
    """The table of settings that `suite run --explain`, `suite models show` and each trial's settings.tsv print:
    per group, its labels (model and task, or profile) on its first row (show with `repeat=labels`), then each
    (setting, value as --set would write it, source)."""
    table = Table(title=title)
    for column in (*labels, "setting", "value", "source"):
        table.add_column(column)
    for named, rows in groups:
        for i, (key, value, source) in enumerate(rows):
            table.add_row(*(escape(str(c)) if i == 0 else "" for c in named), escape(key),
                          escape(value if isinstance(value, str) else json.dumps(value)), escape(source))
    return table


def explain_table(trials: Iterable) -> Table:
    """`suite run --explain`: the settings of each model x task the plan holds, with the seeds of all its trials."""
    pairs: dict = {}
    for trial in trials:
        pairs.setdefault((trial.model_name, trial.task_name), []).append(trial)
    groups = [(pair, [(key, ",".join(dict.fromkeys(str(t.seed) for t in group)) if key == "seed" else value, source)
                      for key, value, source in group[0].settings]) for pair, group in pairs.items()]
    return settings_table(f"settings and their sources: {len(pairs)} model x task", ("model", "task"), groups)


def settings_tsv(rows: Iterable[tuple]) -> str:
    """settings.tsv, each trial's artifact: its settings as `--explain --format tsv` prints them."""
    out = io.StringIO()
    show(settings_table(None, (), [((), rows)]), Console(file=out), "tsv")
    return out.getvalue()
