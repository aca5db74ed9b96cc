"""A planted-motif task, written in code: the check that a sequence model can learn at all.

Random background (A, C, G, T uniform), half the sequences (the odd rows) carry one 8-bp motif at a uniformly
random position, the rest carry none. A position-free detector reaches ~1.0; chance is 0.5. Used by the "learns"
tests (every trainable family from random weights) and by the pretraining study's health check (a linear probe
on a pretrained backbone should find the motif better than one on the same network untrained).
"""

from __future__ import annotations

import numpy as np

from suite.data.encode import EncodedSequences, encode

MOTIF = "TGACTCAG"  # AP-1-like; absent by chance from a 60-bp random sequence with probability ~0.9987
LENGTH = 60
SPLITS = {"train": (1200, 1), "dev": (300, 2), "test": (400, 3)}  # split → (rows, data seed)


def planted_motif(n: int, seed: int, motif: str = MOTIF, length: int = LENGTH) -> tuple[EncodedSequences, np.ndarray]:
    """(encoded sequences, labels 0/1) of `n` rows; the same (n, seed) gives the same rows."""
    rng = np.random.default_rng(seed)
    bases = rng.choice(np.array(list("ACGT")), size=(n, length))
    labels = np.arange(n) % 2
    for i in np.flatnonzero(labels):
        start = rng.integers(0, length - len(motif) + 1)
        bases[i, start:start + len(motif)] = list(motif)
    return encode(["".join(row) for row in bases]), labels


def planted_splits() -> dict[str, tuple[EncodedSequences, np.ndarray]]:
    """The fixed train / dev / test splits of the task (1,200 / 300 / 400 rows)."""
    return {name: planted_motif(n, seed) for name, (n, seed) in SPLITS.items()}
