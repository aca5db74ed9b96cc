"""SequenceClassifier: pooling, heads, probe vs fine-tune, loading backbone weights."""

import dataclasses

import pytest
import torch

from suite.errors import SuiteError
from suite.models import all_models, build_model, get_model_spec
from suite.models.classifier import SequenceClassifier
from suite.models.families.chordmixer import ChordMixer, ChordMixerConfig
from suite.models.weights import load_into
from tests.models.helpers import random_batch


def tiny_backbone(n_cls=3, seed=0, **kw):
    torch.manual_seed(seed)
    return ChordMixer(ChordMixerConfig(track_size=4, hidden=16, layers=1, n_cls=n_cls, max_len=30, **kw))


@pytest.mark.parametrize("name", sorted(all_models()))
def test_every_card_embeds_and_classifies_at_tiny_size(name):
    """Every card, at its `tiny` size where it has one (the baselines are small already)."""
    spec = get_model_spec(name)
    model = build_model(spec, 3, size="tiny" if "tiny" in spec.sizes else None, weights=False)
    batch = random_batch([20, 7, 13], n_classes=3)
    emb = model.embed(batch)
    logits = model.classify(batch)
    assert emb.shape == (3, model.embed_dim) and logits.shape == (3, 3)
    assert torch.isfinite(logits).all()
    torch.nn.functional.cross_entropy(model(batch), batch.labels).backward()
    assert all(p.grad is not None for p in model.parameters())


def test_poolings():
    backbone = tiny_backbone().double()
    batch = random_batch([30, 5])
    tokens, cls = backbone(batch.one_hot.double(), batch.lengths)
    mean = SequenceClassifier(backbone, 2, pooling="mean").double().embed(batch)
    torch.testing.assert_close(mean[1], tokens[1, :5].mean(0))  # real positions only
    cls_mean = SequenceClassifier(backbone, 2, pooling="cls_mean").double().embed(batch)
    torch.testing.assert_close(cls_mean, cls.mean(1))
    both = SequenceClassifier(backbone, 2, pooling="cls_and_mean", head="mlp").double()
    assert both.embed_dim == 2 * backbone.width
    torch.testing.assert_close(both.embed(batch), torch.cat([cls_mean, mean], dim=-1))
    assert both.classify(batch).shape == (2, 2)


def test_cls_pooling_without_cls_tokens_is_an_error():
    with pytest.raises(SuiteError, match="n_cls = 0"):
        SequenceClassifier(tiny_backbone(n_cls=0), 2, pooling="cls_mean")


def test_probe_freezes_the_backbone_and_finetune_does_not():
    model = SequenceClassifier(tiny_backbone(mlp_dropout=0.5), 2, head="mlp", head_dropout=0.1)
    batch = random_batch([30, 12, 3])
    model.set_mode("probe")
    model.train()
    assert not model.backbone.training and model.head.training  # dropout off in the frozen backbone
    assert all(not p.requires_grad for p in model.backbone.parameters())
    torch.nn.functional.cross_entropy(model(batch), batch.labels).backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert all(p.grad is not None for p in model.head.parameters())
    first = model.embed(batch)
    assert not first.requires_grad and torch.equal(first, model.embed(batch))  # deterministic: eval backbone

    model.zero_grad(set_to_none=True)
    model.set_mode("finetune")
    assert model.backbone.training
    torch.nn.functional.cross_entropy(model(batch), batch.labels).backward()
    assert all(p.requires_grad and p.grad is not None for p in model.parameters())
    with pytest.raises(SuiteError):
        model.set_mode("linear")


def test_load_backbone_exact_copies_and_reports():
    teacher, student = tiny_backbone(seed=1), tiny_backbone(seed=2)
    model = SequenceClassifier(student, 2).eval()
    report = load_into(model.backbone, teacher.state_dict(), source="t", fix="")
    assert report.left_random == () and report.unused == ()
    batch = random_batch([30, 4])
    torch.testing.assert_close(model.backbone(batch.one_hot, batch.lengths)[1], teacher(batch.one_hot, batch.lengths)[1])


def test_load_backbone_names_mismatched_keys_and_shapes():
    model = SequenceClassifier(tiny_backbone(), 2)
    state = tiny_backbone().state_dict()
    state["layers.0.0.extra"] = state.pop("layers.0.0.fc1.bias")
    with pytest.raises(SuiteError, match=r"layers\.0\.0\.fc1\.bias.*layers\.0\.0\.extra"):
        load_into(model.backbone, state, source="t", fix="")
    wrong = tiny_backbone().state_dict()
    wrong["stem.weight"] = torch.zeros(3, 5)
    with pytest.raises(SuiteError, match=r"stem\.weight \(3, 5\)"):
        load_into(model.backbone, wrong, source="t", fix="", match="intersect")


def test_load_backbone_intersect_keeps_extra_blocks_random():
    """Authors' loader (facts §5.1): a longer max_len has more blocks; the shared ones are copied."""
    short = tiny_backbone(seed=1, width=28)  # 6 blocks for max_len 30 + 3
    long = ChordMixer(ChordMixerConfig(track_size=4, hidden=16, layers=1, n_cls=3, max_len=100, width=28))  # 7
    model = SequenceClassifier(long, 2)
    before = long.layers[0][6].fc1.weight.clone()
    report = load_into(model.backbone, short.state_dict(), source="t", fix="", match="intersect")
    assert report.left_random == tuple(sorted(f"layers.0.6.{k}" for k in ("fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight")))
    assert torch.equal(long.layers[0][0].fc1.weight, short.layers[0][0].fc1.weight)
    assert torch.equal(long.layers[0][6].fc1.weight, before)


def test_build_model_reads_weights_from_the_card_and_fails_loudly_without(tmp_path):
    from safetensors.torch import save_file

    spec = get_model_spec("findna")
    with pytest.raises(SuiteError, match="pretrained weights not found"):
        build_model(dataclasses.replace(spec, weights=dataclasses.replace(spec.weights, local=str(tmp_path))), 2, size="tiny")
    source = build_model(spec, 2, size="tiny", weights=False).backbone
    save_file({f"teacher.{k}": v.contiguous() for k, v in source.state_dict().items()}, str(tmp_path / "ckpt.safetensors"))
    weights = dataclasses.replace(spec.weights, local=str(tmp_path), file="ckpt.safetensors", prefix="teacher.", match="exact")
    model = build_model(dataclasses.replace(spec, weights=weights), 2, size="tiny")
    for key, value in source.state_dict().items():
        assert torch.equal(model.backbone.state_dict()[key], value)


def test_dnabert2_head_is_dropout_then_linear_as_bert_for_sequence_classification():
    """The card's head_dropout 0.1 is applied before the linear head: active in train mode, off in eval."""
    from suite.models.heads import final_linear, linear_head

    model = build_model(get_model_spec("dnabert2"), 3, size="tiny", weights=False)
    dropout, linear = list(model.head.children())
    assert isinstance(dropout, torch.nn.Dropout) and dropout.p == 0.1
    assert linear is final_linear(model.head) and linear.out_features == 3
    pooled = torch.ones(64, model.embed_dim)
    model.train()
    assert not torch.equal(model.head(pooled), linear(pooled))  # some inputs dropped
    model.eval()
    assert torch.equal(model.head(pooled), linear(pooled))
    bare = linear_head(8, 2)  # no dropout: a plain Linear, state-dict keys unchanged
    assert isinstance(bare, torch.nn.Linear) and final_linear(bare) is bare
    assert set(bare.state_dict()) == {"weight", "bias"}
