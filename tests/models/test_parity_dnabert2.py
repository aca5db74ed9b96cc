"""DNABERT-2 against the ORIGINAL code (issue 18): the fixture tests/fixtures/golden/dnabert2 holds seeded weights
of the hub's own BertForMaskedLM (bert_layers.py, small config, 6 heads so ALiBi's interleaved slopes are used), the
hub's real 4,096-token tokenizer.json, and that code's token ids and hidden states on five strings
(tests/fixtures/golden/make_dnabert2.py). The suite loads the folder as `--set weights=FOLDER` does and must give
the same ids, the same embeddings, the same output of each layer and the same [CLS] state."""

from __future__ import annotations

import hashlib

import pytest
import torch

from suite.models.families.dnabert2 import BPETokenizer
from tests.models.golden import assert_matches, read_fixture
from tests.models.helpers import built_like_a_run


@pytest.fixture(scope="module")
def golden():
    """(fixture folder, golden tensors, provenance, the suite's DNABERT-2 module built from the folder, in eval)."""
    folder, tensors, provenance = read_fixture("dnabert2")
    model, _ = built_like_a_run("dnabert2", folder)
    return folder, tensors, provenance, model.eval().backbone


def test_the_fixture_tokenizer_is_the_published_one(golden):
    folder, _, provenance, _ = golden
    assert hashlib.sha256((folder / "tokenizer.json").read_bytes()).hexdigest() == provenance["tokenizer"]["sha256"]


def test_tokenizer_gives_the_original_ids_and_mask_with_and_without_truncation(golden):
    folder, tensors, provenance, backbone = golden
    ids, mask = backbone.tokenizer(provenance["strings"])
    assert ids.tolist() == tensors["input_ids"].tolist()  # lists: pytest shows the first differing token
    assert mask.tolist() == tensors["attention_mask"].bool().tolist()
    cut_at = tensors["input_ids_short"].shape[1]
    short_ids, short_mask = BPETokenizer(folder / "tokenizer.json", cut_at)(provenance["strings"])
    assert short_ids.tolist() == tensors["input_ids_short"].tolist()
    assert short_mask.tolist() == tensors["attention_mask_short"].bool().tolist()


def test_embeddings_each_layer_and_cls_match_the_original(golden):
    _, tensors, _, backbone = golden
    ids, mask = tensors["input_ids"], tensors["attention_mask"].bool()
    layers = []
    hooks = [block.register_forward_hook(lambda _m, _i, out: layers.append(out)) for block in backbone.blocks]
    try:
        with torch.no_grad():
            embeddings = backbone.embed(ids)
            states = backbone.encode(ids, mask)
    finally:
        for hook in hooks:
            hook.remove()
    assert_matches("embeddings", embeddings, tensors["embeddings"])
    assert len(layers) == len([k for k in tensors if k.startswith("layer_")])
    for i, layer in enumerate(layers):
        assert_matches(f"layer {i} (real tokens)", layer[mask], tensors[f"layer_{i}"])
    assert_matches("last hidden (real tokens)", states[mask], tensors["last_hidden"][mask])
    assert_matches("[CLS]", states[:, 0], tensors["cls"])
