"""The baselines: the genomic-benchmarks CNN architecture, and k-mer logistic regression fitted to convergence."""

import itertools

import numpy as np
import pytest
import torch

from suite.data.batching import collate
from suite.data.cache import load_split
from suite.data.encode import encode
from suite.errors import SuiteError
from suite.models import build_backbone, build_model, get_model_spec
from suite.models.families.kmer_linear import kmer_features
from suite.tasks import get_task
from suite.models.heads import final_linear
from suite.train.convex import copy_into_head, fit_logistic, logistic_regression
from suite.train.evaluate import SplitData, predict
from suite.train.loop import FitConfig, fit
from suite.train.metrics import all_metrics

CPU = torch.device("cpu")


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


# ---- k-mer features ---------------------------------------------------------------------------------------------
def batch_of(seqs):
    return collate(encode(seqs), np.zeros(len(seqs), dtype=np.int64), np.arange(len(seqs)))


def test_kmer_features_count_real_kmers_only():
    batch = batch_of(["ACGTA", "AANAA", "CC"])
    counts = kmer_features(batch.one_hot, batch.lengths, 2)
    ac, cg, gt, ta, aa, cc = 0 * 4 + 1, 1 * 4 + 2, 2 * 4 + 3, 3 * 4 + 0, 0, 5
    assert counts[0][[ac, cg, gt, ta]].tolist() == [1, 1, 1, 1] and counts[0].sum() == 4
    assert counts[1][aa] == 2 and counts[1].sum() == 2  # the k-mers touching N are skipped
    assert counts[2][cc] == 1 and counts[2].sum() == 1  # and padding never makes a k-mer


def test_kmer_features_of_a_k_range_are_the_counts_of_each_k_concatenated():
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGTN" if i % 3 == 0 else "ACGT"), rng.integers(1, 30))) for i in range(40)]
    batch = batch_of(seqs)
    got = kmer_features(batch.one_hot, batch.lengths, 1, 4).numpy()
    names = ["".join(p) for k in range(1, 5) for p in itertools.product("ACGT", repeat=k)]  # A=0 C=1 G=2 T=3
    column = {name: i for i, name in enumerate(names)}
    for row, seq in enumerate(seqs):
        want = np.zeros(len(names))
        for k in range(1, 5):
            for i in range(len(seq) - k + 1):
                if "N" not in seq[i : i + k]:
                    want[column[seq[i : i + k]]] += 1
        assert np.array_equal(got[row], want), seq
    freq = kmer_features(batch.one_hot, batch.lengths, 1, 2, scale="freq")
    assert torch.allclose(freq[0, :4].sum(), torch.tensor(1.0)) and torch.allclose(freq[0, 4:].sum(), torch.tensor(1.0))
    assert torch.equal(kmer_features(batch.one_hot, batch.lengths, 1, 4, scale="log1p"), torch.log1p(torch.from_numpy(got)).float())


def test_kmer_card_widths_and_the_single_k_key():
    spec = get_model_spec("kmer_lr")
    assert build_backbone(spec).width == 4 + 16 + 64 + 256 + 1024 + 4096 == 5460
    assert build_backbone(spec, "k4").width == build_backbone(spec, overrides={"k": 4}).width == 256
    assert build_backbone(spec, overrides={"k_min": 2, "k_max": 3}).width == 16 + 64


# ---- logistic regression fitted to convergence ------------------------------------------------------------------
def csr_features(split: SplitData, k_min: int, k_max: int, scale: str):
    """The k-mer features computed directly (not through the model), as the CSR matrix scikit-learn gets."""
    import scipy.sparse as sp

    batch = collate(split.seqs, split.labels, split.rows)
    return sp.csr_matrix(kmer_features(batch.one_hot, batch.lengths, k_min, k_max, scale).numpy())


def check_against_scikit_learn(model, train, val, cfg, metric, k_max):
    result = fit_logistic(model, train, val, cfg, metric, device=CPU)
    scale = model.backbone.config.scale
    x_train, x_val = csr_features(train, 1, k_max, scale), csr_features(val, 1, k_max, scale)
    scores, references = [], []
    for row, C in zip(result.history, sorted(cfg.l2_grid)):
        reference = logistic_regression(C).fit(x_train, train.y)
        references.append(reference)
        assert row["l2_C"] == C and row["converged"] == 1 and row["lbfgs_iter"] == reference.n_iter_.max()
        scores.append(all_metrics(val.y, reference.predict_proba(x_val))[metric])
        assert row[f"val/{metric}"] == pytest.approx(scores[-1], abs=1e-12)
    chosen = int(np.argmax(scores))  # the first maximum: ties keep the smaller C
    assert result.best_epoch == chosen and result.best_val[metric] == pytest.approx(scores[chosen], abs=1e-12)
    reference = references[chosen]
    ours = predict(model, val, 64, CPU)
    theirs = reference.predict_proba(x_val)
    assert (ours.argmax(1) == theirs.argmax(1)).mean() >= 0.999
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-5)  # the same fit: float32 forward vs float64
    return result


