import math

import pytest
import torch
from torch import nn

from suite.errors import SuiteError
from suite.pretrain.findna import (FinDNAPretrainer, FinDNASpec, cl_loss, entropy, mnm_loss, teacher_probs,
                                   update_center, update_teacher)

TAU_S, TAU_T = 0.1, 0.04


def test_mnm_loss_is_ce_at_masked_tokens_only():
    logits = torch.zeros(1, 3, 5)
    logits[0, 1] = torch.tensor([math.log(3.0), 0, 0, 0, 0])  # p(A) = 3/7 at position 1
    logits[0, 2] = 100.0  # an unmasked, wildly wrong position must not count
    targets = torch.tensor([[2, 0, 3]])
    mask = torch.tensor([[True, True, False]])
    expected = (math.log(5.0) + -math.log(3 / 7)) / 2  # mean of the two masked CEs (Eq. 2-3 / M)
    assert mnm_loss(logits, targets, mask).item() == pytest.approx(expected, rel=1e-6)
    assert mnm_loss(logits, targets, torch.zeros_like(mask)).item() == 0.0


def test_cl_loss_softmax_over_tokens_hand_computed():
    # B = 1, K = 2 tokens, D = 1 unit. Student P/τs = [0, ln 3] → p̂ = [1/4, 3/4] over the tokens (Eq. 4).
    # Teacher (Q - ξ)/τt = [0, 0] → q̂ = [1/2, 1/2] (Eq. 5).
    P = torch.tensor([[[0.0], [TAU_S * math.log(3.0)]]])
    Q = torch.tensor([[[5.0], [7.0]]])
    center = torch.tensor([[5.0], [7.0]])
    expected = -(0.5 * math.log(0.25) + 0.5 * math.log(0.75))  # Eq. 8, summed over k
    assert cl_loss(P, Q, center, TAU_S, TAU_T, "tokens", "sum").item() == pytest.approx(expected, rel=1e-6)
    assert cl_loss(P, Q, center, TAU_S, TAU_T, "tokens", "mean").item() == pytest.approx(expected / 2, rel=1e-6)


def test_cl_loss_softmax_over_units_hand_computed():
    # The code's axis: each [CLS] token is a distribution over its D = 2 units. K = 2 tokens, B = 2 samples.
    P = torch.tensor([[[0.0, TAU_S * math.log(3.0)], [0.0, 0.0]],
                      [[0.0, 0.0], [0.0, 0.0]]])
    Q = torch.zeros(2, 2, 2)
    center = torch.tensor([[0.0, 0.0], [0.0, -TAU_T * math.log(3.0)]])  # token 2: q̂ = [1/4, 3/4]
    h_half_quarter = -(0.5 * math.log(0.25) + 0.5 * math.log(0.75))
    h_quarter_half = -(0.25 * math.log(0.5) + 0.75 * math.log(0.5))
    ln2 = math.log(2.0)
    sample1 = h_half_quarter + h_quarter_half  # token 1: q̂ = [1/2,1/2], p̂ = [1/4,3/4]; token 2: p̂ = [1/2,1/2]
    sample2 = ln2 + h_quarter_half
    summed = cl_loss(P, Q, center, TAU_S, TAU_T, "units", "sum").item()
    assert summed == pytest.approx((sample1 + sample2) / 2, rel=1e-6)  # batch mean of Σ_k
    averaged = cl_loss(P, Q, center, TAU_S, TAU_T, "units", "mean").item()
    assert averaged == pytest.approx((sample1 + sample2) / 4, rel=1e-6)  # mean over batch and K
    with pytest.raises(SuiteError):
        cl_loss(P, Q, center, over="both")


def test_teacher_probs_are_detached_and_sharpened():
    Q = torch.tensor([[[0.0, 0.04]]], requires_grad=True)
    q = teacher_probs(Q, torch.zeros(1, 2), TAU_T, "units")
    assert not q.requires_grad
    assert q[0, 0].tolist() == pytest.approx([1 / (1 + math.e), math.e / (1 + math.e)])
    assert entropy(torch.tensor([[0.5, 0.5]]), 1).item() == pytest.approx(math.log(2))


