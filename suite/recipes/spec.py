"""RecipeSpec: the frozen form of a recipe card (recipes/*.yaml), one card per table of the FinDNA paper.

A recipe names what to run and what to compare it with; it holds no code. Four kinds:
- `scores`: entries (a model card, optionally a pretraining variant and run settings) × tasks × seeds in one
  mode, planned through `suite run`'s machinery and written as a table beside the published rows;
- `cost`: entries measured one after another in one process (time, peak memory, FLOPs per training batch),
  written as ratios to the reference entry (Table 6, Table 8);
- `data`: the task registry's sizes beside the paper's data table (Table 7);
- `study`: a scores recipe run in each of its `modes` (probe, finetune) from backbones pretrained alike (the
  recipe's `pretraining` settings and `corpus`: matched budgets), written with paired tests, Friedman + critical
  difference, pretraining cost and curves (suite/recipes/study.py). Random-init entries say `sets: {weights: none}`.
Adding a recipe is adding a card.
"""

from __future__ import annotations

from dataclasses import dataclass, field

KINDS = ("scores", "cost", "data", "study")
COLUMNS = ("kl", "average")  # extra columns of a scores table


@dataclass(frozen=True)
class PretrainVariant:
    """How an entry's backbone is pretrained before the runs (once per variant, reused by every task).

    `views`: paper (MDIT+NR) | code | a pair 'STUDENT+TEACHER' (Table 4: M+NoAug, M+DIT, MDT+DIT, MDT+NR);
    or `student` + `teacher` as lists of augmentation names. `model`: the `suite pretrain` model (default: the
    entry's model card, e.g. findna → findna, cm_mnm → cm-mnm)."""

    model: str | None = None
    views: str | None = None
    student: tuple[str, ...] | None = None
    teacher: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Entry:
    """One row of the table we write."""

    label: str  # the row's name, e.g. "FinDNA[M+NoAug]"
    model: str  # a model card
    published: str | None = None  # the published row it is compared with (model name in reports/published/*.csv)
    pretrain: PretrainVariant | None = None  # None: pretrained like the card says (see `pretrain: auto` below)
    network: str | None = None  # teacher | student: which pretrained network the runs start from (Table 9)
    sets: dict = field(default_factory=dict)  # run settings (`suite run --set`), e.g. {head: mlp}
    step: str = "finetune"  # cost recipes: finetune (classifier training step) | pretrain (self-distillation step)
    size: str | None = None  # cost recipes: a size of the card (None: the profile's)


@dataclass(frozen=True)
class RecipeSpec:
    name: str  # t1 … t9
    title: str
    kind: str  # scores | cost | data
    description: str = ""
    published: str | None = None  # the published table id it is compared with (T1 … T9)
    mode: str = "finetune"  # finetune | probe
    tasks: str = ""  # tasks or groups, comma-separated
    seeds: dict = field(default_factory=lambda: {"paper": 5, "quick": 3})  # profile → number of seeds
    entries: tuple[Entry, ...] = ()
    columns: tuple[str, ...] = ()  # extra columns: kl (Table 4), average (mean over the tasks)
    reference: str | None = None  # cost recipes: the entry label the ratios divide by
    length: int = 1024  # cost recipes: input length (bp)
    batch: int = 16  # cost recipes: training batch size
    notes: tuple[str, ...] = ()  # footnotes printed under the table
    sets: dict = field(default_factory=dict)  # run settings of every entry (before the entry's own and --set)
    mode_sets: dict = field(default_factory=dict)  # mode → run settings of every entry in that mode (after `sets`)
    # study recipes
    modes: tuple[str, ...] = ()  # every mode the grid runs in (default: `mode` alone)
    pretraining: dict = field(default_factory=dict)  # PretrainConfig fields of every job (before --pretrain-set)
    corpus: dict = field(default_factory=dict)  # {fasta: a path under the data folder} and/or {tasks: GROUP|TASKS}
    comparisons: tuple[tuple[str, ...], ...] = ()  # [entry, baseline entry] pairs tested task by task

    @property
    def all_modes(self) -> tuple[str, ...]:
        return self.modes or (self.mode,)
