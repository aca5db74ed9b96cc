"""The task registry: task cards under tasks/, read once, selected by name, alias or group.

A group is any name listed under `groups:` in a card, plus `all`. Importing this module imports no torch.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from suite.cards import check_name, load_cards
from suite.errors import CardError, SuiteError, UnknownName
from suite.tasks.spec import LENGTH_POLICIES, TaskSpec

ALL = "all"
METRICS = ("accuracy", "mcc", "macro_f1")


@cache
def all_tasks() -> dict[str, TaskSpec]:
    """Every task card, by name, in card order (benchmark folder, then file name)."""
    tasks = load_cards("tasks", TaskSpec, _check)
    clash = set(tasks) & set(_groups_of(tasks.values()))
    if clash:
        raise CardError(f"names used both as task and group: {sorted(clash)}", "rename the group or the task")
    return tasks


def _check(spec: TaskSpec, path) -> None:
    check_name(spec.name, str(path))
    for group in spec.groups:
        check_name(group, str(path))
    if spec.metric not in METRICS:
        raise UnknownName(f"metric in {path}", spec.metric, METRICS)
    if spec.length_policy not in LENGTH_POLICIES:
        raise UnknownName(f"length policy in {path}", spec.length_policy, LENGTH_POLICIES)
    try:
        spec.get_data.format(task="", source="", data_dir="")
    except (KeyError, IndexError, ValueError) as exc:
        raise CardError(f"{path}: get_data holds an unknown placeholder ({exc})",
                        "use {task}, {source} and {data_dir} (the data folder searched), or write {{ }}") from exc
    if spec.max_bp < 1:
        raise CardError(f"{path}: max_bp {spec.max_bp} must be a positive length in bases",
                        "set max_bp to the longest sequence the task keeps (e.g. 1000)")


def _groups_of(specs: Iterable[TaskSpec]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for spec in specs:
        for group in spec.groups:
            groups.setdefault(group, []).append(spec.name)
    return groups


def groups() -> dict[str, list[str]]:
    """Group name → task names (in card order), `all` included."""
    tasks = all_tasks()
    return {**_groups_of(tasks.values()), ALL: list(tasks)}


def _aliases() -> dict[str, str]:
    return {alias.lower(): spec.name for spec in all_tasks().values() for alias in spec.aliases}


def get_task(name: str) -> TaskSpec:
    """A task by name or alias (case-insensitive; '-' reads as '_')."""
    tasks = all_tasks()
    key = name.strip().lower().replace("-", "_")
    if key in tasks:
        return tasks[key]
    alias = _aliases().get(name.strip().lower())
    if alias:
        return tasks[alias]
    members = groups().get(key)
    if members:
        raise SuiteError(f"'{name}' is a group of {len(members)} tasks, not one task",
                         f"name one of them, e.g. {members[0]}; `suite tasks {key}` lists them")
    raise UnknownName("task", name, list(tasks) + list(groups()))


def select_tasks(names: str | Iterable[str]) -> list[TaskSpec]:
    """Tasks named by any mix of task names, aliases and groups ("a,b" or a list), de-duplicated, in order."""
    if isinstance(names, str):
        names = [n for n in names.split(",")]
    chosen: dict[str, TaskSpec] = {}
    group_map = groups()
    for raw in names:
        name = raw.strip().lower().replace("-", "_")
        if not name:
            continue
        if name in group_map:
            for task_name in group_map[name]:
                chosen.setdefault(task_name, all_tasks()[task_name])
        else:
            spec = get_task(raw)
            chosen.setdefault(spec.name, spec)
    return list(chosen.values())
