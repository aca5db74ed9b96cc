"""run_trial(spec) → TrialResult: one model trained and tested on one task for one seed (and fold).

The only function Ray calls, and a plain function: tests and `--no-ray` call it directly. `--no-ray` runs every
trial in the driver's one process, and a Ray worker runs trial after trial (suite/runs/fanout.py), so each starts from
the process-wide state a new process has (`reset_process_state`): its result is the same whichever trials ran
before it in that process.
Validation comes from the training side only: the task's official dev split (GUE), else fold k of a
stratified k-fold of train (--folds), else a seeded stratified held-out fraction of train. The best state,
chosen on validation, is evaluated once on test. Artifacts go to `out_dir`: predictions.csv, confusion.csv,
history.csv, trial.json (the whole resolved TrialSpec) and settings.tsv (every setting with its source).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from suite.cards import build
from suite.data.batching import collate
from suite.data.cache import load_split, load_tokens
from suite.data.splits import kfold, validation_split
from suite.errors import InvalidResult, SuiteError
from suite.models import build_model
from suite.models.spec import ModelSpec
from suite.runs.plan import TrialSpec
from suite.runs.settings import settings_tsv
from suite.tasks.spec import TaskSpec
from suite.train import cost
from suite.train.embeddings import embed_splits, probe_identity
from suite.train.evaluate import SplitData, evaluate
from suite.train.loop import FitConfig, device_for, fit, planned_epochs, seed_everything
from suite.train.metrics import confusion


@dataclass
class TrialResult:
    key: str
    test: dict  # test metrics of the best (validation-chosen) state
    val: dict  # validation metrics of that state
    best_epoch: int
    cost: dict
    history: list[dict] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return self.__dict__.copy()


def training_rows(labels: np.ndarray, spec: TrialSpec) -> tuple[np.ndarray, np.ndarray | None]:
    """(train rows, validation rows of train or None when the official dev split validates)."""
    seed = spec.seed
    if spec.n_folds:
        train_rows, val_rows = kfold(labels, spec.n_folds, seed)[spec.fold]
    elif "dev" in spec.data:
        train_rows, val_rows = np.arange(len(labels)), None
    else:
        train_rows, val_rows = validation_split(labels, spec.hparams["val_fraction"], seed)
    cap = spec.hparams.get("max_train_rows")
    if cap and len(train_rows) > cap:  # a stratified, seeded subset (quick profile)
        keep, _ = validation_split(labels[train_rows], 1 - cap / len(train_rows), seed + 1)
        train_rows = train_rows[np.sort(keep)]
    return train_rows, val_rows


def drop_leaked(train, rows: np.ndarray, others: list) -> tuple[np.ndarray, int]:
    """Train rows whose exact sequence is also in dev or test removed (opt-in: --set drop_duplicates=true)."""
    held_out = {bytes(o.seqs.get(i)) for o in others for i in range(len(o))}
    keep = np.array([bytes(train.seqs.get(i)) not in held_out for i in rows], dtype=bool)
    return rows[keep], int((~keep).sum())


def check_splits(train: SplitData, val: SplitData, empty_test: bool, metric: str) -> None:
    """Refuse, before training, splits on which the result could not mean anything."""
    if len(train) == 0:
        raise InvalidResult("the train split has no rows", "check the task's train file (suite data verify)")
    if empty_test:
        raise InvalidResult("the test split has no rows", "check the task's test file (suite data verify)")
    classes = np.unique(val.y)
    if len(val) < 2 or len(classes) < 2:
        raise InvalidResult(f"the validation set has {len(val)} row(s) of {len(classes)} class(es): its {metric} "
                            "cannot select anything", "use fewer --folds or a larger --set val_fraction")


def check_result(steps: int, best_val: dict, test: dict) -> None:
    """A result is valid or it is not recorded as FINISHED: at least one training step, every metric finite."""
    if steps == 0:
        raise InvalidResult("no training step ran", "check epochs and max_steps")
    for split, metrics in (("validation", best_val), ("test", test)):
        for name, value in metrics.items():
            if not np.isfinite(value):
                raise InvalidResult(f"the {split} {name} is {value}", "the model's outputs are not finite; lower lr")


def _process_state() -> dict:
    """The process-wide settings a trial (a model family, a library it calls) could change and that change its
    numbers: torch's thread count, default dtype, deterministic-algorithm mode, anomaly mode, the cuDNN and TF32
    switches, and numpy's floating-point error handling. The random generators are not here: every trial seeds
    them all (seed_everything) before it draws anything."""
    return {
        "threads": torch.get_num_threads(),
        "dtype": torch.get_default_dtype(),
        "deterministic": (torch.are_deterministic_algorithms_enabled(),
                          torch.is_deterministic_algorithms_warn_only_enabled()),
        "anomaly": torch.is_anomaly_enabled(),
        "matmul_precision": torch.get_float32_matmul_precision(),
        "cudnn": {name: getattr(torch.backends.cudnn, name)
                  for name in ("enabled", "benchmark", "deterministic", "allow_tf32")},
        "cuda_matmul": {name: getattr(torch.backends.cuda.matmul, name)
                        for name in ("allow_tf32", "allow_fp16_reduced_precision_reduction",
                                     "allow_bf16_reduced_precision_reduction")},
        "numpy_errors": np.geterr(),
    }


# As the process had them when it first imported this module, before any trial ran: what a new worker has.
_FRESH_STATE = _process_state()


def reset_process_state(threads: int | None = None) -> None:
    """Put back the settings of `_process_state` as a new process has them (`threads`, when given, instead of its
    thread count), and grad mode on; called first by every trial, so that one trial's settings never reach the
    next trial run by the same process."""
    state = _FRESH_STATE
    torch.set_num_threads(max(1, int(threads)) if threads else state["threads"])
    torch.set_default_dtype(state["dtype"])
    # torch.use_deterministic_algorithms imports torch._inductor (about 1 s, every new worker): only when needed
    deterministic = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())
    if deterministic != state["deterministic"] or "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(state["deterministic"][0], warn_only=state["deterministic"][1])
    torch.autograd.set_detect_anomaly(state["anomaly"])
    torch.set_grad_enabled(True)
    torch.set_float32_matmul_precision(state["matmul_precision"])
    for name, value in state["cudnn"].items():
        setattr(torch.backends.cudnn, name, value)
    for name, value in state["cuda_matmul"].items():
        setattr(torch.backends.cuda.matmul, name, value)
    np.seterr(**state["numpy_errors"])


def run_trial(spec: TrialSpec, out_dir: Path, report: Callable[[int, dict, int], None] | None = None,
              threads: int | None = None) -> TrialResult:
    """`report(epoch, row, epochs)` after every epoch: its history row and the epochs planned (the step budget's),
    so whoever shows progress can say "epoch k/N" (suite/runs/progress.py). `threads`: torch's intra-op threads
    (default: as many as a new process starts with)."""
    reset_process_state(threads)
    started = cost.clock()
    device = device_for()
    memory = cost.PeakMemory(device)
    task = build(TaskSpec, spec.task, f"trial {spec.key}: task")
    model_spec = build(ModelSpec, spec.model, f"trial {spec.key}: model")
    splits = {s: _load(task, s, d, Path(spec.cache_dir)) for s, d in spec.data.items()}
    train_split = splits["train"]
    train_rows, val_rows = training_rows(train_split.labels, spec)
    dropped = 0
    if spec.hparams.get("drop_duplicates"):
        train_rows, dropped = drop_leaked(train_split, train_rows, [splits[s] for s in ("dev", "test") if s in splits])
    train = SplitData(train_split.seqs, train_split.labels, train_rows)
    if val_rows is None:
        dev = splits["dev"]
        val = SplitData(dev.seqs, dev.labels, np.arange(len(dev)))
    else:
        val = SplitData(train_split.seqs, train_split.labels, val_rows)

    check_splits(train, val, "test" in splits and len(splits["test"]) == 0, task.metric)

    seed_everything(spec.seed)
    model = build_model(model_spec, task.n_classes, size=spec.size, recipe=spec.recipe, overrides=spec.backbone,
                        weights=spec.weights != "none")
    model.set_mode(spec.mode)
    train, val, test = _with_tokens(model, task, splits, train, val, Path(spec.cache_dir))
    cfg = FitConfig.from_hparams(spec.hparams)
    vectors = {}  # probe: the frozen backbone embeds each split once (cached on disk); the head trains on the vectors
    if spec.mode == "probe":
        vectors = embed_splits(model, splits, probe_identity(spec.to_dict()), cfg.eval_batch_size, device,
                               Path(spec.cache_dir))
        train = replace(train, vectors=vectors.get("train"))
        val = replace(val, vectors=vectors.get("train" if val_rows is not None else "dev"))
    epochs = planned_epochs(cfg, len(train))
    on_epoch = (lambda epoch, row: report(epoch, row, epochs)) if report else None
    fitted = fit(model, train, val, cfg, task.metric, on_epoch=on_epoch, device=device)
    test_metrics, artifacts = {}, []
    if test is not None:  # a sweep plans train only: the test split is never even loaded there
        test = replace(test, vectors=vectors.get("test"))
        test_metrics, probs = evaluate(model, test, cfg.eval_batch_size, device)
        artifacts = write_artifacts(out_dir, spec, task, test, probs, fitted.history)
    check_result(fitted.steps, fitted.best_val, test_metrics)
    sample = collate(train.seqs, train.labels, train.rows[: min(8, len(train))]).to(device)
    costs = {
        "wall_seconds": cost.clock(device) - started,
        "train_seconds_per_epoch": float(np.mean(fitted.epoch_seconds)) if fitted.epoch_seconds else 0.0,
        "epochs": len(fitted.history),
        "parameters": cost.n_parameters(model),
        "trainable_parameters": cost.n_parameters(model, trainable_only=True),
        "train_flops_per_sample": cost.train_flops_per_sample(model, sample),
        "peak_memory_mb": memory.peak_mb(),
        "train_rows": len(train),
        "dropped_duplicates": dropped,
    }
    return TrialResult(spec.key, test_metrics, fitted.best_val, fitted.best_epoch, costs, fitted.history, artifacts)


def _with_tokens(model, task: TaskSpec, splits: dict, train: SplitData, val: SplitData, cache_root: Path
                 ) -> tuple[SplitData, SplitData, SplitData | None]:
    """(train, val, test) carrying their split's token ids when the model is a wrapped one (it has a
    `split_tokenizer`): each split tokenized once per tokenizer, memory-mapped from the cache (suite/data/cache.py)."""
    test = SplitData(splits["test"].seqs, splits["test"].labels, np.arange(len(splits["test"]))) if "test" in splits else None
    tokenizer = getattr(model.backbone, "split_tokenizer", None)
    if tokenizer is None:
        return train, val, test
    tokens = {id(s.seqs): load_tokens(task, s, tokenizer, cache_root=cache_root) for s in splits.values()}
    return tuple(None if d is None else replace(d, tokens=tokens[id(d.seqs)]) for d in (train, val, test))


def _load(task: TaskSpec, split: str, entry: dict, cache_root: Path):
    """The split the plan located, from the encoding cache (keyed by its sha256); refuses changed data."""
    path = Path(entry["path"])
    data = load_split(task, split, path=path, cache_root=cache_root)
    if data.sha256 != entry["sha256"]:
        raise SuiteError(f"{path} changed since the run was planned (sha256 differs)", "run the command again")
    return data


def write_artifacts(out_dir: Path, spec: TrialSpec, task: TaskSpec, test: SplitData, probs: np.ndarray,
                    history: list[dict]) -> list[str]:
    import pandas as pd

    out_dir.mkdir(parents=True, exist_ok=True)
    preds = probs.argmax(axis=1)
    frame = pd.DataFrame({"row": test.rows, "label": test.y, "prediction": preds})
    for i, name in enumerate(task.classes):
        frame[f"p_{name}"] = probs[:, i]
    paths = {
        "predictions.csv": frame,
        "confusion.csv": pd.DataFrame(confusion(test.y, preds, task.n_classes),
                                      index=[f"true_{c}" for c in task.classes],
                                      columns=[f"pred_{c}" for c in task.classes]),
        "history.csv": pd.DataFrame(history),
    }
    written = []
    for name, table in paths.items():
        table.to_csv(out_dir / name, index=name == "confusion.csv")
        written.append(str(out_dir / name))
    (out_dir / "trial.json").write_text(json.dumps(spec.to_dict(), indent=2, default=str))
    (out_dir / "settings.tsv").write_text(settings_tsv(spec.settings))
    return written + [str(out_dir / name) for name in ("trial.json", "settings.tsv")]