@pytest.mark.parametrize("n_classes", [2, 3])
def test_the_head_takes_scikit_learns_coefficients_exactly(n_classes):
    """copy_into_head: softmax(head(features)) = predict_proba, for sklearn's 1-row binary form and multinomial."""
    data = synthetic_three_classes(300, 2)
    keep = data.rows[data.y < n_classes]
    data = SplitData(data.seqs, data.labels, keep)
    model = build_model(get_model_spec("kmer_lr"), n_classes, overrides={"k_max": 3}, weights=False)
    x = csr_features(data, 1, 3, model.backbone.config.scale)
    reference = logistic_regression(0.1).fit(x, data.y)
    copy_into_head(reference, final_linear(model.head), n_classes)
    np.testing.assert_allclose(predict(model, data, 64, CPU), reference.predict_proba(x), rtol=0, atol=1e-5)


def test_kmer_lr_is_scikit_learn_logistic_regression_with_c_chosen_on_validation(shared_data, monkeypatch):
    monkeypatch.setenv("SUITE_DATA_DIR", str(shared_data))
    task = get_task("tf_mouse_2")
    train, dev = (load_split(task, s) for s in ("train", "dev"))
    rows = np.random.default_rng(0).permutation(len(train))[:1000]  # a subset keeps the test fast
    train_rows, val = SplitData(train.seqs, train.labels, np.sort(rows)), SplitData(dev.seqs, dev.labels, np.arange(len(dev)))
    spec = get_model_spec("kmer_lr")
    model = build_model(spec, 2, weights=False)
    cfg = FitConfig.from_hparams({**spec.training["finetune"], "l2_grid": [1.0, 0.01, 0.1]})  # a YAML list, in any order
    assert cfg.solver == "lbfgs" and cfg.l2_grid == (1.0, 0.01, 0.1)
    result = check_against_scikit_learn(model, train_rows, val, cfg, task.metric, k_max=6)
    assert [r["l2_C"] for r in result.history] == [0.01, 0.1, 1.0] and result.steps == sum(r["lbfgs_iter"] for r in result.history)
    assert all(r["train/loss"] > 0 for r in result.history)


def synthetic_three_classes(n: int, seed: int) -> SplitData:
    """Random sequences; class c carries a few copies of its own 4-mer (class 0: none), so classes overlap."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    seqs = []
    for label in labels:
        seq = list(rng.choice(list("ACGT"), rng.integers(40, 60)))
        for _ in range(rng.integers(0, 3) if label else 0):
            at = rng.integers(0, len(seq) - 4)
            seq[at : at + 4] = list(("", "GATC", "TTAA")[label])
        seqs.append("".join(seq))
    return SplitData(encode(seqs), labels, np.arange(n))


def test_three_classes_are_multinomial_logistic_regression():
    spec = get_model_spec("kmer_lr")
    model = build_model(spec, 3, overrides={"k_max": 3}, weights=False)
    cfg = FitConfig(solver="lbfgs", l2_grid=(0.01, 0.1, 1.0), batch_size=64)
    check_against_scikit_learn(model, synthetic_three_classes(400, 0), synthetic_three_classes(200, 1), cfg, "accuracy", 3)
    assert model.head.weight.shape == (3, 4 + 16 + 64)


def test_fit_dispatches_on_the_solver_and_refuses_what_it_cannot_fit():
    train, val = synthetic_three_classes(120, 0), synthetic_three_classes(60, 1)
    spec = get_model_spec("kmer_lr")
    model = build_model(spec, 3, overrides={"k_max": 2}, weights=False)
    result = fit(model, train, val, FitConfig(solver="lbfgs", l2_grid=(0.1,)), "accuracy", device=CPU)
    assert [r["l2_C"] for r in result.history] == [0.1] and result.best_epoch == 0
    assert FitConfig.from_hparams({"l2_grid": 0.5}).l2_grid == (0.5,)
    with pytest.raises(SuiteError, match="unknown solver 'sgd'"):
        fit(model, train, val, FitConfig(solver="sgd"), "accuracy", device=CPU)
    mlp = build_model(spec, 3, overrides={"k_max": 2}, weights=False)
    mlp.head = torch.nn.Sequential(torch.nn.Linear(20, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    with pytest.raises(SuiteError, match="fits a linear head"):
        fit(mlp, train, val, FitConfig(solver="lbfgs"), "accuracy", device=CPU)
