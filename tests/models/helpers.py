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


def built_like_a_run(name: str, folder, n_classes: int = 2, max_len: int = 101) -> tuple:
    """(SequenceClassifier, weights sha256): card `name` + `--set weights=FOLDER`, resolved by the run plan and
    built as run_trial builds it."""
    from suite.models import build_model

    spec, sha = card_with_weights(name, folder)
    return build_model(spec, n_classes, size=spec.default_size, recipe={"max_len": max_len}), sha


def real_batch(n: int = 16, split: str = "train") -> SequenceBatch:
    """The first `n` rows of the real GUE tf_mouse_2 split (the shared data folder; no environment change)."""
    import numpy as np

    from suite.data.batching import collate
    from suite.data.cache import load_split
    from suite.tasks import get_task
    from tests.conftest import _shared_data

    data = load_split(get_task("tf_mouse_2"), split, data_dir=_shared_data())
    return collate(data.seqs, data.labels, np.arange(n))
