"""FinDNA pretraining loop (paper §3.4, §4.1; findna-facts §2.7), in DINO-style sections.

All randomness is a function of (seed, step): windows come from `sample_windows(seed)`, the batch order of
epoch e from default_rng((seed, e)), the augmentations of step s from a torch.Generator seeded with (seed, s),
and dropout from torch's global RNG, whose state is saved in every snapshot. Learning rate and teacher momentum
are arrays indexed by step. Together with the optimiser state this makes a resumed run continue bit-exactly.

Profiles (facts §2.7): `paper` = 100k windows of 1000 bp, batch 64 (drop_last), 50 epochs (paper; the code ran
30), the card's paper-size backbone; `quick` = a small backbone on 256-bp windows, a few hundred steps on CPU.
Both: AdamW lr 3e-4, weight decay 3e-4, 30 % linear warm-up then half cosine, gradient-norm clip 0.5, seed 42.
Not reproduced: the authors' fp16 AMP (runs in float32 on any device).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from suite.data.encode import ONE_HOT
from suite.data.fasta import open_corpus, sample_windows, train_corpus
from suite.errors import SuiteError
from suite.preflight import writable_folder
from suite.pretrain.augment import apply_view
from suite.pretrain.checkpoint import (
    export,
    latest_checkpoint,
    load_checkpoint,
    save_checkpoint,
)
from suite.pretrain.dissimilarity import view_dissimilarity
from suite.pretrain.config import (  # noqa: F401  (re-exported: torch-free, suite/pretrain/config.py)
    COMMANDS,
    MODELS,
    PretrainConfig,
    check_corpus,
    method_for,
    profile_config,
    run_name,
    with_views,
)
from suite.pretrain.findna import FinDNAPretrainer
from suite.train.schedules import cosine, cosine_with_warmup

EXPERIMENT = "pretrain"


def exported_params(card, size: str, overrides: dict, backbone) -> dict:
    """The backbone config a checkpoint records. A ChordMixer's width is written out: downstream recipes change
    max_len, and the weights fix the width whatever the size's `keep_width` says."""
    from suite.models import backbone_params

    params = backbone_params(card, size, overrides)
    if card.family == "chordmixer":
        params["width"] = int(backbone.width)
    return params


@dataclass
class PretrainResult:
    run_dir: Path
    step: int
    total_steps: int
    history: list[dict]  # per-step metrics of this call
    run_id: str | None
    weights: Path | None  # the exported backbone (at the end of training only)


def corpus_windows(config: PretrainConfig, fasta: str | Path | None,
                   data_dir: str | Path | None = None) -> tuple[np.ndarray, list[dict]]:
    """The run's windows (n_windows, window_len) and their sources: from the FASTA, from the train splits of
    `config.tasks` (found like `suite run` finds them: `data_dir`, then SUITE_DATA_DIR), or `task_fraction` of them
    from the tasks and the rest from the FASTA."""
    from_tasks = 0 if not config.tasks else config.n_windows if fasta is None else \
        round(config.n_windows * config.task_fraction)
    parts, sources = [], []
    for corpus, n, seed in ((open_corpus(fasta) if fasta is not None else None, config.n_windows - from_tasks,
                             config.seed),
                            (_task_corpus(config.tasks, data_dir) if from_tasks else None, from_tasks,
                             config.seed + 1)):
        if corpus is None or n == 0:
            continue
        parts.append(sample_windows(corpus, n, config.window_len, seed, config.max_n_frac, config.weighting,
                                    config.soft_mask))
        sources.extend({**source, "windows": n} for source in corpus.sources)
    return np.concatenate(parts), sources


def _task_corpus(names: str, data_dir: str | Path | None = None):
    from suite.tasks import select_tasks

    return train_corpus(select_tasks(names), data_dir)


def composition_baseline(codes: torch.Tensor) -> dict[str, float]:
    """What MNM must beat to have learned more than base composition: the accuracy of always guessing the corpus's
    most frequent base, and the cross-entropy (nats) of predicting its base frequencies. A healthy pretraining's
    `train/mnm_accuracy` ends above the first and its `train/mnm_loss` below the second (issue 21)."""
    freq = torch.bincount(codes.reshape(-1).long(), minlength=5).double()
    freq = freq / freq.sum()
    present = freq[freq > 0]
    return {"corpus/majority_base_accuracy": float(freq.max()),
            "corpus/base_entropy": float(-(present * present.log()).sum())}


