"""What determines a pretraining run, without torch: the view letters and pairs (paper Table 4), the augmentation
and method settings (AugmentSpec, FinDNASpec), PretrainConfig with its profiles, and the checkpoint folder's name
(`run_name`). `suite reproduce --list` and `--dry-run` name every pretraining job and whether it is there from
these alone, so listing recipes never imports torch; augment.py, findna.py and loop.py import them from here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from suite.errors import SuiteError

ORDER = "DITMNR"
NAMES = {"D": "deletion", "I": "insertion", "T": "translocation", "M": "masking", "N": "noise",
         "R": "reverse_complement"}


LETTERS = {name: letter for letter, name in NAMES.items()}


def parse_view(letters: str | list[str] | tuple[str, ...]) -> str:
    """'MDIT' → 'DITM' (the order applied); a list of augmentation names (['masking', 'deletion']) or a
    comma-separated string of them ('masking,deletion') → 'DM'. '' or 'NoAug' (or an empty list) → ''.
    Unknown or repeated letters/names raise SuiteError."""
    if isinstance(letters, (list, tuple)) or "," in letters or letters in LETTERS:
        names = [n.strip() for n in (letters.split(",") if isinstance(letters, str) else letters) if n.strip()]
        unknown = [n for n in names if n not in LETTERS]
        if unknown:
            raise SuiteError(f"unknown augmentation(s) {', '.join(unknown)}", f"use names from {', '.join(LETTERS)}")
        letters = "".join(LETTERS[n] for n in names)
    letters = "" if letters in ("", "NoAug") else letters
    unknown = sorted(set(letters) - set(ORDER))
    if unknown or len(set(letters)) != len(letters):
        raise SuiteError(f"view '{letters}' has unknown or repeated letters {unknown}",
                         "use letters from M D I T N R (e.g. 'MDIT', 'NR') or 'NoAug'")
    return "".join(c for c in ORDER if c in letters)


def parse_pair(pair: str) -> tuple[str, str]:
    """'MDIT+NR' → (student view, teacher view), as in the paper's Table 4 ('X+Y': student X, teacher Y)."""
    parts = pair.split("+")
    if len(parts) != 2:
        raise SuiteError(f"view pair '{pair}' is not 'STUDENT+TEACHER'", "write e.g. 'MDIT+NR' or 'M+NoAug'")
    return parse_view(parts[0]), parse_view(parts[1])


def pair_from_lists(student: list[str] | str, teacher: list[str] | str) -> str:
    """Two lists of augmentation names (or letter strings) → the 'STUDENT+TEACHER' pair string FinDNASpec takes;
    an empty view is written 'NoAug' as in the paper."""
    return "+".join(parse_view(view) or "NoAug" for view in (student, teacher))


# Paper Table 4's named pairs (student view + teacher view); the text calls the last one "MDIT+NR".
PRESETS = ("M+NoAug", "M+DIT", "MDT+DIT", "MDT+NR")


# view_assignment → (student, teacher). paper §4.1: u = M,D,I,T; v = noise then RC. The released code gives the
# student masking, noise and RC, and (through a loop bug) the teacher translocation only (facts §2.2).
VIEW_ASSIGNMENTS = {"paper": "MDIT+NR", "code": "MNR+T"}


# ---------------------------------------------------------------- settings
@dataclass(frozen=True)
class AugmentSpec:
    """Parameters of every augmentation (defaults: paper §3.3 and the authors' EvoAug settings)."""

    indel_max: int = 20
    translocation_max: int = 20
    fill_with_n: bool = False  # paper: random DNA over A,C,G,T; authors' code: over all 5 channels
    mask_rate: float = 0.3
    mask_replace: str = "zero"  # paper: zero vector; "bert": authors' 80/10/10
    noise_mean: float = 0.0
    noise_std: float = 0.2
    rc_p: float = 0.5
    rc_mapping: str = "true"  # "authors": the released channel flip (facts §6)


