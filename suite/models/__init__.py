"""The model registry: model cards under models/, the FAMILIES registry, and `build_model`.

- Listing cards (`all_models`, `get_model_spec`) imports only the standard library and PyYAML, never torch.
- Names users say for a model (`hyenadna`, `nt`, `dnabert` …) are aliases in models/aliases.csv, each naming the
  card the FinDNA paper's tables compare with and why; `resolve_model_name` says which one was used.
- A family is a module `suite/models/families/<name>.py` whose `build(params, recipe, source)` is registered
  with `@FAMILIES.register("<name>")` and returns a backbone honouring the contract of suite/models/contract.py
  (what `forward` returns, the `OUTPUTS` each family declares, the poolings that allows).
  The family modules are imported on first build (pkgutil scan of families/), so torch loads only then.
- `build_model(spec, n_classes)` = backbone + pooling + head as a SequenceClassifier (style §6.5).
- Hub models (cards with `weights.hub_id`, suite/models/hub.py): `build_model` resolves the snapshot folder
  (offline) and hands it to the family as `params["snapshot"]`; the family then builds the architecture from the
  snapshot's config.json, its tokenizer from the snapshot's tokenizer files and loads the weights itself (checked
  key by key). Without a snapshot (`weights=False`, `suite models` on the meta device) it builds the card's
  published architecture at random init.
- `parameter_counts(spec)` (what `suite models` shows) counts each size's built backbone once and keeps the
  count under the cache folder, keyed by the card's config and the code that builds it; later listings import no
  torch.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
import os
import pkgutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from suite.cards import card_dir, check_name, load_cards
from suite.errors import CardError, SuiteError, UnknownName
from suite.models.contract import READS
from suite.models.spec import MATCHES, ModelSpec, WeightsSpec
from suite.registry import Registry

if TYPE_CHECKING:
    from suite.models.classifier import SequenceClassifier

FAMILIES: Registry = Registry("model family")
FAMILY_DIR = Path(__file__).parent / "families"
POOLING_NAMES = tuple(READS)  # checked against pooling.POOLINGS by a test
HEAD_NAMES = ("linear", "mlp")  # checked against heads.HEADS by a test
ALIASES_FILE = "aliases.csv"  # names users say (hyenadna, nt, dnabert …) → the card FinDNA's tables compare with

__all__ = ["FAMILIES", "ModelSpec", "WeightsSpec", "all_models", "get_model_spec", "model_aliases",
           "resolve_model_name", "build_backbone", "build_model", "ParameterCount", "parameter_counts"]


def family_names() -> list[str]:
    """Family modules on disk (no import)."""
    return sorted(m.name for m in pkgutil.iter_modules([str(FAMILY_DIR)]) if not m.name.startswith("_"))


@cache
def all_models() -> dict[str, ModelSpec]:
    """Every model card, by name, in file order."""
    return load_cards("models", ModelSpec, _check)


def _check(spec: ModelSpec, path: Path) -> None:
    check_name(spec.name, str(path))
    if spec.family not in family_names():
        raise UnknownName(f"model family in {path}", spec.family, family_names())
    if spec.pooling not in POOLING_NAMES:
        raise UnknownName(f"pooling in {path}", spec.pooling, POOLING_NAMES)
    if spec.head not in HEAD_NAMES:
        raise UnknownName(f"head in {path}", spec.head, HEAD_NAMES)
    if spec.weights.match not in MATCHES:
        raise UnknownName(f"weights.match in {path}", spec.weights.match, MATCHES)
    for size, overrides in spec.sizes.items():
        check_name(size, f"{path}: sizes")
        if not isinstance(overrides, dict):
            raise CardError(f"{path}: sizes.{size} must be a mapping", "write it as `{key: value, ...}`")
    if spec.default_size != "paper" and spec.default_size not in spec.sizes:
        raise UnknownName(f"default_size in {path}", spec.default_size, list(spec.sizes))
    for task, recipe in spec.recipes.items():
        if not isinstance(recipe, dict):
            raise CardError(f"{path}: recipes.{task} must be a mapping", "write it as `{key: value, ...}`")
    check_training(spec.training, str(path))
    if not isinstance(spec.fidelity.get("backbone", {}), dict):
        raise CardError(f"{path}: fidelity.backbone must be a mapping", "write it as `{key: value, ...}`")


TRAINING_BLOCKS = ("finetune", "probe", "quick", "paper")  # a mode's or a profile's settings


def check_training(training: dict, source: str) -> None:
    """A card's `training:` block: `finetune:` (required), `probe:`, `quick:`/`paper:` (a profile's settings for this
    model), `tasks:` (per-task settings from the authors' configs, paper profile), `follows_paper:` (the task card's
    `paper:` recipe applies). Every leaf key is a trainer setting; anything else is an error naming the closest key."""
    from suite.errors import closest
    from suite.train.config import FIT_KEYS, RUN_SETTINGS

    EXTRA_TRAINING_KEYS = tuple(RUN_SETTINGS)

    def leaf(block: object, where: str) -> None:
        if not isinstance(block, dict):
            raise CardError(f"{source}: {where} must be a mapping", "write it as `{key: value, ...}`")
        for key in block:
            if key not in FIT_KEYS + EXTRA_TRAINING_KEYS:
                guess = closest(str(key), [*FIT_KEYS, *EXTRA_TRAINING_KEYS])
                raise CardError(f"{source}: unknown key '{key}' in {where}",
                                f"did you mean '{guess}'?" if guess else f"use one of {', '.join(FIT_KEYS)}")

    if not isinstance(training, dict) or "finetune" not in training:
        raise CardError(f"{source}: `training:` needs a `finetune:` block (the model's downstream settings)",
                        "add `training: {finetune: {lr: ..., batch_size: ..., epochs: ...}}`")
    for key, block in training.items():
        if key in TRAINING_BLOCKS:
            leaf(block, f"training.{key}")
        elif key == "tasks":
            if not isinstance(block, dict):
                raise CardError(f"{source}: training.tasks must be a mapping of task → settings", "fix the card")
            for task, settings in block.items():
                leaf(settings, f"training.tasks.{task}")
        elif key == "follows_paper":
            if not isinstance(block, bool):
                raise CardError(f"{source}: training.follows_paper must be true or false", "fix the card")
        else:
            guess = closest(str(key), [*TRAINING_BLOCKS, "tasks", "follows_paper"])
            raise CardError(f"{source}: unknown key '{key}' in training", f"did you mean '{guess}'?" if guess else
                            "use finetune, probe, quick, paper, tasks or follows_paper")


@dataclass(frozen=True)
class Alias:
    """A name users say for a model (a family, a paper's row label) and the card it means."""

    name: str
    card: str
    why: str

    def line(self) -> str:
        return f"{self.name} → {self.card} ({self.why})"


@cache
def model_aliases() -> dict[str, Alias]:
    """models/aliases.csv: name → Alias (read_aliases)."""
    path = card_dir("models") / ALIASES_FILE
    return read_aliases(path, all_models()) if path.is_file() else {}


def read_aliases(path: Path, models: dict[str, ModelSpec]) -> dict[str, Alias]:
    """An aliases file (columns alias, card, why): each alias a valid name that is no card's name and not listed
    twice, naming an existing card, with a why; anything else is a CardError naming the file."""
    import csv

    aliases: dict[str, Alias] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            alias = Alias(*((row.get(key) or "").strip() for key in ("alias", "card", "why")))
            check_name(alias.name, str(path))
            if alias.name in models or alias.name in aliases:
                raise CardError(f"{path}: alias '{alias.name}' is already a card or an alias", "remove the row")
            if alias.card not in models:
                raise UnknownName(f"card of alias '{alias.name}' in {path}", alias.card, models)
            if not alias.why:
                raise CardError(f"{path}: alias '{alias.name}' says no why", "say which paper row it stands for")
            aliases[alias.name] = alias
    return aliases


def resolve_model_name(name: str) -> tuple[str, Alias | None]:
    """(card name, the Alias used or None) for a card name or an alias (case-insensitive; '-' reads as '_')."""
    models, aliases = all_models(), model_aliases()
    key = name.strip().lower().replace("-", "_")
    if key in models:
        return key, None
    if key in aliases:
        return aliases[key].card, aliases[key]
    raise UnknownName("model", name, [*models, *aliases])


def get_model_spec(name: str) -> ModelSpec:
    """A model card by name or alias (case-insensitive; '-' reads as '_')."""
    return all_models()[resolve_model_name(name)[0]]


@cache
def load_families() -> None:
    """Import every module in families/ once, so their @FAMILIES.register decorators run."""
    for name in family_names():
        importlib.import_module(f"suite.models.families.{name}")


def backbone_params(spec: ModelSpec, size: str | None = None, overrides: dict | None = None) -> dict:
    """The backbone config of one size: params ⊕ sizes[size] ⊕ fidelity['backbone'] ⊕ overrides."""
    size = size or spec.default_size
    if size != "paper" and size not in spec.sizes:
        raise UnknownName(f"size of model '{spec.name}'", size, spec.size_names)
    return {**spec.params, **spec.sizes.get(size, {}), **spec.fidelity.get("backbone", {}), **(overrides or {})}


def build_backbone(spec: ModelSpec, size: str | None = None, recipe: str | dict | None = None,
                   overrides: dict | None = None):
    """The backbone alone (random init). `recipe` names a task in the card's `recipes:` (facts §5.3), or is
    the task-level settings themselves (a dict, e.g. {"max_len": 101} from the run plan); a named task the card
    has no recipe for is an error, so nothing falls back silently. A recipe adapts the network to a task
    (length, depth, dropout) but keeps the size's width, so pretrained weights still fit (facts §5.1)."""
    load_families()
    family = FAMILIES.get(spec.family)
    task_recipe = None
    if isinstance(recipe, dict):
        task_recipe = recipe
    elif recipe is not None:
        if recipe not in spec.recipes:
            raise UnknownName(f"recipe of model '{spec.name}'", recipe, spec.recipes)
        task_recipe = spec.recipes[recipe]
    return family(backbone_params(spec, size, overrides), task_recipe, f"model card '{spec.name}'")


COUNTS_FOLDER = "parameter_counts"  # under the suite's cache folder (SUITE_CACHE_DIR): one JSON file per count


@dataclass(frozen=True)
class ParameterCount:
    """What `suite models` shows of one card's size: the backbone's parameters (`numel` summed over
    `parameters()`), and where the family counts like its authors (`authors_parameter_count`), that count and the
    backbone width it adds its Linear(width→5) head to."""

    backbone: int
    authors: int | None = None
    width: int | None = None


def parameter_counts(spec: ModelSpec) -> dict[str, ParameterCount]:
    """Every size's ParameterCount (`spec.size_names` order), without building a module when it was counted before.

    Why a cache and not arithmetic on the card: a count is only exact if it comes from the module itself. A formula
    per family would be a second description of nine architectures (BERT, ESM, Hyena, ChordMixer …) to keep in step
    with families/, wrong the day one of them changes. So the count is the built module's (`count_parameters`,
    on the meta device), done once and stored under the cache folder, keyed by what determines it: the family, the
    size's resolved backbone config, and a fingerprint of the code that builds it (`_code_fingerprint`). Editing a
    card or a family's code changes the key, so a stale count is never shown; the first `suite models` after such
    a change (or on a fresh machine) pays the build of what changed (torch and transformers imports, seconds),
    every later one reads JSON files and imports no torch. A cache folder that cannot be written only costs the
    rebuild."""
    folder = _counts_folder()
    counts = {}
    for size in spec.size_names:
        path = folder / f"{_count_key(spec, size)}.json"
        try:
            counts[size] = ParameterCount(**json.loads(path.read_text()))
            continue
        except (OSError, ValueError, TypeError):  # not counted yet, or a file that is not a count: count again
            pass
        counts[size] = count_parameters(spec, size)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            part = path.with_suffix(f".{os.getpid()}.part")
            part.write_text(json.dumps(dataclasses.asdict(counts[size])))
            part.replace(path)  # atomic: a concurrent reader sees the whole file or none
        except OSError:
            pass
    return counts


def count_parameters(spec: ModelSpec, size: str) -> ParameterCount:
    """The count of the built backbone of one size (on the meta device: shapes only, no memory, no init)."""
    import torch

    with torch.device("meta"):
        backbone = build_backbone(spec, size)
    authors = backbone.authors_parameter_count() if hasattr(backbone, "authors_parameter_count") else None
    return ParameterCount(sum(p.numel() for p in backbone.parameters()), authors,
                          int(backbone.width) if authors is not None else None)


def _counts_folder() -> Path:
    from suite.data.cache import cache_dir

    return cache_dir() / COUNTS_FOLDER


def _count_key(spec: ModelSpec, size: str) -> str:
    what = {"family": spec.family, "params": backbone_params(spec, size), "code": _code_fingerprint()}
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=repr).encode()).hexdigest()


