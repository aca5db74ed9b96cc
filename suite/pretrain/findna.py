"""FinDNA self-distillation (paper §3.2-3.4, Eqs. 1-9): masked nucleotide modelling on the student's tokens plus
distillation of the teacher's [CLS] tokens into the student's, with an EMA teacher and a centred teacher output.

The method is a handful of small pure functions (mnm_loss, cl_loss, update_center, update_teacher) and one
module, `FinDNAPretrainer`, that holds the student, the teacher (no gradients), the centre buffer and the
5-unit head. Where the authors' code departs from the paper (findna-facts §2, §10), `FinDNASpec` has a switch
whose default is the paper:

| switch            | paper (default)              | authors' code                        |
|-------------------|------------------------------|--------------------------------------|
| cl_softmax_over   | "tokens" (Eq. 4-5, over K)   | "units" (over the 5 head outputs)    |
| cl_reduction      | "sum" over K (Eq. 7)         | "mean" over K                        |
| center_momentum   | 0.996 (β, Eq. 6)             | 0.9                                  |
| loss_weights      | "paper": α, 1-α (Eq. 1)      | "code": 1, 1                         |
| views             | "MDIT+NR" (student+teacher)  | "MNR+T" (view_assignment="code")     |
| mask_replace      | "zero"                       | "bert" (80/10/10)                    |
| rc_mapping        | "true" reverse complement    | "authors" channel flip               |
| fill_with_n       | False (random DNA = ACGT)    | True                                 |

Fixed choices (no switch, documented): MNM is softmax cross-entropy at the truly masked tokens, averaged over
the masked tokens of the batch (Eq. 2 sums; the mean only rescales it and keeps it independent of L and B); the
authors' BCE on a misaligned mask is a bug (facts §10.2). CL is averaged over the batch. The head is one
Linear(E→5) shared by MNM and CL as in the code (`cl_head="separate"` gives CL its own). The teacher update
follows DINO (after the optimiser step); the code updated it one step earlier. Augmentations are drawn fresh
every step (the code fixed them once, facts §10.4).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from suite.errors import SuiteError
from suite.pretrain.augment import apply_view
from suite.pretrain.config import FinDNASpec  # torch-free (suite/pretrain/config.py); still importable from here

ENTROPY_EPS = 1e-12


# ---------------------------------------------------------------- the method as pure functions
def mnm_loss(logits: Tensor, targets: Tensor, mask: Tensor) -> Tensor:
    """Eq. 2-3: cross-entropy between the true nucleotide u and the softmax prediction û at the M masked tokens.

    logits (B, L, 5) from the head on the student's tokens, targets (B, L) class indices, mask (B, L) bool.
    Returns the mean over masked tokens (Eq. 2's sum / M); 0 if nothing is masked."""
    if not mask.any():
        return logits.sum() * 0.0
    return nn.functional.cross_entropy(logits[mask].float(), targets[mask])


def _softmax_dim(over: str) -> int:
    if over not in ("tokens", "units"):
        raise SuiteError(f"unknown cl_softmax_over '{over}'", "use 'tokens' (Eq. 4-5) or 'units' (authors' code)")
    return 1 if over == "tokens" else 2


def teacher_probs(teacher_cls: Tensor, center: Tensor, tau_t: float, over: str = "tokens") -> Tensor:
    """Eq. 5: q̂ = softmax((Q - ξ) / τ_t) over the K tokens (or the units), detached. Q (B, K, D), ξ (K, D)."""
    return torch.softmax((teacher_cls.detach().float() - center) / tau_t, dim=_softmax_dim(over))


def cl_loss(student_cls: Tensor, teacher_cls: Tensor, center: Tensor, tau_s: float = 0.1, tau_t: float = 0.04,
            over: str = "tokens", reduction: str = "sum") -> Tensor:
    """Eq. 4-8: L_CL = -Σ_k Σ_i q̂_i^(k) log p̂_i^(k), p̂ = softmax(P / τ_s) (Eq. 4), q̂ from Eq. 5.

    P, Q (B, K, D) [CLS] outputs of student and teacher; the softmax runs over the K tokens (`over="tokens"`,
    the paper) or over the D units (the code). `reduction` over K: "sum" (Eq. 7) or "mean" (code); always summed
    over units and averaged over the batch."""
    q = teacher_probs(teacher_cls, center, tau_t, over)
    log_p = torch.log_softmax(student_cls.float() / tau_s, dim=_softmax_dim(over))
    per_token = -(q * log_p).sum(dim=2)  # (B, K)
    if reduction == "sum":
        return per_token.sum(dim=1).mean()
    if reduction == "mean":
        return per_token.mean()
    raise SuiteError(f"unknown cl_reduction '{reduction}'", "use 'sum' (Eq. 7) or 'mean' (authors' code)")


@torch.no_grad()
def update_center(center: Tensor, teacher_cls: Tensor, beta: float) -> Tensor:
    """Eq. 6: ξ ← βξ + (1-β)c, c = the batch mean of Q (B, K, D). Returns the new (K, D) centre."""
    return beta * center + (1.0 - beta) * teacher_cls.detach().float().mean(dim=0)


@torch.no_grad()
def update_teacher(teacher: nn.Module, student: nn.Module, teacher_momentum: float) -> None:
    """Eq. 9: θ_t ← λθ_t + (1-λ)θ_s, in place, over every parameter and floating buffer."""
    t_state, s_state = teacher.state_dict(), student.state_dict()
    for name, t in t_state.items():
        if t.dtype.is_floating_point:
            t.mul_(teacher_momentum).add_(s_state[name].detach(), alpha=1.0 - teacher_momentum)


def entropy(probs: Tensor, dim: int) -> Tensor:
    """Mean entropy (nats) of the distributions along `dim`: near 0 = one-hot collapse, near log n = uniform."""
    return -(probs * torch.log(probs + ENTROPY_EPS)).sum(dim=dim).mean()


# ---------------------------------------------------------------- the module
class PretrainNetwork(nn.Module):
    """backbone + 5-unit head(s): what the student and the teacher each are (facts §1.4)."""

    def __init__(self, backbone: nn.Module, separate_cl_head: bool = False) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(backbone.width, 5)
        self.cl_head = nn.Linear(backbone.width, 5) if separate_cl_head else None

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """(token logits (B, L, 5), [CLS] outputs (B, K, 5))."""
        tokens, cls = self.backbone(x, lengths)
        return self.head(tokens), (self.cl_head or self.head)(cls)


@dataclass
class StepOutput:
    loss: Tensor
    mnm: Tensor
    cl: Tensor
    teacher_cls: Tensor | None  # (B, K, 5), for the centre update
    mask_fraction: float
    mnm_accuracy: float  # share of masked tokens whose argmax is the true base (health: above the majority base)


class FinDNAPretrainer(nn.Module):
    """Student, EMA teacher (no grad), centre ξ (K, 5) and the heads. Call `loss(batch, generator)` each step,
    then (after the optimiser step) `after_step(teacher_cls, teacher_momentum)`."""

    def __init__(self, backbone: nn.Module, spec: FinDNASpec = FinDNASpec()) -> None:
        super().__init__()
        self.spec = spec
        self.student_view, self.teacher_view = spec.view_pair()  # also validates the views and loss_weights
        self.student = PretrainNetwork(backbone, spec.cl_head == "separate")
        self.teacher = copy.deepcopy(self.student) if spec.use_teacher else None  # exact copy (facts §2.6)
        if self.teacher is not None:
            self.teacher.requires_grad_(False)
        self.register_buffer("center", torch.zeros(getattr(backbone, "n_cls", 0), 5))

    def train(self, mode: bool = True) -> FinDNAPretrainer:
        """The teacher always runs in eval mode (no dropout in its targets); the authors left it in train mode,
        which only matters when dropout > 0 (facts §2.6)."""
        super().train(mode)
        if self.teacher is not None:
            self.teacher.eval()
        return self

    def loss(self, batch: Tensor, generator: torch.Generator) -> StepOutput:
        """Eq. 1 on a clean (B, L, 5) one-hot batch of fixed-length windows: both views are drawn here."""
        batch_size, length = batch.shape[:2]
        lengths = torch.full((batch_size,), length, dtype=torch.long, device=batch.device)
        w_mnm, w_cl = self.spec.weights()
        student_view = apply_view(batch, self.student_view, generator, self.spec.augment)
        token_logits, student_cls = self.student(student_view.x, lengths)
        mnm = mnm_loss(token_logits, student_view.clean.argmax(-1), student_view.mask)
        cl, teacher_cls = mnm.new_zeros(()), None
        if self.teacher is not None and w_cl > 0:
            teacher_view = apply_view(batch, self.teacher_view, generator, self.spec.augment)
            with torch.no_grad():
                _, teacher_cls = self.teacher(teacher_view.x, lengths)
            cl = cl_loss(student_cls, teacher_cls, self.center, self.spec.tau_s, self.spec.tau_t,
                         self.spec.cl_softmax_over, self.spec.cl_reduction)
        mask = student_view.mask
        mask_fraction = mask.float().mean().item()
        targets = student_view.clean.argmax(-1)
        accuracy = (token_logits[mask].argmax(-1) == targets[mask]).float().mean().item() if mask.any() else 0.0
        return StepOutput(w_mnm * mnm + w_cl * cl, mnm.detach(), cl.detach(), teacher_cls, mask_fraction, accuracy)

    @torch.no_grad()
    def after_step(self, teacher_cls: Tensor | None, teacher_momentum: float) -> None:
        """EMA teacher (Eq. 9) and centre (Eq. 6), after the optimiser has updated the student."""
        if self.teacher is None:
            return
        update_teacher(self.teacher, self.student, teacher_momentum)
        if teacher_cls is not None:
            self.center.copy_(update_center(self.center, teacher_cls, self.spec.center_momentum))

    @torch.no_grad()
    def diagnostics(self, teacher_cls: Tensor | None) -> dict[str, float]:
        """Collapse visibility: entropy of the teacher targets q̂ (before this step's centre update), ‖ξ‖."""
        out = {"center_norm": float(self.center.norm())}
        if teacher_cls is not None:
            dim = _softmax_dim(self.spec.cl_softmax_over)
            q = teacher_probs(teacher_cls, self.center, self.spec.tau_t, self.spec.cl_softmax_over)
            out["teacher_entropy"] = float(entropy(q, dim))
            out["teacher_entropy_max"] = math.log(q.shape[dim])  # uniform targets: nothing left to distil
        return out

    def export_backbone(self) -> nn.Module:
        """The network used downstream: the teacher's backbone (§3.4), or the student's without a teacher."""
        return (self.teacher or self.student).backbone

    def exported_networks(self) -> dict[str, nn.Module]:
        """Every backbone a downstream run may start from, by name (paper Table 9: student vs teacher)."""
        if self.teacher is None:
            return {"student": self.student.backbone}
        return {"teacher": self.teacher.backbone, "student": self.student.backbone}