def train_step(pretrainer: FinDNAPretrainer, optimizer: torch.optim.Optimizer, params: list, batch: torch.Tensor,
               generator: torch.Generator, clip_grad: float, step: int):
    """Eq. 1's loss on one clean (B, L, 5) batch, backward, clipping, optimiser step (the EMA teacher and centre
    are updated by `pretrainer.after_step` afterwards). The loop and the cost benchmark (Table 8) share it."""
    out = pretrainer.loss(batch, generator)
    if not math.isfinite(out.loss.item()):
        raise SuiteError(f"pretraining loss is {out.loss.item()} at step {step}", "lower the learning rate")
    optimizer.zero_grad(set_to_none=True)
    out.loss.backward()
    if clip_grad:
        torch.nn.utils.clip_grad_norm_(params, clip_grad)
    optimizer.step()
    return out


def build_backbone(config: PretrainConfig):
    from suite.models import build_backbone as build_from_card
    from suite.models import get_model_spec

    spec = get_model_spec(MODELS[config.model])
    overrides = {"max_len": config.window_len, **config.backbone_overrides}
    return spec, build_from_card(spec, config.size, overrides=overrides), overrides


def _batch_rows(config: PretrainConfig, step: int, cache: dict) -> np.ndarray:
    epoch, position = divmod(step, config.steps_per_epoch)
    if cache.get("epoch") != epoch:
        cache.update(epoch=epoch, order=np.random.default_rng((config.seed, epoch)).permutation(config.n_windows))
    return cache["order"][position * config.batch_size : (position + 1) * config.batch_size]