def test_update_center_eq6():
    center = torch.tensor([[1.0, 2.0]])
    Q = torch.tensor([[[2.0, 4.0]], [[4.0, 8.0]]])  # batch mean c = [3, 6]
    assert update_center(center, Q, 0.9)[0].tolist() == pytest.approx([1.2, 2.4])
    assert update_center(center, Q, 0.996)[0].tolist() == pytest.approx([1.008, 2.016])


def test_update_teacher_eq9():
    student, teacher = nn.Linear(2, 1), nn.Linear(2, 1)
    with torch.no_grad():
        student.weight.fill_(3.0), student.bias.fill_(-1.0)
        teacher.weight.fill_(1.0), teacher.bias.fill_(1.0)
    update_teacher(teacher, student, 0.75)
    assert teacher.weight.tolist() == [[1.5, 1.5]] and teacher.bias.tolist() == [0.5]
    assert student.weight.tolist() == [[3.0, 3.0]]


class TinyBackbone(nn.Module):
    """A real (small) backbone with the family interface, for the module tests."""

    width, n_cls = 6, 3

    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(5, self.width)

    def forward(self, x, lengths):
        h = self.stem(x)
        cls = h.mean(1, keepdim=True) + torch.arange(self.n_cls, dtype=h.dtype)[None, :, None]
        return h, cls


def test_pretrainer_teacher_is_a_frozen_copy_and_steps_follow_the_equations():
    torch.manual_seed(0)
    module = FinDNAPretrainer(TinyBackbone())
    assert module.center.shape == (3, 5)
    for (name, s), t in zip(module.student.state_dict().items(), module.teacher.state_dict().values()):
        assert torch.equal(s, t), name
    assert not any(p.requires_grad for p in module.teacher.parameters())
    module.train()
    assert module.student.training and not module.teacher.training
    batch = torch.nn.functional.one_hot(torch.randint(0, 4, (4, 20)), 5).float()
    out = module.loss(batch, torch.Generator().manual_seed(0))
    assert out.loss.item() == pytest.approx(0.5 * out.mnm.item() + 0.5 * out.cl.item(), rel=1e-6)  # Eq. 1
    out.loss.backward()
    assert module.student.head.weight.grad is not None
    with torch.no_grad():
        for p in module.student.parameters():
            p.add_(1.0)
    teacher_before = {k: v.clone() for k, v in module.teacher.state_dict().items()}
    center_before = module.center.clone()
    diag = module.diagnostics(out.teacher_cls)
    assert 0 <= diag["teacher_entropy"] <= math.log(3) + 1e-6 and diag["center_norm"] == 0.0
    module.after_step(out.teacher_cls, 0.9)
    for k, v in module.teacher.state_dict().items():
        assert torch.allclose(v, 0.9 * teacher_before[k] + 0.1 * module.student.state_dict()[k])
    expected_center = 0.996 * center_before + 0.004 * out.teacher_cls.mean(0)
    assert torch.allclose(module.center, expected_center)


def test_cm_mnm_has_no_teacher_and_loss_is_mnm():
    module = FinDNAPretrainer(TinyBackbone(), FinDNASpec(use_teacher=False, alpha=1.0))
    assert module.teacher is None
    batch = torch.nn.functional.one_hot(torch.randint(0, 4, (4, 20)), 5).float()
    out = module.loss(batch, torch.Generator().manual_seed(0))
    assert out.cl.item() == 0.0 and out.loss.item() == pytest.approx(out.mnm.item())
    assert module.export_backbone() is module.student.backbone


def test_switches():
    assert FinDNASpec(loss_weights="code").weights() == (1.0, 1.0)
    assert FinDNASpec().weights() == (0.5, 0.5)
    assert FinDNASpec().view_pair() == ("DITM", "NR")
    assert FinDNASpec(views="code").view_pair() == ("MNR", "T")
    assert FinDNASpec(views="MDT+DIT").view_pair() == ("DTM", "DIT")
    with pytest.raises(SuiteError):
        FinDNAPretrainer(TinyBackbone(), FinDNASpec(views="DIT+NR"))  # no masking in the student view
    separate = FinDNAPretrainer(TinyBackbone(), FinDNASpec(cl_head="separate"))
    assert separate.student.cl_head is not None