@dataclass(frozen=True)
class FinDNASpec:
    """The pretraining method's settings (paper defaults; findna.py's docstring gives the authors' code's)."""

    tau_s: float = 0.1
    tau_t: float = 0.04
    center_momentum: float = 0.996
    teacher_momentum: float = 0.996  # start of the cosine schedule to 1 (§3.4)
    alpha: float = 0.5
    loss_weights: str = "paper"  # "paper": alpha, 1 - alpha; "code": 1, 1
    cl_softmax_over: str = "tokens"  # "tokens" (Eq. 4-5) | "units" (code)
    cl_reduction: str = "sum"  # over the K [CLS] tokens: "sum" (Eq. 7) | "mean" (code)
    cl_head: str = "shared"  # "shared" (code: the MNM head) | "separate"
    views: str = "paper"  # "paper" | "code" | an explicit pair such as "MDT+DIT"
    use_teacher: bool = True  # False (with alpha = 1): CM-MNM
    augment: AugmentSpec = AugmentSpec()

    def weights(self) -> tuple[float, float]:
        """(MNM weight, CL weight) of Eq. 1."""
        if not self.use_teacher:
            return 1.0, 0.0
        if self.loss_weights == "code":
            return 1.0, 1.0
        if self.loss_weights != "paper":
            raise SuiteError(f"unknown loss_weights '{self.loss_weights}'", "use 'paper' (alpha) or 'code' (1, 1)")
        return self.alpha, 1.0 - self.alpha

    def view_pair(self) -> tuple[str, str]:
        """(student view, teacher view); raises when MNM would have no targets (no M in the student's view)."""
        student, teacher = parse_pair(VIEW_ASSIGNMENTS.get(self.views, self.views))
        if "M" not in student and self.weights()[0] > 0:
            raise SuiteError(f"student view '{student}' has no masking (M), so MNM has no targets",
                             "add M to the student view (e.g. 'MDIT+NR') or set alpha=0")
        return student, teacher


MODELS = {"findna": "findna", "findna-t": "findna_t", "cm-mnm": "cm_mnm"}  # command name → model card
COMMANDS = {card: command for command, card in MODELS.items()}  # model card → `suite pretrain --model` name


@dataclass(frozen=True)
class PretrainConfig:
    """Everything that determines a pretraining run (recorded whole in every snapshot and in MLflow)."""

    model: str = "findna"
    profile: str = "quick"
    size: str = "small"  # a size of the model card (`paper` = the paper's network)
    backbone_overrides: dict = field(default_factory=dict)
    window_len: int = 256
    n_windows: int = 4096
    batch_size: int = 32
    epochs: int = 2
    steps: int | None = None  # overrides epochs
    lr: float = 3e-4
    weight_decay: float = 3e-4
    warmup_fraction: float = 0.3
    clip_grad: float = 0.5
    seed: int = 42
    max_n_frac: float = 0.1
    weighting: str = "length"
    soft_mask: str = "upper"  # lowercase (soft-masked repeats) read as bases ("upper") or as N ("n")
    tasks: str = ""  # in-domain corpus: tasks or groups whose train splits are sampled ("" = the FASTA only)
    task_fraction: float = 0.5  # share of the windows from the tasks when a FASTA is given too
    save_every: int = 100
    keep: int = 2
    method: FinDNASpec = FinDNASpec()

    @property
    def steps_per_epoch(self) -> int:
        return self.n_windows // self.batch_size  # drop_last, as the authors

    @property
    def total_steps(self) -> int:
        return self.steps if self.steps is not None else self.epochs * self.steps_per_epoch

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PretrainConfig:
        method = dict(data["method"])
        method["augment"] = AugmentSpec(**method["augment"])
        return cls(**{**data, "method": FinDNASpec(**method)})


def method_for(model: str) -> FinDNASpec:
    """CM-MNM (paper Table 2): MNM only (alpha = 1), no teacher, same student view as FinDNA."""
    return FinDNASpec(use_teacher=False, alpha=1.0) if model == "cm-mnm" else FinDNASpec()


