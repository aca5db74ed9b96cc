"""The "learns" tier: every trainable family, at a tiny size from random weights, learns a planted motif.

The task is suite/data/planted.py: random background, half the sequences carry one 8-bp motif at a uniformly
random position, the rest carry none. A position-free detector reaches ~1.0; chance is 0.5. Each model
trains through the suite's own loop with its card's CPU-profile settings (the `quick` layering of
`resolve_settings`), only the step budget is the test's. Deterministic: fixed data seeds, fixed torch seed, one thread.

`cnn` (the genomic-benchmarks CNN) is position-bound by design (its dense layer reads fixed positions after
three poolings), so it gets its own, lower bar; its card states it with its learning curve.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from suite.data.planted import LENGTH, planted_splits
from suite.models import build_model, get_model_spec
from suite.runs.settings import resolve_settings
from suite.tasks import get_task
from suite.train.config import FitConfig
from suite.train.evaluate import SplitData, evaluate
from suite.train.loop import fit, seed_everything
from tests.conftest import torch_threads

def as_split(split) -> SplitData:
    seqs, labels = split
    return SplitData(seqs, labels, np.arange(len(labels)))


@pytest.fixture(scope="module")
def motif_task():
    splits = planted_splits()
    return tuple(as_split(splits[name]) for name in ("train", "dev", "test"))


# card → (size, pooling or None for the card's, test accuracy it must reach, step budget). The budgets are what each
# model needed on this machine, with margin; measured accuracies are in the comments.
FAMILIES = {
    "deepbind": ("paper", None, 0.95, 150),  # 0.990
    "kmer_lr": ("k4", None, 0.95, None),  # lbfgs: converges, no steps
    "findna": ("tiny", None, 0.95, 200),  # 0.973 (0.950 after 150 steps)
    "cm_mnm": ("tiny", None, 0.95, 200),  # 0.970 after 150 steps
    "dnabert6": ("tiny", None, 0.95, 150),  # 0.995 (overlapping 6-mer tokens: the motif is one token)
    # the wrapper's mean over positions dilutes one motif by 1/L; max over the same states finds it. After 300
    # steps it sat on the bar (0.943 with torch seed 0, 0.988-0.998 with seeds 1-2: CI failed on it); after 500,
    # 0.980-1.000 over torch seeds 0-5 (0.993 with seed 0)
    "hyenadna_tiny_1k": ("tiny", "max", 0.95, 500),
    # 1.000 after 100 steps with the conv stem and N(0, 0.02) positions; 0.51 without the stem (models/findna_t.yaml)
    "findna_t": ("tiny", None, 0.95, 150),
    "cnn": ("paper", None, 0.70, 300),  # 0.750; position-bound, plateaus at 0.77: models/cnn.yaml `fidelity.motif`
}
# Attention on single-base (or non-overlapping 6-mer) tokens from random weights does not learn an 8-base
# conjunction in a CPU budget: dnabert2 at random init (one token per base, 1-2 layers, lr 1e-3 or 3e-3) stays at
# 0.50-0.51 after 150-300 steps, nt_v2_50m plateaus at 0.63 after 600 (the motif is a whole token only when it is
# aligned with the 6-mer grid). Max-pooling NT's token states and widening it (hidden 64, 4 heads, 1-2 layers,
# lr 1e-3 / 3e-3) lifts it only to 0.71-0.74 after 600 steps, validation flat from the first epochs: with 4,096
# 6-mer tokens, 1,200 rows show each motif-bearing token a handful of times. findna_t did the same until its CPU
# sizes got a conv stem. Strict: the day they learn, these fail and move up.
NOT_YET = {
    "dnabert2": ("tiny", None, 0.95, 150),
    "nt_v2_50m": ("tiny", None, 0.95, 300),
}


def train_on_motif(name: str, size: str, pooling: str | None, max_steps: int | None, motif_task) -> float:
    train, val, test = motif_task
    spec = get_model_spec(name)
    if pooling:
        spec = dataclasses.replace(spec, pooling=pooling)
    hparams = resolve_settings(spec, get_task("prom_core_tata"), "quick", {}).hparams
    cfg = dataclasses.replace(FitConfig.from_hparams(hparams), max_steps=max_steps, patience=None, epochs=1000)
    with torch_threads(1):
        seed_everything(0)
        model = build_model(spec, 2, size=size, recipe={"max_len": LENGTH}, weights=False)
        fit(model, train, val, cfg, "accuracy", device=torch.device("cpu"))
        metrics, _ = evaluate(model, test, 256, torch.device("cpu"))
    return metrics["accuracy"]


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_trainable_family_learns_a_planted_motif(name, motif_task):
    size, pooling, bar, steps = FAMILIES[name]
    accuracy = train_on_motif(name, size, pooling, steps, motif_task)
    assert accuracy >= bar, f"{name} ({size}) reached test accuracy {accuracy:.3f} < {bar} on the planted motif"


@pytest.mark.xfail(strict=True, reason="attention on base or 6-mer tokens does not learn the motif in the budget")
@pytest.mark.parametrize("name", list(NOT_YET))
def test_attention_families_do_not_learn_the_motif_yet(name, motif_task):
    size, pooling, bar, steps = NOT_YET[name]
    assert train_on_motif(name, size, pooling, steps, motif_task) >= bar