def pretrain(config: PretrainConfig, fasta: str | Path | None, out: str | Path = "runs/checkpoints", name: str | None = None,
             tracking_uri: str | None = None, track: bool = True, device: str | None = None,
             stop_after: int | None = None, on_step: Callable[[int, dict], None] | None = None,
             data_dir: str | Path | None = None) -> PretrainResult:
    """Pretrain (or resume) `<out>/<name>` (default name: `run_name(config)`). `stop_after`: stop once this many
    steps are done (a snapshot is written), e.g. to split a long run; the schedules still span `total_steps`.
    `on_step(step, metrics)` after every optimizer step (step counted from 1): the progress display's hook
    (suite/pretrain/progress.py). `data_dir`: where an in-domain corpus's tasks are looked for first."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    run_dir = Path(out) / (name or run_name(config))
    total = config.total_steps
    check_corpus(config, fasta)
    for folder in (Path(out), *([run_dir] if run_dir.is_dir() else [])):  # before anything is sampled or built
        writable_folder(folder, "checkpoint folder", "choose a checkpoint root you can write (--out of `suite "
                        "pretrain`, --checkpoints of `suite reproduce`)")
    if config.steps_per_epoch < 1:
        raise SuiteError(f"{config.n_windows} windows make no batch of {config.batch_size}", "lower batch_size")

    # ============ data: fixed-length windows, encoded once ... ============
    torch.manual_seed(config.seed)
    windows, sources = corpus_windows(config, fasta, data_dir)
    codes = torch.from_numpy(windows).to(device)
    one_hot = torch.from_numpy(ONE_HOT).to(device)

    # ============ building student and teacher networks ... ============
    card, backbone, overrides = build_backbone(config)
    pretrainer = FinDNAPretrainer(backbone, config.method).to(device)
    params = [p for p in pretrainer.student.parameters() if p.requires_grad]  # the teacher gets no gradients

    # ============ preparing optimizer and schedules (per-step arrays) ... ============
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
    lr_schedule = cosine_with_warmup(config.lr, total, config.warmup_fraction)
    momentum_schedule = cosine(config.method.teacher_momentum, 1.0, total)

    # ============ optionally resuming from the last snapshot ... ============
    step, run_id = 0, None
    snapshot = latest_checkpoint(run_dir)
    if snapshot is not None:
        # a field added since the snapshot was written reads as its default (what that run used)
        saved = json.loads(json.dumps(PretrainConfig.from_dict(
            json.loads((snapshot / "state.json").read_text())["config"]).to_dict()))
        current = json.loads(json.dumps(config.to_dict()))  # the JSON form, as saved
        if saved != current:
            diff = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
            raise SuiteError(f"{run_dir} holds a run with another configuration (differs in {', '.join(diff)})",
                             f"use another --out/name, or delete {run_dir} to start over")
        state = load_checkpoint(snapshot, pretrainer, optimizer)
        step, run_id = state["step"], state.get("run_id")

    # ============ tracking (MLflow) ... ============
    writer = None
    if track:
        from suite.tracking import Kind, RunWriter, Tag

        writer = RunWriter(tracking_uri, EXPERIMENT, run_dir.name, run_id=run_id)
        run_id = writer.start(params=config.to_dict(), tags={Tag.KIND: Kind.PRETRAIN, Tag.MODEL: config.model,
                                                             Tag.PROFILE: config.profile,
                                                             Tag.named("corpus"): json.dumps(sources)[:5000]})

    if writer is not None and step == 0:
        # Eq. 10's view dissimilarity (and the released code's variant) on a fixed seeded sample of the corpus
        rows = np.random.default_rng((config.seed, 10)).permutation(config.n_windows)[: config.batch_size]
        sample = one_hot[codes[torch.from_numpy(rows).to(device)].long()]
        views = torch.Generator().manual_seed(config.seed * 1_000_003 + 10)
        u = apply_view(sample, pretrainer.student_view, views, pretrainer.spec.augment).x
        v = apply_view(sample, pretrainer.teacher_view, views, pretrainer.spec.augment).x
        writer.log(0, {**view_dissimilarity(u, v), **composition_baseline(codes)})

    def snapshot_state() -> dict:
        return {"config": config.to_dict(), "total_steps": total, "run_id": run_id}

    # ============ training ... ============
    end = total if stop_after is None else min(total, stop_after)
    history, order_cache, status = [], {}, "FAILED"
    try:
        pretrainer.train()
        while step < end:
            batch = one_hot[codes[torch.from_numpy(_batch_rows(config, step, order_cache)).to(device)].long()]
            generator = torch.Generator().manual_seed(config.seed * 1_000_003 + step)
            for group in optimizer.param_groups:
                group["lr"] = float(lr_schedule[step])
            out = train_step(pretrainer, optimizer, params, batch, generator, config.clip_grad, step)
            metrics = {"train/loss": out.loss.item(), "train/mnm_loss": out.mnm.item(), "train/cl_loss": out.cl.item(),
                       "train/lr": float(lr_schedule[step]), "train/teacher_momentum": float(momentum_schedule[step]),
                       "train/mask_fraction": out.mask_fraction, "train/mnm_accuracy": out.mnm_accuracy,
                       **{f"train/{k}": v for k, v in pretrainer.diagnostics(out.teacher_cls).items()}}
            pretrainer.after_step(out.teacher_cls, float(momentum_schedule[step]))  # EMA teacher, centre (after the
            step += 1  # diagnostics, which read the centre this step's targets were computed with)
            history.append({"step": step, **metrics})
            if writer is not None:
                writer.log(step, metrics)
            if step % config.save_every == 0 or step == end:
                save_checkpoint(run_dir, step, pretrainer, optimizer, snapshot_state(), config.keep)
            if on_step is not None:
                on_step(step, metrics)

        # ============ exporting the downstream backbone (teacher) ... ============
        weights = None
        if step >= total:
            meta = {"model": card.name, "family": card.family,
                    "backbone_params": exported_params(card, config.size, overrides, pretrainer.export_backbone()),
                    "source": "teacher" if pretrainer.teacher is not None else "student", "step": step,
                    "total_steps": total, "pretrain_config": config.to_dict(), "corpus": sources,
                    "mlflow_run_id": run_id}
            networks = pretrainer.exported_networks()
            others = {name: net for name, net in networks.items() if name != meta["source"]}
            weights = export(run_dir, pretrainer.export_backbone(), card.weights.file, meta, others)
            if writer is not None:
                writer.log_artifact(run_dir / "config.json")
        status = "FINISHED" if step >= total else "KILLED"
    finally:
        if writer is not None:
            writer.finish(status)
    return PretrainResult(run_dir, step, total, history, run_id, weights)
