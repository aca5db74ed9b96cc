"""Nucleotide Transformer v1 and v2 against the ORIGINAL code (issue 18).

The fixtures tests/fixtures/golden/nt_v1 and nt_v2 (tests/fixtures/golden/make_nucleotide_transformer.py) hold
seeded small weights of the original modules under their original names (v1: transformers' EsmForMaskedLM; v2: the
hub's remote-code EsmForMaskedLM with the gated FFN and rotary positions), the original tokenizer's vocabulary
(instadeepai/nucleotide-transformer's FixedSizeNucleotidesKmersTokenizer: v1 and v2 order their ids differently),
and that code's token ids, hidden states and sequence vectors on four strings. The suite loads each folder as
`--set weights=FOLDER` does and must give the same ids, the same hidden state after every layer at the real
positions, and the same sequence vector from one-hot input (one string needs two windows)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from suite.data.batching import collate
from suite.data.encode import encode
from tests.models.golden import assert_matches, read_fixture
from tests.models.helpers import built_like_a_run

CARDS = {"nt_v1": "nt_500m_human_ref", "nt_v2": "nt_v2_50m"}


@pytest.fixture(scope="module", params=sorted(CARDS))
def golden(request):
    """(golden tensors, provenance, the suite's NT backbone built from the fixture folder, in eval)."""
    folder, tensors, provenance = read_fixture(request.param)
    model, _ = built_like_a_run(CARDS[request.param], folder)
    return tensors, provenance, model.eval().backbone


def test_tokenizer_gives_the_original_ids(golden):
    tensors, provenance, backbone = golden
    for i, text in enumerate(provenance["strings"]):
        assert backbone.tokenizer(text) == tensors[f"token_ids_{i}"].tolist(), text


def test_every_hidden_state_matches_the_original(golden):
    tensors, _, backbone = golden
    ids, mask = tensors["input_ids"], tensors["attention_mask"]
    with torch.no_grad():
        states = backbone.esm(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
    real = mask.bool()
    assert len(states) == len([k for k in tensors if k.startswith("hidden_states_")])
    for i, state in enumerate(states):
        assert_matches(f"hidden state {i} (real tokens)", state[real], tensors[f"hidden_states_{i}"][real])


def test_sequence_vectors_from_one_hot_match_the_original(golden):
    tensors, provenance, backbone = golden
    strings = provenance["strings"]
    batch = collate(encode(strings), np.zeros(len(strings)), np.arange(len(strings)))
    with torch.no_grad():
        _, vector = backbone(batch.one_hot, batch.lengths)
    assert_matches("sequence vectors", vector[:, 0], tensors["sequence_vectors"])
