"""expand(request) → Plan: one TrialSpec per (model, task, seed, fold), each with a stable run key.

Settings resolve here, once per model x task (suite/runs/settings.py `resolve_settings` gives the layers and
records where each value came from; every trial carries that table). Weights are then found, which for a
checkpoint or hub snapshot fixes the size.
The run key hashes everything that can move a score: the model card, the merged hyperparameters and backbone
overrides, the task name and version, the sha256 of every data split used, seed, fold, mode and code version.
Nothing after planning reads cards, files or environment variables: a TrialSpec carries all of it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from suite.data.cache import cache_dir, digest
from suite.data.sources import locate
from suite.errors import CorruptData, DataNotFound, MissingWeights, SuiteError
from suite.models import get_model_spec
from suite.models.weights import WEIGHT_FILES, weights_sha
from suite.provenance import code_identity, code_version, key_of
from suite.runs.profiles import get_profile
from suite.runs.request import MODES, RunRequest
from suite.runs.settings import resolve_settings, weights_choice
from suite.tasks import select_tasks
from suite.tasks.spec import TaskSpec
from suite.tracking import Tag, TrialRun


@dataclass(frozen=True)
class TrialSpec:
    """Everything one trial needs, as plain JSON-able data (it travels to Ray workers as a dict)."""

    key: str
    parent_key: str
    model_name: str
    model: dict  # the model card (ModelSpec as a dict)
    size: str
    weights: str  # "card" | "none" | a checkpoint folder (--set weights=PATH)
    recipe: dict  # task-level backbone settings: the card's recipe for the task, or {"max_len": task max_bp}
    backbone: dict  # backbone overrides (--set model.*)
    task_name: str
    task: dict  # the task card (TaskSpec as a dict)
    mode: str
    seed: int
    fold: int | None
    n_folds: int | None
    profile: str
    hparams: dict
    data: dict  # split → {"path", "sha256"}
    cache_dir: str
    code_version: str  # the commit (provenance: the suite.git tag)
    tags: dict = field(default_factory=dict)
    settings: list = field(default_factory=list)  # (setting, value, source) rows: suite/runs/settings.py
    code_identity: str = ""  # the package's code as the run key holds it (suite/provenance.py code_identity)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrialSpec:
        return cls(**data)

    def tracked(self) -> TrialRun:
        """The trial's MLflow run: its name, tags and params (suite/tracking.py RunTracker writes them)."""
        tags = {Tag.RUN_KEY: self.key, Tag.PARENT_KEY: self.parent_key, Tag.MODEL: self.model_name,
                Tag.TASK: self.task_name, Tag.BENCHMARK: self.tags.get("benchmark", ""),
                Tag.METRIC: self.tags.get("metric", ""), Tag.SEED: str(self.seed),
                Tag.FOLD: "" if self.fold is None else str(self.fold), Tag.MODE: self.mode, Tag.PROFILE: self.profile,
                Tag.SIZE: self.size, Tag.WEIGHTS: self.weights, Tag.GIT: self.code_version,
                Tag.DATA_SHA256: ",".join(f"{s}:{d['sha256'][:16]}" for s, d in self.data.items()),
                **{Tag.named(k): str(v) for k, v in self.tags.items() if k not in ("benchmark", "metric")}}
        name = f"{self.model_name} · {self.task_name} · seed {self.seed}" + (
            f" · fold {self.fold}" if self.fold is not None else "")
        return TrialRun(name, tags, {**self.hparams, "model": self.model_name, "size": self.size,
                                     "pooling": self.model.get("pooling"), "head": self.model.get("head"),
                                     "backbone": self.backbone, "recipe": self.recipe, "task": self.task_name})


@dataclass(frozen=True)
class Missing:
    """An input that is not on this machine, so the plan refused what needs it: a task's data or a model's
    weights. Kept apart from other refusals so the command line can say them once, with the command that
    fetches them (suite/runs/missing.py), instead of once per task or per model x task."""

    kind: str  # "data" | "weights"
    name: str  # the task (data) or the model card (weights)
    reason: str  # the refusal's line: every place looked in and how to get it


