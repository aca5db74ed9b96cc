"""DNABERT-6 against the ORIGINAL code (issue 18).

The fixture tests/fixtures/golden/dnabert6 (tests/fixtures/golden/make_dnabert6.py) holds seeded small weights of
transformers' BertForMaskedLM under their original names, DNABERT's published bert-config-6 vocab.txt and tokenizer
files, and the token ids that DNABERT's own pipeline (seq2kmer → DNATokenizer → glue_convert_examples_to_features)
gives for five strings, with the model's hidden states and sequence vectors on them. The suite loads the folder as
`--set weights=FOLDER` does and must give the same ids, the same hidden state after every layer at the real
positions, and the same sequence vector from one-hot input (one string needs three windows)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from suite.data.batching import collate
from suite.data.encode import encode
from suite.models import get_model_spec
from suite.models.families.dnabert import published_vocab
from tests.models.golden import assert_matches, read_fixture
from tests.models.helpers import built_like_a_run


@pytest.fixture(scope="module")
def golden():
    """(fixture folder, golden tensors, provenance, the suite's DNABERT backbone built from the folder, in eval)."""
    folder, tensors, provenance = read_fixture("dnabert6")
    model, _ = built_like_a_run("dnabert6", folder)
    return folder, tensors, provenance, model.eval().backbone


def test_published_vocab_and_config_are_what_the_suite_assumes(golden):
    folder, _, provenance, _ = golden
    published = provenance["original"]["published_files"]
    assert hashlib.sha256((folder / "vocab.txt").read_bytes()).hexdigest() == published["vocab.txt"]["sha256"]
    assert (folder / "vocab.txt").read_text().splitlines() == published_vocab(6)
    config = json.loads((folder / "published_config.json").read_text())
    params = get_model_spec("dnabert6").params
    shared = sorted(set(config) & set(params))  # vocab_size, hidden_size, … (the card's architecture)
    assert len(shared) == 9 and {k: params[k] for k in shared} == {k: config[k] for k in shared}


def test_tokenizer_gives_the_original_ids(golden):
    _, tensors, provenance, backbone = golden
    for i, text in enumerate(provenance["strings"]):
        assert backbone.tokenizer(text) == tensors[f"token_ids_{i}"].tolist(), text


def test_every_hidden_state_matches_the_original(golden):
    _, tensors, _, backbone = golden
    ids, mask = tensors["input_ids"], tensors["attention_mask"]
    with torch.no_grad():
        states = backbone.bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids),
                               output_hidden_states=True).hidden_states
    real = mask.bool()
    assert len(states) == len([k for k in tensors if k.startswith("hidden_states_")])
    for i, state in enumerate(states):
        assert_matches(f"hidden state {i} (real tokens)", state[real], tensors[f"hidden_states_{i}"][real])


def test_sequence_vectors_from_one_hot_match_the_original(golden):
    _, tensors, provenance, backbone = golden
    strings = provenance["strings"]
    batch = collate(encode(strings), np.zeros(len(strings)), np.arange(len(strings)))
    with torch.no_grad():
        _, vector = backbone(batch.one_hot, batch.lengths)
    assert_matches("sequence vectors", vector[:, 0], tensors["sequence_vectors"])
