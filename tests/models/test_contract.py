"""The backbone contract (suite/models/contract.py): every family honours what it declares, every card's pooling
is one its family can feed, and an impossible pooling is refused in one line naming what would work."""

import pytest
import torch

from suite.errors import SuiteError
from suite.models import all_models, build_backbone, family_names
from suite.models.classifier import SequenceClassifier
from suite.models.contract import Outputs, allowed_poolings, backbone_outputs, check_pooling


def smallest_card_of(family: str):
    """(card, size): the family's first card, at its `tiny` size where it has one."""
    spec = next(s for s in all_models().values() if s.family == family)
    return spec, "tiny" if "tiny" in spec.sizes else spec.default_size


@pytest.mark.parametrize("family", family_names())
def test_every_family_honours_its_declaration(family):
    spec, size = smallest_card_of(family)
    torch.manual_seed(0)
    backbone = build_backbone(spec, size, {"max_len": 80}).eval()
    x = torch.nn.functional.one_hot(torch.randint(0, 4, (2, 80)), 5).float()
    x[1, 50:] = 0
    with torch.no_grad():
        tokens, cls = backbone(x, torch.tensor([80, 50]))
    declared = backbone_outputs(backbone)
    assert bool(tokens.count_nonzero()) == declared.tokens, (spec.name, declared)
    assert cls.shape[:2] == (2, declared.cls), (spec.name, declared)


@pytest.mark.parametrize("name", sorted(all_models()))
def test_every_cards_pooling_is_one_its_family_declares_it_can_feed(name):
    spec = all_models()[name]
    with torch.device("meta"):
        backbone = build_backbone(spec)
    assert spec.pooling in allowed_poolings(backbone_outputs(backbone)), (name, backbone_outputs(backbone))


def test_the_contract_says_which_poolings_each_output_feeds_and_refuses_the_rest_in_one_line():
    assert allowed_poolings(Outputs(tokens=False, cls=1)) == ["cls_mean"]
    assert allowed_poolings(Outputs(tokens=True, cls=0)) == ["mean", "max", "mean_max"]
    assert len(allowed_poolings(Outputs(tokens=True, cls=3))) == 6
    with pytest.raises(SuiteError) as info:
        check_pooling("mean", Outputs(tokens=False, cls=1), "model 'cnn'")
    assert info.value.line() == ("pooling 'mean' reads per-position outputs, but model 'cnn' gives one vector per "
                                 "sequence; use pooling: cls_mean")


def test_a_backbone_whose_module_declares_nothing_is_refused():
    backbone = torch.nn.Linear(5, 4)
    backbone.width = 4
    with pytest.raises(SuiteError, match="declares no OUTPUTS"):
        SequenceClassifier(backbone, 2)
