"""Nucleotide Transformer wrapper: published vocab order, non-overlapping tokenizer with single-nucleotide fallback,
v1 checkpoint parity with transformers' own EsmModel, v2 gated-FFN parameter names and shapes, fine-tune and probe
on real sequences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from suite.models import build_backbone, build_model, get_model_spec
from suite.models.families.nucleotide_transformer import (
    NonOverlappingKmerTokenizer,
    published_vocab,
)
from suite.models.spec import ModelSpec
from tests.models.helpers import card_with_weights, random_batch
from tests.models.tiny_snapshots import nt_snapshot

VOCAB = {t: i for i, t in enumerate(published_vocab(6))}
A, T, C, G, N = 4102, 4103, 4104, 4105, 4106


def test_vocab_is_the_published_order():
    vocab = published_vocab(6)
    assert vocab[:8] == ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>", "AAAAAA", "AAAAAT"]
    assert len(vocab) == 4107 and vocab[4101] == "GGGGGG" and vocab[4102:] == ["A", "T", "C", "G", "N"]


def test_tokenizer_non_overlapping_with_single_nucleotide_fallback():
    tok = NonOverlappingKmerTokenizer(VOCAB)
    assert tok("") == [3]  # <cls> only
    assert tok("AAAAAAT") == [3, 6, T]  # AAAAAA + T
    assert tok("TAAAAAA") == [3, VOCAB["TAAAAA"], A]  # greedy from the left
    assert tok("AAAAAATTNCCCCCCG") == [3, 6, T, T, N, VOCAB["CCCCCC"], G]  # N splits, short pieces fall back
    assert tok("ATCGAATNGGCGATGCAC") == [3, VOCAB["ATCGAA"], T, N, VOCAB["GGCGAT"], G, C, A, C]


def test_tokenizer_published_example_shape():
    # the upstream docstring's example at k = 5 ("ATCGAATNGGCGATGCAC" -> ATCGA A T N GGCGA TGCAC), here at k = 5
    vocab5 = {t: i for i, t in enumerate(published_vocab(5))}
    tok = NonOverlappingKmerTokenizer(vocab5, k=5)
    names = {i: t for t, i in vocab5.items()}
    assert [names[i] for i in tok("ATCGAATNGGCGATGCAC")] == ["<cls>", "ATCGA", "A", "T", "N", "GGCGA", "TGCAC"]


def _card_with(name, weights_dir) -> ModelSpec:
    spec, sha = card_with_weights(name, weights_dir)
    assert sha
    return spec


@pytest.fixture(scope="module")
def v1(tmp_path_factory):
    return nt_snapshot(tmp_path_factory.mktemp("nt_v1"), version=1)


@pytest.fixture(scope="module")
def v2(tmp_path_factory):
    return nt_snapshot(tmp_path_factory.mktemp("nt_v2"), version=2)


def test_v1_checkpoint_matches_transformers_own_esm(v1):
    from transformers import EsmModel

    model = build_model(_card_with("nt_500m_human_ref", v1), 2, size="checkpoint").eval()
    reference = EsmModel.from_pretrained(v1, add_pooling_layer=False).eval()
    batch = random_batch([40, 13], seed=2)
    seqs = ["".join("ACGTN"[c] for c in row[:n]) for row, n in zip(batch.codes.tolist(), batch.lengths.tolist())]
    tok = NonOverlappingKmerTokenizer(VOCAB)
    with torch.no_grad():
        ours = model.embed(batch)
        for i, seq in enumerate(seqs):
            hidden = reference(input_ids=torch.tensor([tok(seq)])).last_hidden_state[0]
            torch.testing.assert_close(ours[i], hidden[1:].mean(0), atol=1e-5, rtol=1e-4)  # mean over 6-mer tokens


# InstaDeepAI/nucleotide-transformer-v2-50m-multi-species, layer 0 of its EsmForMaskedLM state dict (remote code
# modeling_esm.py: gated FFN, add_bias_fnn false, rotary positions): name → shape, at the published width 512.
V2_LAYER0 = {
    "esm.encoder.layer.0.attention.self.query.weight": (512, 512),
    "esm.encoder.layer.0.attention.self.query.bias": (512,),
    "esm.encoder.layer.0.attention.output.dense.weight": (512, 512),
    "esm.encoder.layer.0.attention.LayerNorm.weight": (512,),
    "esm.encoder.layer.0.intermediate.dense.weight": (4096, 512),
    "esm.encoder.layer.0.output.dense.weight": (512, 2048),
    "esm.encoder.layer.0.LayerNorm.weight": (512,),
}
# not in our module: no FFN biases (add_bias_fnn false), no absolute position table (the hub file carries one that
# the remote code never reads under rotary positions; `rename` drops it, see the golden fixture nt_v2)
V2_ABSENT = ("esm.encoder.layer.0.intermediate.dense.bias", "esm.encoder.layer.0.output.dense.bias",
             "esm.embeddings.position_embeddings.weight")


def test_v2_parameter_names_and_shapes_are_the_published_ones():
    with torch.device("meta"):
        backbone = build_backbone(get_model_spec("nt_v2_50m"))
    shapes = {k: tuple(v.shape) for k, v in backbone.state_dict().items()}
    for key, shape in V2_LAYER0.items():
        assert shapes[key] == shape, key
    assert not set(V2_ABSENT) & set(shapes)
    assert shapes["esm.embeddings.word_embeddings.weight"] == (4107, 512)


def test_v2_round_trip_our_snapshot_loads_and_the_gated_ffn_is_used(v2):
    model = build_model(_card_with("nt_v2_50m", v2), 2, size="checkpoint").eval()
    layer = model.backbone.esm.encoder.layer[0]
    assert type(layer.intermediate).__name__ == "GatedFFN" and layer.output.dense.bias is None
    with torch.no_grad():
        x = torch.randn(3, 32)
        gate, value = layer.intermediate.dense(x).chunk(2, -1)
        torch.testing.assert_close(layer.intermediate(x), torch.nn.functional.silu(gate) * value)
        out = model.embed(random_batch([30, 8], seed=4))
    assert out.shape == (2, 32) and torch.isfinite(out).all()


def test_wrong_vocabulary_is_refused(tmp_path, v1):
    import shutil

    from suite.errors import SuiteError

    copy = shutil.copytree(v1, tmp_path / "bad")
    (copy / "vocab.txt").write_text("\n".join(published_vocab(6)[:100]))
    with pytest.raises(SuiteError, match="not a Nucleotide Transformer vocabulary"):
        build_model(_card_with("nt_500m_human_ref", copy), 2, size="checkpoint")


def test_finetune_and_probe_on_real_sequences(v1, data_env):
    from suite.data.cache import load_split
    from suite.tasks import get_task
    from suite.train.evaluate import SplitData
    from suite.train.loop import FitConfig, fit, seed_everything

    task = get_task("tf_mouse_2")
    train, dev = load_split(task, "train"), load_split(task, "dev")
    cfg = FitConfig(epochs=1, batch_size=16, lr=1e-3, warmup_frac=0.0, patience=None, eval_batch_size=32)
    for mode in ("finetune", "probe"):
        seed_everything(0)
        model = build_model(_card_with("nt_500m_human_ref", v1), task.n_classes, size="checkpoint")
        model.set_mode(mode)
        before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
        result = fit(model, SplitData(train.seqs, train.labels, np.arange(48)),
                     SplitData(dev.seqs, dev.labels, np.arange(32)), cfg, task.metric, device=torch.device("cpu"))
        assert result.steps == 3 and np.isfinite(result.history[-1]["train/loss"])
        changed = any(not torch.equal(before[k], v) for k, v in model.backbone.state_dict().items())
        assert changed == (mode == "finetune")
