"""The hasher registry: built-ins and plug-ins register the same way.

Third-party packages add hashers through the entry-point group
``takedown.plugins``; an entry point whose object is a ``Hasher`` instance (or
a zero-argument callable returning one) is registered under its ``name``.
Names are unique: a second hasher with a taken name is refused rather than
silently shadowing the first.

``takedown.kit.registry.NamedRegistry`` is used when it exists; until then a
small local equivalent keeps this module self-contained.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from takedown.kit.errors import Conflict, NotFound
from takedown.matching.base import Hasher

T = TypeVar("T")

ENTRY_POINT_GROUP = "takedown.plugins"


class _NamedRegistry(Generic[T]):
    """Name -> object, refusing duplicates."""

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._items: dict[str, T] = {}
        self._lock = threading.Lock()

    def register(self, name: str, item: T) -> T:
        with self._lock:
            if name in self._items:
                raise Conflict(f"a {self._kind} named {name!r} is already registered")
            self._items[name] = item
        return item

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise NotFound(f"no {self._kind} named {name!r}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._items.values()))


hashers: _NamedRegistry[Hasher] = _NamedRegistry("hasher")
_loaded = False
_load_lock = threading.Lock()


def register(hasher: Hasher) -> Hasher:
    return hashers.register(hasher.name, hasher)


def load_plugins() -> None:
    """Register entry-point hashers once; entries that are not hashers are ignored."""
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        candidate = obj() if callable(obj) and not isinstance(obj, Hasher) else obj
        if isinstance(candidate, Hasher) and candidate.name not in hashers:
            register(candidate)


def ensure_builtins() -> None:
    """Register the built-in hashers (idempotent) and then plug-ins."""
    global _loaded
    with _load_lock:
        if _loaded:
            return
        from takedown.matching.hashers import builtin_hashers

        for h in builtin_hashers():
            register(h)
        load_plugins()
        _loaded = True


def get_hasher(name: str) -> Hasher:
    ensure_builtins()
    return hashers.get(name)


def all_hashers() -> list[Hasher]:
    ensure_builtins()
    return list(hashers)
