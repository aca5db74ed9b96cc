"""AdamW parameter groups: each trainable parameter once; decay only on matmul / conv weights; `_optim` honoured."""

import pytest
import torch
from torch import nn

from suite.models import all_models, build_model, get_model_spec
from suite.train.optim import param_groups

WD = 0.1


def group_of(groups, param):
    found = [g for g in groups if any(p is param for p in g["params"])]
    assert len(found) == 1, f"in {len(found)} groups"
    return found[0]


def assert_covers_trainable_exactly_once(model, groups):
    grouped = [id(p) for g in groups for p in g["params"]]
    assert len(grouped) == len(set(grouped))
    assert set(grouped) == {id(p) for p in model.parameters() if p.requires_grad}


class Toy(nn.Module):
    def __init__(self):
        super().__init__()
        self.tokens = nn.Embedding(10, 8)
        self.pos_emb = nn.Parameter(torch.zeros(1, 16, 8))  # a learned position table that is no nn.Embedding
        self.conv = nn.Conv1d(8, 8, 3)
        self.norm = nn.LayerNorm(8)
        self.bn = nn.BatchNorm1d(8)
        self.fc = nn.Linear(8, 8)
        self.frozen = nn.Linear(8, 8)
        self.frozen.requires_grad_(False)
        self.special = nn.Parameter(torch.ones(4, 4))
        self.special._optim = {"weight_decay": 0.0, "lr": 1e-3}
        self.gain = nn.Parameter(torch.ones(()))


def test_decay_only_on_matmul_and_conv_weights():
    model = Toy()
    groups = param_groups(model, WD)
    assert_covers_trainable_exactly_once(model, groups)
    decayed = {id(p) for g in groups if g["weight_decay"] == WD for p in g["params"]}
    assert decayed == {id(model.fc.weight), id(model.conv.weight)}
    for p in (model.fc.bias, model.conv.bias, model.norm.weight, model.norm.bias, model.bn.weight, model.bn.bias,
              model.tokens.weight, model.pos_emb, model.gain):
        assert group_of(groups, p)["weight_decay"] == 0.0


def test_frozen_parameters_are_left_out():
    model = Toy()
    grouped = {id(p) for g in param_groups(model, WD) for p in g["params"]}
    assert id(model.frozen.weight) not in grouped and id(model.frozen.bias) not in grouped


def test_optim_tags_get_their_own_group_and_equal_settings_merge():
    model = Toy()
    groups = param_groups(model, WD)
    special = group_of(groups, model.special)
    assert special["lr"] == 1e-3 and special["weight_decay"] == 0.0 and special["params"] == [model.special]
    assert len(groups) == 3  # decayed, not decayed, the `_optim` one
    assert all(set(g) <= {"params", "weight_decay", "lr"} for g in groups)
    torch.optim.AdamW(groups, lr=1e-2, weight_decay=WD)  # AdamW takes them as they are


def test_tied_weights_appear_once():
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 4))
    model[1].weight = model[0].weight
    assert_covers_trainable_exactly_once(model, param_groups(model, WD))


def test_probe_mode_groups_only_the_head():
    model = build_model(get_model_spec("findna_t"), 2, size="tiny", weights=False)
    model.set_mode("probe")
    groups = param_groups(model, WD)
    assert_covers_trainable_exactly_once(model, groups)
    assert {id(p) for g in groups for p in g["params"]} == {id(p) for p in model.head.parameters()}


@pytest.mark.parametrize("name", sorted(all_models()))
def test_every_card_is_covered_and_norms_and_tables_are_not_decayed(name):
    spec = get_model_spec(name)
    model = build_model(spec, 3, size="tiny" if "tiny" in spec.sizes else None, weights=False)
    groups = param_groups(model, WD)
    assert_covers_trainable_exactly_once(model, groups)
    assert len(groups) <= 4
    for module in model.modules():
        if isinstance(module, (nn.LayerNorm, nn.Embedding, nn.BatchNorm1d)) and module.weight is not None:
            assert group_of(groups, module.weight)["weight_decay"] == 0.0, type(module).__name__


def test_findna_t_learned_positions_are_not_decayed():
    model = build_model(get_model_spec("findna_t"), 2, size="tiny", weights=False)
    groups = param_groups(model, WD)
    assert group_of(groups, model.backbone.positions.weight)["weight_decay"] == 0.0
    assert group_of(groups, model.backbone.stem.weight)["weight_decay"] == WD


def test_hyenadna_filter_is_not_decayed_as_upstream():
    model = build_model(get_model_spec("hyenadna_tiny_1k"), 2, weights=False)
    groups = param_groups(model, WD)
    assert_covers_trainable_exactly_once(model, groups)
    block = model.backbone.blocks[0]
    for p in (block.mixer.filter.proj_in.weight, block.mixer.filter.proj_out.weight, block.mixer.filter.freq,
              block.mixer.filter.bias, block.norm1.weight, model.backbone.embed.weight):
        assert group_of(groups, p)["weight_decay"] == 0.0
    for p in (block.mixer.in_proj.weight, block.mixer.short_conv.weight, block.mlp.fc1.weight):
        assert group_of(groups, p)["weight_decay"] == WD
    assert "z" not in {n.rsplit(".", 1)[-1] for n, _ in model.named_parameters()}  # a buffer, not trained
