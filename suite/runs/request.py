"""RunRequest: what the user asked `suite run` for, as plain data (filled by the CLI, read by the plan)."""

from __future__ import annotations

from dataclasses import dataclass, field

MODES = ("finetune", "probe")  # finetune: every weight trains; probe: backbone frozen, linear head (style §6.5)


@dataclass(frozen=True)
class RunRequest:
    models: tuple[str, ...]
    tasks: str  # names or groups, comma-separated
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    folds: int | None = None  # k-fold CV over train (validation = fold k); None = dev split or a held-out fraction
    fold: int | None = None  # run only this fold of `folds`
    mode: str = "finetune"  # finetune | probe
    profile: str = "quick"
    sets: dict = field(default_factory=dict)  # --set key=value (last configuration layer)
    data_dir: str | None = None
    experiment: str = "dna-suite"
    tracking_uri: str | None = None
    cpus_per_trial: float = 1.0
    gpus_per_trial: float = 0.0
    max_concurrent: int | None = None
    max_failures: int = 1  # retries of a crashed trial
    address: str | None = None  # join an existing Ray cluster ("auto" or host:port); None = local Ray in-process
    storage: str = "runs/ray"  # Ray Tune's trial folders
    applied_dir: str | None = "runs/applied"  # best parameters written by `suite sweep --apply` (layer 4)
    tags: dict = field(default_factory=dict)  # extra MLflow tags on every trial (e.g. recipe, entry); not in run keys
    allow_unverified: bool = False  # train on data whose sha256 differs from MANIFEST.tsv (recorded on every trial)

    def check(self) -> None:
        """Refuse, before anything is planned, a request that cannot mean anything (one line each)."""
        from suite.errors import SuiteError

        if not self.seeds:
            raise SuiteError("--seeds gives no seed", "use --seeds 3 (seeds 0, 1, 2) or --seeds 1,7,42")
        if any(s < 0 for s in self.seeds):
            raise SuiteError(f"--seeds {','.join(map(str, self.seeds))}: seeds must be >= 0", "e.g. --seeds 3")
        if self.folds is not None and self.folds < 2:
            raise SuiteError(f"--folds {self.folds}: cross-validation needs at least 2 folds", "use --folds 5")
        if self.cpus_per_trial <= 0:
            raise SuiteError(f"--cpus-per-trial {self.cpus_per_trial:g}: must be > 0", "e.g. --cpus-per-trial 1")
        if self.gpus_per_trial < 0:
            raise SuiteError(f"--gpus-per-trial {self.gpus_per_trial:g}: must be >= 0", "e.g. --gpus-per-trial 1")
        if self.max_concurrent is not None and self.max_concurrent < 1:
            raise SuiteError(f"--max-concurrent {self.max_concurrent}: must be >= 1", "e.g. --max-concurrent 2")
        if self.max_failures < 0:
            raise SuiteError(f"--max-failures {self.max_failures}: must be >= 0", "e.g. --max-failures 1")
        if self.gpus_per_trial > 0 and self.address is None:  # a local Ray would wait forever for a GPU
            import torch

            if not torch.cuda.is_available():
                raise SuiteError(f"--gpus-per-trial {self.gpus_per_trial:g}: no GPU here (torch sees none)",
                                 "drop --gpus-per-trial or pass --address of a cluster with GPUs")

    def check_weights_apply(self) -> None:
        """`suite run --set weights=...` names weights for the models of the command: refuse it for a random-init
        model, which would silently ignore it (a recipe's entries choose their own weights, so not checked there)."""
        from suite.errors import SuiteError

        if self.sets.get("weights", "none") != "none":
            from suite.models import get_model_spec

            for name in self.models:
                if get_model_spec(name).weights.is_random:
                    raise SuiteError(f"model {name} has no pretrained weights (random init): --set weights="
                                     f"{self.sets['weights']} cannot apply to it",
                                     "drop --set weights" + (", or run it in a command of its own"
                                                             if len(self.models) > 1 else ""))


def parse_seeds(text: str) -> tuple[int, ...]:
    """'5' → seeds 0..4; '1,7,42' → those seeds."""
    from suite.errors import SuiteError

    text = text.strip()
    try:
        if "," in text or text.startswith("="):
            return tuple(int(s) for s in text.lstrip("=").split(",") if s.strip())
        return tuple(range(int(text)))
    except ValueError:
        raise SuiteError(f"--seeds {text!r}: not a count or a list of seeds", "use --seeds 3 or --seeds 1,7,42") from None


def parse_sets(items: list[str]) -> dict:
    """['lr=1e-3', 'head=mlp'] → {'lr': 0.001, 'head': 'mlp'} (numbers and booleans parsed as YAML)."""
    out = {}
    for item in items:
        if "=" not in item:
            from suite.errors import SuiteError

            raise SuiteError(f"--set '{item}' is not key=value", "write e.g. --set lr=1e-3")
        key, value = item.split("=", 1)
        out[key.strip()] = _scalar(value.strip())
    return out


def _scalar(text: str):
    """int, then float (YAML 1.1 would leave '1e-3' a string), then YAML (true, null, lists)."""
    import yaml

    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return yaml.safe_load(text)


