"""Long-sequence options of the FinDNA backbones (issue 20): activation checkpointing (`model.checkpointing`) gives
the same outputs and gradients, bit for bit, on both ChordMixer rotation paths (slice copies for equal lengths,
per-track gathers for mixed lengths), in both rotation modes and for FinDNA-T."""

import pytest
import torch

from suite.errors import SuiteError
from suite.models import build_backbone, get_model_spec
from suite.runs.request import parse_sets
from tests.conftest import torch_threads

DROPOUT = {"findna": {"mlp_dropout": 0.2, "layer_dropout": 0.1}, "findna_t": {"dropout": 0.2}}


@pytest.fixture(autouse=True)
def one_thread():
    with torch_threads(1):
        yield


def _step(model, x, lengths, weights):
    """Outputs, input gradient and parameter gradients of one forward + backward (dropout on, fixed seed)."""
    model.zero_grad(set_to_none=True)
    x = x.clone().requires_grad_(True)
    torch.manual_seed(7)
    tokens, cls = model(x, lengths)
    ((tokens * weights[0][:, : tokens.shape[1]]).sum() + (cls * weights[1]).sum()).backward()
    return tokens.detach(), cls.detach(), x.grad, {n: p.grad for n, p in model.named_parameters()}


@pytest.mark.parametrize(("card", "rotation", "lengths"), [
    ("findna", "per_sequence", [54, 17, 40]),  # per-track gathers
    ("findna", "per_sequence", [54, 54, 54]),  # slice copies
    ("findna", "batch", [54, 17, 40]),
    ("findna_t", None, [54, 17, 40]),
])
def test_checkpointing_gives_identical_outputs_and_gradients(card, rotation, lengths):
    spec = get_model_spec(card)
    params = {**DROPOUT[card], **({"rotation": rotation} if rotation else {})}
    torch.manual_seed(0)
    plain = build_backbone(spec, "tiny", overrides=params).double().train()
    saving = build_backbone(spec, "tiny", overrides={**params, "checkpointing": True}).double().train()
    saving.load_state_dict(plain.state_dict())
    assert saving.config.checkpointing and not plain.config.checkpointing
    lengths = torch.tensor(lengths)
    x = torch.nn.functional.one_hot(torch.randint(0, 5, (3, 54)), 5).double()
    x = x * (torch.arange(54)[None, :, None] < lengths[:, None, None])
    weights = torch.randn(3, 54, plain.width, dtype=torch.float64), torch.randn(3, plain.n_cls, plain.width,
                                                                                dtype=torch.float64)
    expected, got = _step(plain, x, lengths, weights), _step(saving, x, lengths, weights)
    for a, b in zip(expected[:3], got[:3], strict=True):
        assert torch.equal(a, b)
    assert expected[3].keys() == got[3].keys()
    for name, grad in expected[3].items():
        assert torch.equal(grad, got[3][name]), name
    plain.eval(), saving.eval()
    with torch.no_grad():  # no graph to save memory on: checkpointing steps aside
        assert torch.equal(saving(x, lengths)[0], plain(x, lengths)[0])


def test_checkpointing_is_a_backbone_setting():
    """`--set model.checkpointing=true` reaches the family's config like any backbone key; other values are refused."""
    sets = parse_sets(["model.checkpointing=true"])
    overrides = {key.removeprefix("model."): value for key, value in sets.items()}
    for card in ("findna", "findna_t"):
        assert build_backbone(get_model_spec(card), "tiny", overrides=overrides).config.checkpointing is True
        assert build_backbone(get_model_spec(card), "tiny").config.checkpointing is False
        with pytest.raises(SuiteError, match="checkpointing"):
            build_backbone(get_model_spec(card), "tiny", overrides={"checkpointing": "sometimes"})
