"""The "learns" tier: every trainable family, at a tiny size from random weights, learns a planted motif.

The task is written here: random background (A, C, G, T uniform), half the sequences carry one 8-bp motif at a
uniformly random position, the rest carry none. A position-free detector reaches ~1.0; chance is 0.5. Each model
trains through the suite's own loop with its card's CPU-profile settings (the `quick` layering of
`merge_hparams`), only the step budget is the test's. Deterministic: fixed data seeds, fixed torch seed, one thread.

`cnn` (the genomic-benchmarks CNN) is position-bound by design (its dense layer reads fixed positions after
three poolings), so it gets its own, lower bar; its card states it with its learning curve.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from suite.data.encode import encode
from suite.models import build_model, get_model_spec
from suite.runs.plan import merge_hparams
from suite.tasks import get_task
from suite.train.config import FitConfig
from suite.train.evaluate import SplitData, evaluate
from suite.train.loop import fit, seed_everything
from tests.conftest import torch_threads

MOTIF = "TGACTCAG"  # AP-1-like; absent by chance from a 60-bp random sequence with probability ~0.9987
LENGTH = 60


def planted_motif(n: int, seed: int) -> SplitData:
    rng = np.random.default_rng(seed)
    bases = rng.choice(np.array(list("ACGT")), size=(n, LENGTH))
    labels = np.arange(n) % 2
    for i in np.flatnonzero(labels):
        start = rng.integers(0, LENGTH - len(MOTIF) + 1)
        bases[i, start:start + len(MOTIF)] = list(MOTIF)
    return SplitData(encode(["".join(row) for row in bases]), labels, np.arange(n))


@pytest.fixture(scope="module")
def motif_task():
    return planted_motif(1200, seed=1), planted_motif(300, seed=2), planted_motif(400, seed=3)


# card → (size, test accuracy it must reach, step budget). A budget is what the tiny model needs, with margin.
FAMILIES = {
    "deepbind": ("tiny", 0.95, 400),
    "kmer_lr": ("k4", 0.95, None),
    "findna": ("tiny", 0.95, 600),
    "cm_mnm": ("tiny", 0.95, 600),
    "findna_t": ("tiny", 0.95, 600),
    "hyenadna_tiny_1k": ("tiny", 0.95, 600),
    "dnabert6": ("tiny", 0.95, 600),
    "dnabert2": ("tiny", 0.95, 600),
    "nt_v2_50m": ("tiny", 0.95, 600),
    "cnn": ("paper", 0.60, 600),  # position-bound: see models/cnn.yaml `fidelity.motif`
}


def train_on_motif(name: str, size: str, max_steps: int | None, motif_task) -> float:
    train, val, test = motif_task
    spec = get_model_spec(name)
    hparams, _ = merge_hparams(get_task("prom_core_tata"), spec.training, "quick", {})
    cfg = dataclasses.replace(FitConfig.from_hparams(hparams), max_steps=max_steps, patience=None, epochs=1000)
    with torch_threads(1):
        seed_everything(0)
        model = build_model(spec, 2, size=size, recipe={"max_len": LENGTH}, weights=False)
        fit(model, train, val, cfg, "accuracy", device=torch.device("cpu"))
        metrics, _ = evaluate(model, test, 256, torch.device("cpu"))
    return metrics["accuracy"]


@pytest.mark.parametrize("name", list(FAMILIES))
def test_every_trainable_family_learns_a_planted_motif(name, motif_task):
    size, bar, steps = FAMILIES[name]
    accuracy = train_on_motif(name, size, steps, motif_task)
    assert accuracy >= bar, f"{name} ({size}) reached test accuracy {accuracy:.3f} < {bar} on the planted motif"
