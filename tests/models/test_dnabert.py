"""DNABERT-6 wrapper: published vocab order, tokenizer, loading a tiny checkpoint through the card's code path,
parity with transformers' own BertModel on it, sliding windows, fine-tune and probe on real sequences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from suite.data.batching import collate
from suite.models import build_backbone, build_model, get_model_spec
from suite.models.families.dnabert import KmerTokenizer, published_vocab
from suite.models.spec import ModelSpec
from tests.models.helpers import card_with_weights, random_batch
from tests.models.tiny_snapshots import dnabert_snapshot

VOCAB = {t: i for i, t in enumerate(published_vocab(6))}


def test_vocab_is_the_published_order():
    vocab = published_vocab(6)
    # DNABERT src/transformers/dnabert-config/bert-config-6/vocab.txt, first lines and landmarks
    assert vocab[:10] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "AAAAAA", "AAAAAT", "AAAAAC", "AAAAAG", "AAAATA"]
    assert len(vocab) == 4101 and len(set(vocab)) == 4101
    assert vocab[5 + 4**5] == "TAAAAA" and vocab[5 + 2 * 4**5] == "CAAAAA" and vocab[-1] == "GGGGGG"


def test_tokenizer_overlapping_kmers_with_n_as_unk():
    tok = KmerTokenizer(VOCAB)
    assert tok("ACGTACG") == [2, VOCAB["ACGTAC"], VOCAB["CGTACG"], 3]
    assert tok("AAAAAAT") == [2, 5, 6, 3]
    assert tok("AAAAANAA") == [2, 1, 1, 1, 3]  # every k-mer touching N is [UNK]
    assert tok("ACG") == [2, 3]  # shorter than k: no k-mer


def _card_with(weights_dir) -> ModelSpec:
    """The dnabert6 card resolved exactly as `suite run --set weights=DIR` resolves it."""
    spec, sha = card_with_weights("dnabert6", weights_dir)
    assert sha and spec.weights.local == str(weights_dir.resolve())
    return spec


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory):
    return dnabert_snapshot(tmp_path_factory.mktemp("dna_bert_6"))


def test_loaded_checkpoint_matches_transformers_own_bert(snapshot):
    from transformers import BertModel

    model = build_model(_card_with(snapshot), 2, size="checkpoint")
    model.eval()
    batch = random_batch([40, 23, 9], seed=3)
    reference = BertModel.from_pretrained(snapshot, add_pooling_layer=False).eval()
    seqs = ["".join("ACGTN"[c] for c in row[:n]) for row, n in zip(batch.codes.tolist(), batch.lengths.tolist())]
    with torch.no_grad():
        ours = model.embed(batch)
        for i, seq in enumerate(seqs):
            ids = torch.tensor([KmerTokenizer(VOCAB)(seq)])
            expected = reference(input_ids=ids).last_hidden_state[0, 0]
            torch.testing.assert_close(ours[i], expected, atol=1e-5, rtol=1e-4)


def test_long_inputs_are_windows_averaged(snapshot):
    card = _card_with(snapshot)
    backbone = build_backbone(card, "checkpoint", overrides={"snapshot": str(snapshot), "max_tokens": 12}).eval()
    batch = random_batch([40], seed=5)  # 35 k-mers → windows of 10, 10, 10, 5
    with torch.no_grad():
        _, whole = backbone(batch.one_hot, batch.lengths)
        parts = []
        for start in range(0, 35, 10):  # window w covers k-mers start..start+9 = bases start..start+14
            piece = batch.one_hot[:, start:start + 15]
            _, cls = backbone(piece, torch.tensor([piece.shape[1]]))
            parts.append(cls)
    torch.testing.assert_close(whole, torch.stack(parts).mean(0), atol=1e-5, rtol=1e-4)


def test_published_architecture_has_the_card_count():
    spec = get_model_spec("dnabert6")
    with torch.device("meta"):
        backbone = build_backbone(spec)
    pooler = 768 * 768 + 768  # published, unused (see the card)
    assert sum(p.numel() for p in backbone.parameters()) + pooler == spec.n_parameters


def test_finetune_and_probe_on_real_sequences(snapshot, data_env):
    from suite.data.cache import load_split
    from suite.tasks import get_task
    from suite.train.evaluate import SplitData
    from suite.train.loop import FitConfig, fit, seed_everything

    task = get_task("tf_mouse_2")
    train, dev = load_split(task, "train"), load_split(task, "dev")
    rows = np.arange(48)
    cfg = FitConfig(epochs=1, batch_size=16, lr=1e-3, warmup_frac=0.0, patience=None, eval_batch_size=32)
    for mode in ("finetune", "probe"):
        seed_everything(0)
        model = build_model(_card_with(snapshot), task.n_classes, size="checkpoint")
        model.set_mode(mode)
        before = {k: v.clone() for k, v in model.backbone.state_dict().items()}
        result = fit(model, SplitData(train.seqs, train.labels, rows), SplitData(dev.seqs, dev.labels, np.arange(32)),
                     cfg, task.metric, device=torch.device("cpu"))
        assert result.steps == 3 and np.isfinite(result.history[-1]["train/loss"])
        changed = any(not torch.equal(before[k], v) for k, v in model.backbone.state_dict().items())
        assert changed == (mode == "finetune")  # probe: the backbone stays exactly as loaded
        with torch.no_grad():
            assert model.embed(collate(dev.seqs, dev.labels, np.arange(4))).shape == (4, 32)
