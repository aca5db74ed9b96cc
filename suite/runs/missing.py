"""What a run could not find on this machine, said once.

Planning refuses a task whose data is not here and a model × task whose weights are not here, each with a full
line (every path looked in, how to get it). Offline that is one ~700-character line per task and per model × task.
`summary` turns the plan's `missing` entries into a few lines: which tasks' data and which models' weights are
missing, where the suite looked, and the one command line that fetches them (`suite data fetch`,
`suite models fetch`); weights the suite writes itself (`suite pretrain`) get that command instead.
"""

from __future__ import annotations

from suite.runs.plan import Plan
from suite.runs.request import RunRequest

SHOWN = 4  # task names listed before "…"


def summary(plan: Plan, request: RunRequest) -> list[str]:
    """A few lines about the plan's missing data and weights; [] when nothing is missing."""
    tasks = list(dict.fromkeys(m.name for m in plan.missing if m.kind == "data"))
    models = {m.name: m.reason for m in plan.missing if m.kind == "weights"}
    if not tasks and not models:
        return []
    what = " and ".join(x for x in (_count(len(tasks), "task's data", "tasks' data"),
                                    _count(len(models), "model's weights", "models' weights")) if x)
    outcome = "nothing can run" if not plan.trials else f"{len(plan.trials)} trials run without them"
    lines = [f"not on this machine: {what}; {outcome}"]
    fetch = []
    if tasks:
        lines.append(f"  data: {_which(tasks, request)}; looked in {_searched(tasks, request)}")
        fetch.append(f"suite data fetch {_task_argument(tasks, request)}")
    hub, other = _weights(models, request)
    if hub:
        lines.append(f"  weights: {', '.join(hub)} (published; in neither SUITE_MODELS_DIR nor the Hugging Face cache)")
        fetch.append(f"suite models fetch {','.join(hub)}")
    lines += [f"  weights of {name}: {how}" for name, how in other.items()]
    if fetch:
        lines.append("  get them (online): " + " && ".join(fetch))
    return lines


def _count(n: int, one: str, many: str) -> str:
    return "" if not n else f"1 {one}" if n == 1 else f"{n} {many}"


def _which(tasks: list[str], request: RunRequest) -> str:
    if set(tasks) == set(_asked(request)):
        return f"all {len(tasks)} tasks of --tasks {request.tasks}" if len(tasks) > 1 else tasks[0]
    return ", ".join(tasks) if len(tasks) <= SHOWN else f"{', '.join(tasks[:SHOWN])} … ({len(tasks)} tasks)"


def _searched(tasks: list[str], request: RunRequest) -> str:
    from suite.data.sources import data_dirs, searched_folders
    from suite.tasks import get_task

    folders = dict.fromkeys(f for name in tasks for f in searched_folders(get_task(name), request.data_dir))
    unset = "" if data_dirs(request.data_dir) else " (no data folder given: --data-dir, SUITE_DATA_DIR unset)"
    return ", ".join(folders) + unset


def _asked(request: RunRequest) -> list[str]:
    from suite.tasks import select_tasks

    return [t.name for t in select_tasks(request.tasks)]


def _task_argument(tasks: list[str], request: RunRequest) -> str:
    """What `suite data fetch` is given: the run's own --tasks when every task it names is missing, else the names."""
    argument = request.tasks if set(_asked(request)) == set(tasks) else ",".join(tasks)
    return argument + (f" --data-dir {request.data_dir}" if request.data_dir else "")


def _weights(models: dict[str, str], request: RunRequest) -> tuple[list[str], dict[str, str]]:
    """(published models `suite models fetch` gets, {model: how to get its weights} for the others)."""
    from suite.models import get_model_spec

    given = request.sets.get("weights") not in (None, "card", "none")
    hub, other = [], {}
    for name, reason in models.items():
        spec = get_model_spec(name)
        if spec.weights.is_hub and not given:
            hub.append(name)
        elif given:
            other[name] = reason  # a folder the user named: the refusal says what is wrong with it
        else:
            other[name] = (f"{spec.weights.local}/{spec.weights.file} is written by "
                           f"`suite pretrain --model {name.replace('_', '-')} --profile paper --fasta hg38.fa`")
    return hub, other
