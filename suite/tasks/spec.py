"""TaskSpec: the frozen form of a task card (tasks/**/*.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class SplitSizes:
    """Official split sizes (rows). `dev` is None where the benchmark has no official validation split."""

    train: int
    test: int
    dev: int | None = None

    def get(self, split: str) -> int | None:
        return {"train": self.train, "dev": self.dev, "test": self.test}[split]


@dataclass(frozen=True)
class PaperRecipe:
    """Downstream hyperparameters as the FinDNA paper states them (`source` cites where)."""

    batch_size: int
    lr: float
    weight_decay: float
    epochs: int
    warmup_frac: float
    source: str
    dropout: float | None = None


LENGTH_POLICIES = ("pad", "truncate_pad_n")
"""`pad`: keep every base, zero-pad right per batch up to the longest sequence (max_bp = longest official one).
`truncate_pad_n`: keep the first max_bp bases (5' end), right-pad shorter ones with 'N' (MTcDNA, paper §4.5)."""


@dataclass(frozen=True)
class TaskSpec:
    name: str
    benchmark: str
    groups: tuple[str, ...]
    format: str
    source: str
    classes: tuple[str, ...]
    metric: str
    sizes: SplitSizes
    median_len: int | None  # None where no source states it (MTcDNA)
    max_bp: int
    length_policy: str
    description: str
    citation: str
    get_data: str  # how to get the data, one line; {task}, {source} and {data_dir} (the folder searched) filled in
    paper: PaperRecipe | None = None
    aliases: tuple[str, ...] = ()
    options: dict = field(default_factory=dict)
    version: int = 1

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    @property
    def splits(self) -> tuple[str, ...]:
        return ("train", "dev", "test") if self.sizes.dev is not None else ("train", "test")
