"""Name → object registries (data loaders, metrics, model families …) with helpful misses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from suite.errors import SuiteError, UnknownName

T = TypeVar("T")


class Registry(Generic[T]):
    """Names → objects of one kind. `register` is a decorator; `get` says "did you mean" on a miss."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def add(obj: T) -> T:
            if name in self._items:
                raise SuiteError(f"{self.kind} '{name}' is registered twice", "rename one of them")
            self._items[name] = obj
            return obj

        return add

    def get(self, name: str) -> T:
        if name not in self._items:
            raise UnknownName(self.kind, name, self._items)
        return self._items[name]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def names(self) -> list[str]:
        return sorted(self._items)