def profile_config(model: str, profile: str = "quick", steps: int | None = None, **changes) -> PretrainConfig:
    if model not in MODELS:
        raise SuiteError(f"unknown pretraining model '{model}'", f"use one of {', '.join(MODELS)}")
    if profile == "paper":
        base = PretrainConfig(model=model, profile=profile, size="paper", window_len=1000, n_windows=100_000,
                              batch_size=64, epochs=50, save_every=2000, method=method_for(model))
    elif profile == "quick":
        base = PretrainConfig(model=model, profile=profile, method=method_for(model))
    else:
        raise SuiteError(f"unknown pretraining profile '{profile}'", "use 'quick' or 'paper'")
    augment = changes.pop("augment", None) or {}
    settable = [f.name for f in dataclasses.fields(PretrainConfig) if f.name not in ("model", "profile", "method")]
    unknown = sorted(set(changes) - set(settable))
    if unknown:
        raise SuiteError(f"'{unknown[0]}' is not a pretraining setting", f"use one of {', '.join(settable)}, augment")
    if augment:  # {indel_max: 1, ...}: AugmentSpec fields, e.g. sized to short windows
        fields = [f.name for f in dataclasses.fields(AugmentSpec)]
        wrong = sorted(set(augment) - set(fields))
        if wrong:
            raise SuiteError(f"'{wrong[0]}' is not an augmentation setting", f"use one of {', '.join(fields)}")
        base = dataclasses.replace(base, method=dataclasses.replace(
            base.method, augment=dataclasses.replace(base.method.augment, **augment)))
    return dataclasses.replace(base, steps=steps, **changes)


def run_name(config: PretrainConfig) -> str:
    """The checkpoint folder's default name: `<model>-<profile>` (what the model cards point at), plus the view
    pair when it is not the paper's (e.g. `findna-quick-views-M_NoAug`), the step count when it was set, and a
    hash of the configuration when anything else differs from the profile, so every variant has its own folder
    and is pretrained once."""
    from suite.provenance import key_of

    name = f"{config.model}-{config.profile}"
    if config.method.use_teacher and config.method.views != "paper":
        name += "-views-" + config.method.views.replace("+", "_")
    name += f"-steps-{config.steps}" if config.steps is not None else ""
    base = profile_config(config.model, config.profile, steps=config.steps)
    if dataclasses.replace(config, method=dataclasses.replace(config.method, views=base.method.views)) != base:
        name += "-" + key_of(changed_fields(config))[:8]  # any other change: its own folder, named by its hash
    return name


def check_corpus(config: PretrainConfig, fasta) -> None:
    """Before anything is written: a corpus is named (a FASTA, tasks, or both) and the task share is a share."""
    if fasta is None and not config.tasks:
        raise SuiteError("no pretraining corpus given", "pass --fasta GENOME, --tasks TASKS, or both")
    if config.tasks and not 0 < config.task_fraction <= 1:
        raise SuiteError(f"task_fraction must be in (0, 1], got {config.task_fraction}", "e.g. task_fraction=0.5")


def changed_fields(config: PretrainConfig) -> dict:
    """The fields that differ from PretrainConfig's defaults (method included): what names a variant, so adding a
    field with a default never renames an existing checkpoint folder."""
    defaults, values = PretrainConfig().to_dict(), config.to_dict()
    method = {k: v for k, v in values.pop("method").items() if v != defaults["method"][k]}
    return {**{k: v for k, v in values.items() if v != defaults[k]}, **({"method": method} if method else {})}


def with_views(config: PretrainConfig, views: str) -> PretrainConfig:
    """`views`: "paper", "code", a pair 'STUDENT+TEACHER' (Table 4: M+NoAug, M+DIT, MDT+DIT, MDT+NR); checked here."""
    method = dataclasses.replace(config.method, views=views)
    method.view_pair()  # raises a one-line SuiteError on a bad pair
    return dataclasses.replace(config, method=method)
