"""A recipe → its pretraining jobs and one `suite run` plan per entry, through the same machinery as `suite run`
(suite/runs/plan.py: run keys, layers, refusals). Nothing here trains; suite/recipes/run.py does.

Pretraining: an entry whose model is pretrained by `suite pretrain` (findna, findna_t, cm_mnm) gets a job: the
recipe's profile's pretraining configuration (quick or paper), its view pair if the entry names one, written to
`<checkpoints>/<run_name(config)>` (the paper profile's default job is exactly the folder the model card points
at). Entries sharing a configuration share the job (Table 9's student and teacher come from one run), and a job
whose exported weights are already there is reused, never redone. The runs then start from that folder
(`--set weights=FOLDER`, and `--set network=student|teacher` where the entry names one).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from suite.errors import SuiteError
from suite.recipes import get_recipe
from suite.recipes.spec import Entry, RecipeSpec
from suite.runs.request import RunRequest
from suite.tasks import select_tasks

if TYPE_CHECKING:
    from suite.runs.plan import Plan


@dataclass(frozen=True)
class ReproduceRequest:
    recipe: str
    profile: str = "quick"
    seeds: tuple[int, ...] | None = None  # None: the recipe's number of seeds for the profile
    tasks: str | None = None  # replaces the recipe's tasks (e.g. only those with data here)
    mode: str | None = None  # replaces the recipe's mode
    # Where and how the trials run, as for `suite run` (data_dir, experiment, tracking_uri, resources, Ray address)
    # and `sets`, the run settings of every entry (after the entry's own); models, tasks, seeds come from the recipe.
    run: RunRequest = field(default_factory=lambda: RunRequest(models=(), tasks=""))
    pretrain_steps: int | None = None  # pretraining steps (default: the pretraining profile's)
    pretrain_sets: dict = field(default_factory=dict)  # PretrainConfig fields, e.g. {"size": "tiny"}
    fasta: str | None = None  # pretraining corpus (e.g. hg38.fa); needed only when a job is not there yet
    checkpoints: str = "runs/checkpoints"
    use_ray: bool = True
    out: str = "reports/reproduce"
    device: str | None = None  # cost recipes: cpu | cuda (default: cuda when there is one)
    repeats: int = 3  # cost recipes: timed steps per entry
    length: int | None = None  # cost recipes: input length (default: the recipe's)
    batch: int | None = None  # cost recipes: batch size (default: the recipe's)

    @property
    def tracking_uri(self) -> str | None:
        return self.run.tracking_uri

    @property
    def experiment(self) -> str:
        return self.run.experiment


@dataclass
class PretrainJob:
    folder: Path
    config: object  # PretrainConfig
    entries: list[str]

    @property
    def present(self) -> bool:
        """Exported, finished, and with exactly this configuration (anything else would be another run)."""
        meta = self.folder / "config.json"
        if not meta.is_file():
            return False
        saved = json.loads(meta.read_text())
        done = saved.get("step", 0) >= saved.get("total_steps", 1)
        same = saved.get("pretrain_config") == json.loads(json.dumps(self.config.to_dict()))
        files = [saved.get("weights_file", ""), *saved.get("networks", {}).values()]
        # an export from before networks were listed lacks the student: re-exported (resuming costs no steps)
        return done and same and "networks" in saved and all((self.folder / f).is_file() for f in files)

    @property
    def mlflow_run_id(self) -> str | None:
        meta = self.folder / "config.json"
        return json.loads(meta.read_text()).get("mlflow_run_id") if meta.is_file() else None


@dataclass
class EntryPlan:
    entry: Entry
    request: RunRequest
    plan: Plan | None  # None: planned without its runs (`plan_recipe(..., runs=False)`)
    job: PretrainJob | None = None


@dataclass
class RecipePlan:
    recipe: RecipeSpec
    request: ReproduceRequest
    mode: str
    seeds: tuple[int, ...]
    tasks: list[str]
    entries: list[EntryPlan]
    jobs: list[PretrainJob]

    @property
    def grid_size(self) -> int:
        return len(self.entries) * len(self.tasks) * len(self.seeds)

    def trials(self) -> list:
        return [t for e in self.entries for t in e.plan.trials]


def pretrain_job(recipe: RecipeSpec, entry: Entry, request: ReproduceRequest) -> tuple[str, object] | None:
    """(folder name, PretrainConfig) of the pretraining this entry needs, or None (published / baseline models, and
    entries that ask for random init with `sets: {weights: none}`). A study recipe's `pretraining` settings and
    `corpus` tasks apply to every job (matched budgets); --pretrain-steps and --pretrain-set come on top."""
    from suite.pretrain.config import COMMANDS, pair_from_lists, profile_config, run_name, with_views

    variant = entry.pretrain
    command = (variant.model if variant and variant.model else None) or COMMANDS.get(entry.model)
    if command is None or (variant is None and entry.sets.get("weights") == "none"):
        if variant is not None:
            raise SuiteError(f"entry '{entry.label}': model '{entry.model}' is not pretrained by `suite pretrain`",
                             f"pretrain one of {', '.join(COMMANDS)} or drop `pretrain:`")
        return None
    sets = {**recipe.pretraining, **({"tasks": recipe.corpus["tasks"]} if recipe.corpus.get("tasks") else {}),
            **request.pretrain_sets}
    steps = request.pretrain_steps if request.pretrain_steps is not None else sets.pop("steps", None)
    sets.pop("steps", None)
    config = profile_config(command, request.profile, steps=steps, **sets)
    if variant is not None and (variant.student is not None or variant.teacher is not None):
        config = with_views(config, pair_from_lists(variant.student or (), variant.teacher or ()))
    elif variant is not None and variant.views:
        config = with_views(config, variant.views)
    name = run_name(config)
    return (f"{recipe.name}/{name}" if recipe.kind == "study" else name), config


def corpus_fasta(recipe: RecipeSpec, request: ReproduceRequest) -> str | None:
    """The pretraining FASTA: --fasta, else the recipe's `corpus.fasta` found under the data folders (--data-dir,
    SUITE_DATA_DIR), else None (a tasks-only corpus, or nothing to pretrain)."""
    if request.fasta or not recipe.corpus.get("fasta"):
        return request.fasta
    from suite.data.sources import data_dirs

    relative = recipe.corpus["fasta"]
    for folder in data_dirs(request.run.data_dir):
        if (folder / relative).is_file():
            return str(folder / relative)
    raise SuiteError(f"recipe {recipe.name}: its corpus {relative} is in no data folder",
                     "pass --data-dir (or set SUITE_DATA_DIR to) the folder holding it, or --fasta GENOME")


def entry_request(recipe: RecipeSpec, entry: Entry, request: ReproduceRequest, mode: str, seeds: tuple[int, ...],
                  tasks: list[str], job: PretrainJob | None) -> RunRequest:
    sets = {**recipe.sets, **recipe.mode_sets.get(mode, {}), **entry.sets, **request.run.sets}
    if job is not None:
        sets["weights"] = str(job.folder)
    if entry.network:
        sets["network"] = entry.network
    return dataclasses.replace(request.run, models=(entry.model,), tasks=",".join(tasks), seeds=seeds, mode=mode,
                               profile=request.profile, sets=sets, tags={"recipe": recipe.name, "entry": entry.label})


def plan_recipe(request: ReproduceRequest, runs: bool = True) -> RecipePlan:
    """Jobs and per-entry plans of a scores recipe (a cost or data recipe has neither: its entries are measured
    or listed, not run). `runs=False` leaves each entry's run plan out (None): what `suite reproduce --list` shows
    (jobs, tasks, seeds, grid size) needs no data located or hashed and no torch, so the listing answers at once."""
    from suite.runs.profiles import get_profile

    recipe = get_recipe(request.recipe)
    get_profile(request.profile)
    mode = request.mode or recipe.all_modes[0]
    if request.seeds is not None:
        seeds = request.seeds
    elif request.profile in recipe.seeds:
        seeds = tuple(range(int(recipe.seeds[request.profile])))
    else:
        raise SuiteError(f"recipe {recipe.name} names no seeds for profile '{request.profile}'", "pass --seeds N")
    tasks = [t.name for t in select_tasks(request.tasks or recipe.tasks)] if recipe.kind != "cost" else []
    if recipe.kind not in ("scores", "study"):
        return RecipePlan(recipe, request, mode, seeds, tasks, [], [])
    jobs: dict[str, PretrainJob] = {}
    entries = []
    for entry in recipe.entries:
        found = pretrain_job(recipe, entry, request)
        job = None
        if found is not None:
            name, config = found
            job = jobs.setdefault(name, PretrainJob(Path(request.checkpoints) / name, config, []))
            job.entries.append(entry.label)
        run_request = entry_request(recipe, entry, request, mode, seeds, tasks, job)
        entries.append(EntryPlan(entry, run_request, _expand(run_request) if runs else None, job))
    return RecipePlan(recipe, request, mode, seeds, tasks, entries, list(jobs.values()))


def plan_study(request: ReproduceRequest, runs: bool = True) -> list[RecipePlan]:
    """One plan per mode the recipe runs in (a scores recipe: its mode, or --mode); the modes share the jobs."""
    recipe = get_recipe(request.recipe)
    modes = (request.mode,) if request.mode else recipe.all_modes
    return [plan_recipe(dataclasses.replace(request, mode=mode), runs=runs) for mode in modes]


def _expand(request: RunRequest) -> Plan:
    from suite.runs.plan import expand

    return expand(request)


def grid_rows(plan: RecipePlan) -> list[dict]:
    """Every cell of entries × tasks × seeds, planned or not, with its run key or the reason it cannot run yet."""
    rows = []
    for entry_plan in plan.entries:
        by_cell = {(t.task_name, t.seed): t for t in entry_plan.plan.trials}
        reasons = dict(entry_plan.plan.refused)
        waiting = entry_plan.job is not None and not entry_plan.job.present
        for task in plan.tasks:
            reason = reasons.get(task) or reasons.get(f"{entry_plan.entry.model} on {task}", "")
            if waiting and task not in reasons:
                reason = f"after pretraining {entry_plan.job.folder}"
            for seed in plan.seeds:
                trial = by_cell.get((task, seed))
                rows.append({"entry": entry_plan.entry.label, "model": entry_plan.entry.model, "task": task,
                             "seed": seed, "mode": plan.mode, "key": trial.key if trial else "",
                             "status": "planned" if trial else reason})
    return rows
