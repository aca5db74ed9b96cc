"""Probing on cached embeddings (suite/train/embeddings.py): the head trained on the frozen backbone's cached
vectors scores what the head trained through the backbone scores, and a second seed reads the cache instead of
running the backbone again. Real data (the first 400 / 200 / 200 rows of GUE tf_mouse_2), tiny models, caches
under tmp_path."""

import dataclasses

import numpy as np
import pytest
import torch

from suite.data.cache import EncodedSplit, load_split
from suite.data.encode import EncodedSequences
from suite.errors import SuiteError
from suite.models import build_model, get_model_spec
from suite.models.classifier import PooledBatch
from suite.tasks import get_task
from suite.train.embeddings import embed_splits, probe_identity, state_digest, tokenizer_digest
from suite.train.evaluate import SplitData, evaluate
from suite.train.loop import FitConfig, fit, seed_everything
from tests.conftest import torch_threads

CPU = torch.device("cpu")
IDENTITY = {"test": "a tiny model on tf_mouse_2"}  # what a trial's probe_identity stands for here


ROWS = {"train": 400, "dev": 200, "test": 200}


def head_of(split: EncodedSplit, n: int) -> EncodedSplit:
    """The first n rows of an encoded split, named by their own data key (as a smaller file would be)."""
    seqs = EncodedSequences(split.seqs.codes, split.seqs.offsets[: n + 1], split.seqs.n_iupac)
    return dataclasses.replace(split, seqs=seqs, labels=split.labels[:n], sha256=f"{split.sha256}|first {n}")


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):  # tiny models: faster on one thread, and no oversubscription of a busy machine
        yield


@pytest.fixture(scope="module")
def mouse2(shared_data):
    task = get_task("tf_mouse_2")
    return task, {s: head_of(load_split(task, s, data_dir=shared_data), n) for s, n in ROWS.items()}


def probe_model(name, task, seed, backbone_state=None, **card):
    """A probe as run_trial builds it: seeded, then the card's weights (here: a state given) into the backbone."""
    seed_everything(seed)
    spec = dataclasses.replace(get_model_spec(name), **card)
    model = build_model(spec, task.n_classes, size="tiny" if "tiny" in spec.sizes else None,
                        overrides={"max_len": task.max_bp}, weights=False)
    if backbone_state is not None:
        model.backbone.load_state_dict(backbone_state)
    model.set_mode("probe")
    return model


def count_backbone_calls(model):
    calls = []
    model.backbone.register_forward_hook(lambda module, args, out: calls.append(len(args[0])))
    return calls


def run_probe(model, splits, vectors=None):
    """Train the head 3 epochs (validation: dev), then test: (fit result, test metrics)."""
    vectors = vectors or {}

    def view(s):
        return SplitData(splits[s].seqs, splits[s].labels, np.arange(len(splits[s])), vectors.get(s))
    cfg = FitConfig(epochs=3, batch_size=32, lr=3e-3, patience=None, eval_batch_size=64)
    result = fit(model, view("train"), view("dev"), cfg, "mcc", device=CPU)
    test, _ = evaluate(model, view("test"), 64, CPU)
    return result, test


def assert_same_metrics(a, b):
    (fit_a, test_a), (fit_b, test_b) = a, b
    assert fit_a.best_epoch == fit_b.best_epoch
    for row_a, row_b in zip(fit_a.history, fit_b.history, strict=True):
        assert row_a.keys() == row_b.keys()
        for key in row_a:
            assert row_a[key] == pytest.approx(row_b[key], abs=1e-5), key
    for key in test_a:
        assert test_a[key] == pytest.approx(test_b[key], abs=1e-5), key


@pytest.mark.parametrize("name, card", [("findna", {}), ("cnn", {"head": "mlp", "head_dropout": 0.2})])
def test_the_cached_probe_scores_what_the_probe_through_the_backbone_scores(mouse2, tmp_path, name, card):
    """Same seed, same batches, same dropout masks in the head: only where the vectors come from differs. The MLP
    head with dropout checks that the cached path draws the same random numbers."""
    task, splits = mouse2
    through = run_probe(probe_model(name, task, 0, **card), splits)
    model = probe_model(name, task, 0, **card)
    calls = count_backbone_calls(model)
    vectors = embed_splits(model, splits, IDENTITY, 64, CPU, tmp_path)
    n_embedded = sum(calls)
    assert n_embedded == sum(len(s) for s in splits.values())  # each row of each split once
    cached = run_probe(model, splits, vectors)
    assert sum(calls) == n_embedded  # the head trained and was tested without the backbone
    assert_same_metrics(through, cached)


