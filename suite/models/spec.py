"""ModelSpec and WeightsSpec: the frozen form of a model card (models/*.yaml). Standard library only."""

from __future__ import annotations

from dataclasses import dataclass, field

MATCHES = ("exact", "intersect")


@dataclass(frozen=True)
class WeightsSpec:
    """Where a backbone's pretrained weights are. `local: none` = random initialisation (quick runs).

    `local` is a folder written by `suite pretrain` (relative paths are taken from the working directory);
    `file` is the backbone state dict inside it (safetensors, or a torch file loaded with weights_only);
    `prefix` is stripped from its keys (e.g. "teacher."); `match` is how keys must agree with the model:
    `exact` (every key on both sides) or `intersect` (the authors' loader: copy the keys both sides have, leave
    the model's other blocks at random init, never accept a shape mismatch; findna-facts §5.1).

    Published models name a Hugging Face repository instead (`hub_id`, `revision`; suite/models/hub.py): their
    snapshot folder (config.json, weights, tokenizer files) is found in `local` when given, then under
    SUITE_MODELS_DIR, then in the HF cache, never downloaded implicitly (`suite models fetch NAME` does that).
    `revision` should be pinned to a commit hash once fetched, so a run's weights cannot change under it.
    """

    local: str = "none"
    file: str = "teacher.safetensors"
    prefix: str = ""
    match: str = "exact"
    hub_id: str = ""  # e.g. zhihan1996/DNA_bert_6; empty = not a hub model
    revision: str = "main"  # branch, tag or (preferred) commit hash of `hub_id`

    @property
    def is_random(self) -> bool:
        return self.local.strip().lower() == "none" and not self.hub_id

    @property
    def is_hub(self) -> bool:
        return bool(self.hub_id)


@dataclass(frozen=True)
class ModelSpec:
    """One model card. Backbone config = params ⊕ sizes[size] ⊕ fidelity['backbone'] ⊕ recipes[task]."""

    name: str
    family: str  # suite/models/families/<family>.py, registered with @FAMILIES.register
    description: str
    pooling: str  # cls_mean | mean | cls_and_mean (suite/models/pooling.py)
    head: str  # linear | mlp (suite/models/heads.py)
    params: dict  # backbone config of the default size (the paper's network)
    weights: WeightsSpec
    tokenizer: str = "onehot5"
    sizes: dict = field(default_factory=dict)  # size name → params overrides; "paper" = params as they are
    default_size: str = "paper"
    head_hidden: int | None = None  # mlp head width; None → the pooled width
    head_dropout: float = 0.0
    n_parameters: int | None = None  # paper configuration, counted like the authors; a test checks it
    n_parameters_note: str = ""
    pretrained_on: tuple[str, ...] = ()
    fidelity: dict = field(default_factory=dict)  # paper-vs-code switches; 'backbone' entries go to the config
    recipes: dict = field(default_factory=dict)  # task name → backbone overrides from the authors' configs
    training: dict = field(default_factory=dict)  # this model's own training defaults (lr, batch_size, epochs …),
    # applied after the task card's paper recipe (which is FinDNA's) and before the run profile
    compare_with: tuple[str, ...] = ()
    max_length: str = ""  # the input limit in words, e.g. "512 tokens (515 bp); longer: windows averaged"
    license: str = ""  # of the published weights
    citation: str = ""
    version: int = 1

    @property
    def size_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((self.default_size, *self.sizes)))
