"""The backbone contract: what a family's backbone returns, what it declares, and which poolings it can feed.

A backbone (what a family's `build(params, recipe, source)` returns) has `width` (E) and
`forward(x (B, L, 5) one-hot, lengths (B,)) -> (tokens (B, L, E), cls (B, K, E))`:
- `tokens` are the per-position outputs V, zero at padding. A sequence-level family (one vector per sequence:
  cnn, kmer_linear, deepbind, the BERT-style wrappers, NT) has none and returns zeros here.
- `cls` are the K [CLS] outputs Q. A sequence-level family puts its one vector in K = 1 slot.

Each family module declares what its backbone really produces, once, at the top of the module:
`OUTPUTS = Outputs(tokens=False, cls=1)`, or, when K is a backbone param,
`OUTPUTS = Outputs(tokens=True, cls=10, cls_param="n_cls")` (K is then the backbone's `n_cls`, `cls` the default).
`backbone_outputs(backbone)` reads the declaration of a built backbone's family, and `check_pooling` refuses, in
one line naming the model and the poolings it can feed, a pooling that would read what the backbone does not make
(READS: token poolings need per-position outputs, [CLS] poolings need K ≥ 1). The run plan asks it of the
backbone built on the meta device (suite/runs/plan.py), so `--set pooling=mean` on `cnn` stops before anything
trains instead of training a head on zeros; SequenceClassifier asks it again when it is built.
tests/models/test_contract.py builds every family and checks that it honours its declaration (zero tokens unless
declared, exactly K [CLS] slots).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from suite.errors import SuiteError

# what each pooling reads: the per-position outputs V ("tokens"), the [CLS] outputs Q ("cls"), or both
READS = {"cls_mean": {"cls"}, "mean": {"tokens"}, "max": {"tokens"}, "mean_max": {"tokens"},
         "cls_and_mean": {"cls", "tokens"}, "cls_and_max": {"cls", "tokens"}}


@dataclass(frozen=True)
class Outputs:
    """What a backbone produces: per-position outputs or not, and K [CLS] slots (`cls`, or the backbone param
    `cls_param` with `cls` as its default)."""

    tokens: bool
    cls: int
    cls_param: str | None = None

    def reads(self) -> set[str]:
        """What poolings may read from it: "tokens" (V), "cls" (Q)."""
        return {name for name, made in (("tokens", self.tokens), ("cls", self.cls > 0)) if made}


def allowed_poolings(outputs: Outputs) -> list[str]:
    """The poolings a backbone with these (fixed-K) outputs can feed."""
    return [name for name, reads in READS.items() if reads <= outputs.reads()]


def check_pooling(pooling: str, outputs: Outputs, model: str) -> None:
    """One-line SuiteError when `outputs` cannot feed `pooling`, naming the model and what it can use instead."""
    missing = READS[pooling] - outputs.reads()
    if missing:
        why = ("reads per-position outputs, but {model} gives one vector per sequence" if "tokens" in missing else
               "needs [CLS] tokens but {model} has n_cls = 0")
        raise SuiteError(f"pooling '{pooling}' " + why.format(model=model),
                         "use pooling: " + ", ".join(allowed_poolings(outputs)))


def backbone_outputs(backbone: object) -> Outputs:
    """The declaration of a built backbone's family module, with K read from the backbone itself."""
    declared = getattr(sys.modules[type(backbone).__module__], "OUTPUTS", None)
    if not isinstance(declared, Outputs):
        raise SuiteError(f"{type(backbone).__name__} comes from a module that declares no OUTPUTS",
                         "add `OUTPUTS = Outputs(...)` to its family module (suite/models/contract.py)")
    return Outputs(declared.tokens, int(getattr(backbone, declared.cls_param))) if declared.cls_param else declared