@cache
def _code_fingerprint() -> str:
    """sha256 of everything a backbone's shape can depend on: the sources under suite/models/ (families, contract,
    wrappers), suite/cards.py (families read their configs through it), and the installed torch and transformers
    versions (hub families build transformers' classes). Reading ~25 small files costs milliseconds."""
    from importlib.metadata import PackageNotFoundError, version

    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in sorted([*here.rglob("*.py"), here.parent / "cards.py"]):
        digest.update(str(path.relative_to(here.parent)).encode() + b"\0" + path.read_bytes() + b"\0")
    for package in ("torch", "transformers"):
        try:
            digest.update(f"{package}=={version(package)}".encode())
        except PackageNotFoundError:
            digest.update(f"{package} absent".encode())
    return digest.hexdigest()


def build_model(
    spec: ModelSpec,
    task_n_classes: int,
    *,
    size: str | None = None,
    recipe: str | dict | None = None,
    overrides: dict | None = None,
    weights: bool = True,
) -> SequenceClassifier:
    """Backbone (+ pretrained weights unless `weights=False` or the card says `local: none`) + pooling + head.

    Missing weights are an error (never a silent random init): run `suite pretrain` or set `local: none`.
    """
    from suite.models.classifier import SequenceClassifier

    if weights and spec.weights.is_hub:
        from suite.models.hub import resolve_snapshot

        overrides = {**(overrides or {}), "snapshot": str(resolve_snapshot(spec.weights, spec.name))}
    backbone = build_backbone(spec, size, recipe, overrides)
    model = SequenceClassifier(
        backbone, task_n_classes, pooling=spec.pooling, head=spec.head,
        head_hidden=spec.head_hidden, head_dropout=spec.head_dropout,
    )
    if weights and not spec.weights.is_random and not spec.weights.is_hub:  # hub families load their own
        load_card_weights(model.backbone, spec.weights)
    return model


def load_card_weights(backbone, weights: WeightsSpec):
    """A card's pretrained weights (e.g. `suite pretrain`'s teacher) into the backbone, keys under `prefix` with it
    stripped, matched `exact` or `intersect` (suite/models/weights.py); returns its LoadReport."""
    from suite.models.weights import load_into, prefixed, read_tensors, weights_sha

    path = Path(weights.local) / weights.file
    if not path.is_file():
        raise SuiteError(
            f"pretrained weights not found: {path}",
            "run `suite pretrain` to write them, or set `weights: {local: none}` in the card for random init",
        )
    fix = ("build the model with the pretraining config (size, max_len, layers), check the card's weights.prefix "
           "and family, or set weights.match: intersect")
    state = read_tensors(path, fix)
    if hasattr(backbone, "adapt_pretrained"):  # e.g. a position table pretrained on longer windows (transformer.py)
        state = backbone.adapt_pretrained(state)
    report = load_into(backbone, state, source=f"pretrained weights {path}", match=weights.match,
                       rename=prefixed(weights.prefix) if weights.prefix else None, fix=fix)
    return dataclasses.replace(report, sha256=weights_sha(path))