def test_a_second_seed_reads_the_cache_and_never_runs_the_backbone(mouse2, tmp_path):
    task, splits = mouse2
    first = probe_model("findna", task, 0)
    pretrained = {k: v.clone() for k, v in first.backbone.state_dict().items()}  # the weights every seed loads
    embed_splits(first, splits, IDENTITY, 64, CPU, tmp_path)
    entries = sorted(p.name for p in (tmp_path / "embeddings").iterdir())
    assert len(entries) == 3 and all(e.startswith("tf_mouse_2.") for e in entries)

    second = probe_model("findna", task, 1, backbone_state=pretrained)
    calls = count_backbone_calls(second)
    vectors = embed_splits(second, splits, IDENTITY, 64, CPU, tmp_path)
    result, test = run_probe(second, splits, vectors)
    assert calls == [] and sorted(p.name for p in (tmp_path / "embeddings").iterdir()) == entries
    assert_same_metrics((result, test), run_probe(probe_model("findna", task, 1, backbone_state=pretrained), splits))


def test_what_fixes_the_vectors_is_in_the_key(mouse2, tmp_path):
    """A randomly initialised backbone differs from seed to seed (the quick profile), so its vectors do too: the
    backbone's state is in the key. So is the trial's identity (model card, size, data …)."""
    task, splits = mouse2
    small = {"train": splits["dev"]}
    a, b = probe_model("findna", task, 0), probe_model("findna", task, 1)
    assert state_digest(a.backbone) != state_digest(b.backbone)
    first = embed_splits(a, small, IDENTITY, 64, CPU, tmp_path)["train"]
    calls = count_backbone_calls(b)
    other = embed_splits(b, small, IDENTITY, 64, CPU, tmp_path)["train"]
    assert calls and not np.allclose(first, other)
    calls = count_backbone_calls(a)
    embed_splits(a, small, {**IDENTITY, "size": "another"}, 64, CPU, tmp_path)
    assert calls
    assert len(list((tmp_path / "embeddings").iterdir())) == 3


def test_pooled_vectors_are_for_a_frozen_backbone_only(mouse2, tmp_path):
    task, _ = mouse2
    model = build_model(get_model_spec("cnn"), task.n_classes, overrides={"max_len": task.max_bp}, weights=False)
    batch = PooledBatch(torch.zeros(2, model.embed_dim), torch.zeros(2, dtype=torch.long))
    with pytest.raises(SuiteError, match="finetune mode"):
        model(batch)
    with pytest.raises(SuiteError, match="probe mode"):
        embed_splits(model, {}, IDENTITY, 64, CPU, tmp_path)
    model.set_mode("probe")
    assert model(batch).shape == (2, task.n_classes)
    with pytest.raises(SuiteError, match="width 3"):
        model(PooledBatch(torch.zeros(2, 3), torch.zeros(2, dtype=torch.long)))


def test_a_probe_trial_embeds_each_split_once_and_a_rerun_reads_them(data_env, tmp_path, monkeypatch):
    """run_trial in probe mode (suite/runs/trial.py): one cache entry per split; the same trial again reads them
    and scores the same."""
    from suite.runs.plan import expand
    from suite.runs.request import RunRequest
    from suite.runs.trial import run_trial

    monkeypatch.setenv("SUITE_CACHE_DIR", str(tmp_path / "cache"))
    request = RunRequest(models=("cnn",), tasks="tf_mouse_2", seeds=(0, 1), mode="probe", applied_dir=None,
                         sets={"epochs": 2, "batch_size": 64, "max_train_rows": 300})
    trial, seed1 = expand(request).trials
    assert trial.key != seed1.key and probe_identity(trial.to_dict()) == probe_identity(seed1.to_dict())
    first = run_trial(trial, tmp_path / "first", threads=1)
    entries = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "cache" / "embeddings").iterdir()}
    assert sorted(name.split(".")[1] for name in entries) == ["dev", "test", "train"]
    again = run_trial(trial, tmp_path / "again", threads=1)
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "cache" / "embeddings").iterdir()} == entries
    assert again.test == pytest.approx(first.test) and again.history == first.history


def test_a_hub_snapshots_tokenizer_files_are_in_the_identity(tmp_path):
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "config.json").write_text("{}")
    (snapshot / "tokenizer.json").write_text('{"model": "BPE"}')
    (snapshot / "model.safetensors").write_bytes(b"weights: the backbone's state stands for them")
    card = {"weights": {"hub_id": "someone/model", "local": str(snapshot)}}
    first = tokenizer_digest(card)
    assert set(first) == {"config.json", "tokenizer.json"}
    (snapshot / "tokenizer.json").write_text('{"model": "BPE", "merges": []}')
    assert tokenizer_digest(card)["tokenizer.json"] != first["tokenizer.json"]
    assert tokenizer_digest({"weights": {"local": "none"}}) == {}
