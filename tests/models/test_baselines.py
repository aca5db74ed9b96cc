"""The two baselines: the genomic-benchmarks CNN architecture and k-mer logistic regression."""

import numpy as np
import torch

from suite.data.batching import collate
from suite.data.cache import load_split
from suite.data.encode import encode
from suite.models import build_model, get_model_spec
from suite.models.families.kmer_linear import kmer_features
from suite.tasks import get_task


def test_cnn_matches_the_published_architecture():
    from genomic_benchmarks.models.torch import CNN

    ours = build_model(get_model_spec("cnn"), 3, overrides={"max_len": 500}, weights=False)
    theirs = CNN(number_of_classes=3, vocab_size=6, embedding_dim=100, input_len=500, device="cpu")
    count = lambda m: sum(p.numel() for p in m.parameters())
    # identical but for the embedding table: their 6-token Embedding vs our bias-free Linear(5 → 100)
    assert count(ours) - 5 * 100 == count(theirs) - 6 * 100
    shapes = lambda m: [tuple(p.shape) for n, p in m.named_parameters() if "embedding" not in n]
    assert shapes(ours.backbone)[:-2] == shapes(theirs.cnn_model) and shapes(ours.backbone)[-2:] == shapes(theirs.dense_model)[:2]


def test_cnn_pads_and_truncates_to_its_input_length():
    model = build_model(get_model_spec("cnn"), 2, overrides={"max_len": 100}, weights=False).eval()
    seqs = encode(["ACGT" * 10, "ACGT" * 40])
    logits = model(collate(seqs, np.array([0, 1]), np.array([0, 1])))
    assert logits.shape == (2, 2) and torch.isfinite(logits).all()


def test_kmer_features_count_real_kmers_only():
    seqs = encode(["ACGTA", "AANAA", "CC"])
    batch = collate(seqs, np.zeros(3, dtype=int), np.arange(3))
    feats = kmer_features(batch.one_hot, batch.lengths, k=2) / 16  # back to frequencies
    ac, cg, gt, ta, aa, cc = 0 * 4 + 1, 1 * 4 + 2, 2 * 4 + 3, 3 * 4 + 0, 0, 5
    assert torch.allclose(feats[0][[ac, cg, gt, ta]], torch.full((4,), 0.25))
    assert feats[1][aa] == 1.0 and feats[1].sum() == 1.0  # the k-mers touching N are skipped
    assert feats[2][cc] == 1.0  # and padding never makes a k-mer


def test_kmer_lr_agrees_with_scikit_learn_logistic_regression(shared_data, monkeypatch):
    from sklearn.linear_model import LogisticRegression

    from suite.train.evaluate import SplitData
    from suite.train.loop import FitConfig, fit, seed_everything

    monkeypatch.setenv("SUITE_DATA_DIR", str(shared_data))
    task = get_task("tf_mouse_2")
    train, dev, test = (load_split(task, s) for s in ("train", "dev", "test"))

    def features(split):
        batch = collate(split.seqs, split.labels, np.arange(len(split)))
        return kmer_features(batch.one_hot, batch.lengths, k=4).numpy()

    reference = LogisticRegression(C=1.0, max_iter=2000).fit(features(train), train.labels)
    ref_pred = reference.predict(features(test))

    seed_everything(0)
    model = build_model(get_model_spec("kmer_lr"), 2, weights=False)
    cfg = FitConfig(epochs=12, batch_size=128, lr=0.05, weight_decay=1e-4, warmup_frac=0.0, patience=None)
    rows = np.arange(len(train))
    fit(model, SplitData(train.seqs, train.labels, rows), SplitData(dev.seqs, dev.labels, np.arange(len(dev))),
        cfg, "accuracy", device=torch.device("cpu"))
    model.eval()
    with torch.no_grad():
        ours = model(collate(test.seqs, test.labels, np.arange(len(test)))).argmax(-1).numpy()
    ref_acc, our_acc = (ref_pred == test.labels).mean(), (ours == test.labels).mean()
    assert abs(ref_acc - our_acc) < 0.03, (ref_acc, our_acc)
    assert (ours == ref_pred).mean() > 0.85