@dataclass
class Plan:
    trials: list[TrialSpec]
    refused: list[tuple[str, str]]  # (task, one-line reason)
    missing: list[Missing] = field(default_factory=list)  # the refusals that are data or weights not found here


def check_backbone_fits(model: dict, size: str, recipe: dict, backbone: dict) -> None:
    """Refuse, before anything runs, backbone params the family does not take and a pooling the backbone cannot
    feed (the backbone contract, suite/models/contract.py): the backbone is built on the meta device (no memory,
    no weights) and its family's declaration asked."""
    import torch

    from suite.cards import build
    from suite.models import build_backbone
    from suite.models.contract import backbone_outputs, check_pooling
    from suite.models.spec import ModelSpec

    spec = build(ModelSpec, model, f"model '{model['name']}'")
    with torch.device("meta"):
        network = build_backbone(spec, size, recipe, backbone)
    check_pooling(spec.pooling, backbone_outputs(network), f"model '{spec.name}'")


def task_data(task: TaskSpec, data_dir: str | None, splits: tuple[str, ...] | None = None,
              allow_unverified: bool = False) -> dict:
    """split → {path, sha256, rows} for the splits a trial reads (train, dev when the task has one, test; a sweep
    reads train only). A split that MANIFEST.tsv lists must have its sha256 (then its row count is the listed one),
    unless `allow_unverified` (data changed on purpose); rows is None for a split the manifest does not list."""
    from suite.data.verify import manifest_entry

    data = {}
    for split in splits or task.splits:
        path = locate(task, split, data_dir).path
        sha = digest(path)
        listed = manifest_entry(path, data_dir)
        if listed and listed[1] != sha and not allow_unverified:
            raise CorruptData(f"{task.name} {split}: sha256 {sha[:12]}… differs from MANIFEST.tsv ({listed[1][:12]}…)",
                              "restore the file (suite data verify names it) or pass --allow-unverified")
        data[split] = {"path": str(path.resolve()), "sha256": sha, "rows": listed[0] if listed and listed[1] == sha
                       else None}
    return data


def applied_params(applied_dir: str | None, model: str, task: str) -> tuple[dict, str | None]:
    """(settings, study) that `suite sweep --apply` wrote for this model x task, or ({}, None)."""
    import yaml

    path = Path(applied_dir) / f"{model}__{task}.yaml" if applied_dir else None
    if path is None or not path.is_file():
        return {}, None
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data.get("params"), dict):
        raise SuiteError(f"{path} holds no `params:` mapping", "re-run `suite sweep --apply` or delete the file")
    return data["params"], str(data.get("study", path.stem))


def resolve_weights(model: dict, weights: str, network: str | None = None) -> tuple[dict, str | None]:
    """The model dict with an absolute weights path, and the weights file's sha256 (None for random init).

    `weights` is "card", "none" or a checkpoint folder (e.g. written by `suite pretrain`); a folder's
    config.json, when it has one, gives the backbone configuration the weights were trained with (its
    `backbone_params`), which then replaces the card's sizes. Missing weights are refused here, before anything
    runs. `network` picks one of the networks such a folder exported (config.json `networks`: teacher and
    student after self-distillation, paper Table 9); None = the card's file (FinDNA: the teacher)."""
    from suite.models.spec import WeightsSpec

    spec = WeightsSpec(**model["weights"])
    if spec.is_hub and weights != "none":
        return _resolve_hub(model, spec, weights)
    if weights not in ("card", "none"):
        spec = WeightsSpec(**{**model["weights"], "local": weights})
        if spec.is_random:
            raise SuiteError(f"--set weights={weights}: not a folder", "use weights=card, weights=none or a path")
    if weights == "none" or spec.is_random:
        if network:
            raise SuiteError(f"--set network={network} with random initialisation", "drop network, or give weights")
        return model, None
    meta = _checkpoint_meta(Path(spec.local))
    if weights != "card" and "backbone_params" in meta:
        model = {**model, "params": meta["backbone_params"], "sizes": {"checkpoint": {}}, "default_size": "checkpoint"}
    if network:
        spec = _network_file(spec, network, model["name"], meta.get("networks", {}))
        model = {**model, "weights": {**model["weights"], "file": spec.file}}
    path = (Path(spec.local) / spec.file).resolve()
    if not path.is_file():
        raise MissingWeights(
            f"model '{model['name']}': pretrained weights not found: {path}",
            "run `suite pretrain` to write them, use --profile quick, or --set weights=none for random init",
        )
    model = {**model, "weights": {**model["weights"], "local": str(path.parent)}}
    return model, weights_sha(path)


