"""HyenaDNA against the ORIGINAL code: the `hyenadna` golden fixture (tests/fixtures/golden/make_hyenadna.py: the -hf
hub remote code modeling_hyena.py and hyena-dna's CharacterTokenizer, seeded random weights) loaded through the
card's real loading path, the tokenizer's ids and the hidden states compared at every real position."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from suite.data.batching import collate
from suite.data.encode import encode
from suite.models.families import hyenadna
from tests.models.golden import assert_matches, read_fixture
from tests.models.helpers import built_like_a_run


@pytest.fixture(scope="module")
def golden():
    folder, tensors, provenance = read_fixture("hyenadna")
    model, _ = built_like_a_run("hyenadna_tiny_1k", folder)
    strings = provenance["strings"]
    batch = collate(encode(strings), np.zeros(len(strings)), np.arange(len(strings)))
    return model.backbone.eval(), batch, tensors, provenance


def real(states: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The states at real positions only, (n_real, width)."""
    return states[mask]


def test_token_ids_are_the_original_character_tokenizers(golden):
    backbone, batch, tensors, provenance = golden
    keep = provenance["config"]["max_seq_len"]  # longer inputs are cut to max_seq_len, 5' end kept, as upstream
    ids, mask = backbone.tokenizer.encode(batch.one_hot[:, :keep], batch.lengths.clamp(max=keep))
    assert torch.equal(mask, tensors["attention_mask"]) and torch.equal(ids, tensors["input_ids"])
    expected = [row[m].tolist() for row, m in zip(tensors["input_ids"], tensors["attention_mask"])]
    assert backbone.tokenizer([s[:keep] for s in provenance["strings"]]) == expected


def test_hidden_states_per_layer_match_the_original(golden):
    backbone, _, tensors, _ = golden
    ids, mask = tensors["input_ids"], tensors["attention_mask"]
    with torch.no_grad():
        h = backbone.embed(ids)
        assert_matches("embeddings", real(h, mask), real(tensors["hidden.embeddings"], mask))
        for i, block in enumerate(backbone.blocks):
            h = block(h)
            assert_matches(f"layer {i}", real(h, mask), real(tensors[f"hidden.layer{i}"], mask))
        assert_matches("final norm", real(backbone.final_norm(h), mask), real(tensors["hidden.final"], mask))


def test_backbone_tokens_from_one_hot_match_the_original_final_states(golden):
    """The whole path a run takes: one-hot batch (one input longer than max_seq_len) → tokenizer → states."""
    backbone, batch, tensors, _ = golden
    mask = tensors["attention_mask"]
    with torch.no_grad():
        tokens, _ = backbone(batch.one_hot, batch.lengths)
    assert_matches("final states", real(tokens, mask), real(tensors["hidden.final"], mask))
    assert (tokens[~mask] == 0).all()


def test_filter_buffers_at_init_are_the_originals():
    """z, t and Δ as the suite computes them for a model built without a snapshot (the fixture's file holds a
    perturbed z, so the loaded model cannot show this)."""
    _, tensors, provenance = read_fixture("hyenadna")
    config = provenance["config"]
    model = hyenadna.build({k: config[k] for k in hyenadna.ARCH_KEYS})
    implicit = model.blocks[0].mixer.filter
    assert_matches("z", implicit.z, tensors["init.z"], tolerance=1e-6)
    assert_matches("t", implicit.t, tensors["init.t"], tolerance=1e-6)
    assert_matches("deltas", implicit.deltas, tensors["init.deltas"], tolerance=1e-6)
