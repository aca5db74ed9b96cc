"""Small builders shared by the model tests (real modules, tiny sizes, float64 where exactness matters)."""

from __future__ import annotations

import torch

from suite.data.batching import SequenceBatch


def random_batch(lengths: list[int], seed: int = 0, n_classes: int = 2) -> SequenceBatch:
    """A SequenceBatch of random bases with the given true lengths, padded to the longest."""
    g = torch.Generator().manual_seed(seed)
    L = max(lengths)
    codes = torch.randint(0, 5, (len(lengths), L), generator=g, dtype=torch.uint8)
    lens = torch.tensor(lengths, dtype=torch.int64)
    codes[torch.arange(L)[None, :] >= lens[:, None]] = 5  # PAD
    labels = torch.randint(0, n_classes, (len(lengths),), generator=g)
    return SequenceBatch(codes=codes, lengths=lens, labels=labels)


def card_with_weights(name: str, folder) -> tuple:
    """(ModelSpec, weights sha256) of card `name` resolved exactly as `suite run --set weights=FOLDER` resolves it."""
    import dataclasses

    from suite.cards import build
    from suite.models import get_model_spec
    from suite.models.spec import ModelSpec
    from suite.runs.plan import resolve_weights

    model, sha = resolve_weights(dataclasses.asdict(get_model_spec(name)), str(folder))
    return build(ModelSpec, model, "test"), sha