def _checkpoint_meta(folder: Path) -> dict:
    """config.json of a `suite pretrain` folder (backbone_params, networks, …), read once; {} when there is none."""
    import json

    config = folder / "config.json"
    return json.loads(config.read_text()) if config.is_file() else {}


def _network_file(spec, network: str, model_name: str, networks: dict):
    """The WeightsSpec of one named network of a `suite pretrain` folder, or a one-line error naming the choices."""
    if network not in networks:
        raise SuiteError(f"model '{model_name}': no '{network}' network in {Path(spec.local).resolve()}"
                         + (f" (it has {', '.join(networks)})" if networks else " (no config.json networks)"),
                         "pretrain with a teacher (findna, findna-t) for teacher and student, or drop --set network")
    return dataclasses.replace(spec, file=networks[network])


def _resolve_hub(model: dict, spec, weights: str) -> tuple[dict, str]:
    """A hub card: its snapshot folder found offline now (suite/models/hub.py), or the trial is refused.

    The snapshot's config.json fixes the architecture, so the card's sizes give way to one size "checkpoint"
    (as for a checkpoint folder); the run key hashes the weights file (or the shard index)."""
    from suite.models.hub import is_snapshot, resolve_snapshot
    from suite.models.spec import WeightsSpec

    if weights != "card":  # an explicit folder is the only place looked in: never other weights silently

        if not is_snapshot(Path(weights)):
            raise MissingWeights(f"--set weights={weights}: not a snapshot folder (config.json + "
                                 f"{' or '.join(WEIGHT_FILES)}) for model '{model['name']}'",
                                 f"point it at a `save_pretrained` folder, or run `suite models fetch {model['name']}`")
        spec = WeightsSpec(**{**model["weights"], "local": weights})
    snapshot = resolve_snapshot(spec, model["name"])
    model = {**model, "weights": {**model["weights"], "local": str(snapshot)},
             "sizes": {"checkpoint": {}}, "default_size": "checkpoint"}
    return model, weights_sha(snapshot)


def missing_weights(models, request: RunRequest, profile, known: list[Missing]) -> list[Missing]:
    """The models whose weights are not here, among those not yet in `known`; looked up when a task's data is
    missing (its model x task pairs are never reached), so that one summary can name both. Nothing is refused
    by it: a task without data refuses its trials already."""
    found = []
    for spec in models:
        if any(m.kind == "weights" and m.name == spec.name for m in known):
            continue
        weights, _ = weights_choice(spec, request.sets, profile)
        try:
            resolve_weights(dataclasses.asdict(spec), weights, request.sets.get("network"))
        except MissingWeights as exc:
            found.append(Missing("weights", spec.name, exc.line()))
        except SuiteError:
            pass  # refused for another reason when a task with data reaches it
    return found


