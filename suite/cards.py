"""Cards: YAML files under tasks/, models/, sweeps/ read strictly into frozen dataclasses.

Rules:
- one YAML file is one card; files whose names start with `_` are only ever included;
- `include: other.yaml` (relative to the card) merges one level deep: mappings key by key, the card wins;
- an unknown key is an error naming the file, the key and the closest valid key;
- names are lowercase `[a-z0-9_]`.

The card folders are found in the installed wheel (`suite/_cards/`) first, then in the source tree.
Only the standard library and PyYAML are imported here, so listing cards stays cheap.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from suite.errors import CardError, closest

T = TypeVar("T")
NAME_RE = re.compile(r"^[a-z0-9_]+$")


def card_root() -> Path:
    """The folder holding tasks/, models/, sweeps/ and reports/published/."""
    packaged = Path(__file__).parent / "_cards"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent


def card_dir(kind: str) -> Path:
    return card_root() / kind


# libyaml's safe loader where PyYAML was built with it (the wheels are): the same documents, parsed ~10x faster
# than the pure-Python one, which `suite models` / `suite tasks` / `suite reproduce --list` otherwise wait on.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(), Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        raise CardError(f"card {path} is not valid YAML ({exc.__class__.__name__})", "fix the YAML syntax") from exc
    if not isinstance(data, dict):
        raise CardError(f"card {path} must hold a mapping at top level", "write `key: value` lines")
    return data


def resolve(path: Path, _seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The card at `path` with its `include:` chain merged in (the including card wins)."""
    if path in _seen:
        raise CardError(f"card {path} includes itself through {[p.name for p in _seen]}", "break the include cycle")
    data = read_yaml(path)
    include = data.pop("include", None)
    if include is None:
        return data
    base_path = path.parent / include
    if not base_path.is_file():
        raise CardError(f"card {path} includes missing file '{include}'", f"create {base_path} or fix the name")
    merged = resolve(base_path, _seen + (path,))
    for key, value in data.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def iter_cards(kind: str) -> list[Path]:
    """Every listable card file of one kind (recursively), sorted by path."""
    folder = card_dir(kind)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.yaml") if not p.name.startswith("_"))


def build(cls: type[T], data: dict[str, Any], source: str) -> T:
    """Build frozen dataclass `cls` from `data`, strictly: unknown or missing keys are errors."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key in data:
        if key not in fields:
            guess = closest(key, fields)
            hint = f"did you mean '{guess}'?" if guess else f"valid keys: {', '.join(fields)}"
            raise CardError(f"{source}: unknown key '{key}'", hint)
    missing = [
        name
        for name, f in fields.items()
        if name not in data and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise CardError(f"{source}: missing key(s) {', '.join(missing)}", "add them to the card")
    values = {key: _convert(hints[key], value, f"{source}: {key}") for key, value in data.items()}
    return cls(**values)


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, where)
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise CardError(f"{where} must be a mapping", "write it as `{key: value, ...}`")
        return build(hint, value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise CardError(f"{where} must be a list", "write it as `[a, b, ...]`")
        return tuple(_convert(args[0], v, where) for v in value)
    if origin is dict:
        if not isinstance(value, dict):
            raise CardError(f"{where} must be a mapping", "write it as `{key: value, ...}`")
        return dict(value)
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise CardError(f"{where} must be {hint.__name__}, got {value!r}", f"write a {hint.__name__}")
    return value


def check_name(name: str, source: str) -> None:
    if not NAME_RE.match(name):
        raise CardError(f"{source}: name '{name}' must be lowercase letters, digits and '_'", "rename it")


def load_cards(kind: str, cls: type[T], check) -> dict[str, T]:
    """Every listable card of one kind, built into `cls` and checked by `check(spec, path)`, by name, in path
    order; two cards of one name are an error."""
    specs: dict[str, T] = {}
    for path in iter_cards(kind):
        spec = build(cls, resolve(path), str(path))
        check(spec, path)
        if spec.name in specs:
            raise CardError(f"{kind[:-1]} '{spec.name}' is defined twice ({path})", "rename one of the cards")
        specs[spec.name] = spec
    return specs