def expand(request: RunRequest, splits: tuple[str, ...] | None = None) -> Plan:
    request.check()
    if request.mode not in MODES:
        raise SuiteError(f"unknown mode '{request.mode}'", "use --mode finetune or --mode probe")
    if request.fold is not None and (request.folds is None or not 0 <= request.fold < request.folds):
        raise SuiteError(f"--fold {request.fold} needs --folds K with 0 <= fold < K", "e.g. --folds 5 --fold 0")
    profile = get_profile(request.profile)
    models = [get_model_spec(name) for name in request.models]
    tasks = select_tasks(request.tasks)
    folds = [request.fold] if request.fold is not None else list(range(request.folds)) if request.folds else [None]
    trials, refused, missing = [], [], []
    version, identity_version = code_version(), code_identity()
    for task in tasks:
        try:
            data = task_data(task, request.data_dir, splits, request.allow_unverified)
        except SuiteError as exc:
            refused.append((task.name, exc.line()))
            if isinstance(exc, DataNotFound):
                missing.append(Missing("data", task.name, exc.line()))
            continue
        train_rows = data.get("train", {}).get("rows")
        if request.folds and train_rows is not None and \
                min(train_rows, request.sets.get("max_train_rows") or train_rows) // request.folds < 2:
            refused.append((task.name, f"--folds {request.folds} leaves validation folds of under 2 rows "
                                       f"({min(train_rows, request.sets.get('max_train_rows') or train_rows)} train rows); use fewer folds"))
            continue
        for spec in models:
            applied, params_from = applied_params(request.applied_dir, spec.name, task.name)
            settings = resolve_settings(spec, task, profile.name, request.sets, request.mode, applied, params_from)
            hparams, backbone, recipe, network, weights = (settings.hparams, settings.backbone, settings.recipe,
                                                           settings.network, settings.weights)
            try:
                model_dict, weights_sha = resolve_weights(dataclasses.asdict(spec), weights, network)
            except SuiteError as exc:
                refused.append((f"{spec.name} on {task.name}", exc.line()))
                if isinstance(exc, MissingWeights):
                    missing.append(Missing("weights", spec.name, exc.line()))
                continue
            if "checkpoint" in model_dict["sizes"]:
                settings = settings.at_checkpoint(spec, model_dict)
            size = settings.size
            model_dict = {**model_dict, **settings.card}
            try:
                check_backbone_fits(model_dict, size, recipe, backbone)
            except SuiteError as exc:
                refused.append((f"{spec.name} on {task.name}", exc.line()))
                continue
            parent_key = key_of([spec.name, task.name, request.mode, profile.name, size, weights]
                                + ([network] if network else []))
            for seed in request.seeds:
                for fold in folds:
                    identity = {
                        "model": model_dict, "size": size, "weights": weights, "recipe": recipe, "weights_sha256": weights_sha,
                        "backbone": backbone, "hparams": hparams, "task": task.name, "task_version": task.version,
                        "data": {s: d["sha256"] for s, d in data.items()}, "seed": seed, "fold": fold,
                        "n_folds": request.folds, "mode": request.mode, "code_version": identity_version,
                    }
                    trials.append(TrialSpec(
                        key=key_of(identity), parent_key=parent_key, model_name=spec.name, model=model_dict,
                        size=size, weights=weights, recipe=recipe, backbone=backbone, task_name=task.name,
                        task=dataclasses.asdict(task), mode=request.mode, seed=seed, fold=fold,
                        n_folds=request.folds, profile=profile.name, hparams={**hparams, "seed": seed}, data=data,
                        cache_dir=str(cache_dir().resolve()), code_version=version, code_identity=identity_version,
                        tags={"benchmark": task.benchmark, "metric": task.metric,
                              **({"params_from": params_from} if params_from else {}),
                              **({"unverified": "allowed"} if request.allow_unverified else {}),
                              **({"network": network} if network else {}), **request.tags,
                              **({"drop_duplicates": "true"} if hparams.get("drop_duplicates") else {})},
                        settings=settings.rows(seed),
                    ))
    if any(m.kind == "data" for m in missing):  # model x task pairs never reached: are the weights here?
        missing += missing_weights(models, request, profile, missing)
    return Plan(trials, refused, missing)
