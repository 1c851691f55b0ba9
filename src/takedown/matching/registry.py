"""The hasher registry: built-ins and plug-ins register the same way.

A third-party package adds a hasher with an entry point in the group
``takedown.plugins`` named ``matching.hashers.<name>`` whose object is a
``Hasher`` instance (or a zero-argument class/factory returning one). Names
are unique (``takedown.kit.registry.NamedRegistry``): a second hasher under a
taken name is refused rather than silently shadowing the first.
"""

from __future__ import annotations

import threading

from takedown.kit.registry import NamedRegistry
from takedown.matching.base import Hasher


def _check(impl: object) -> Hasher:
    candidate = impl() if isinstance(impl, type) else impl
    if not isinstance(candidate, Hasher):
        raise TypeError("not a Hasher (needs name, signal_type, accepts() and hash())")
    return candidate


hashers: NamedRegistry[Hasher] = NamedRegistry("matching.hashers", check=_check)
_builtins_done = False
_lock = threading.Lock()


def register(hasher: Hasher) -> Hasher:
    return hashers.register(hasher.name, hasher)


def ensure_builtins() -> None:
    """Register the built-in hashers once (plug-ins load on first lookup)."""
    global _builtins_done
    with _lock:
        if _builtins_done:
            return
        from takedown.matching.hashers import builtin_hashers

        for h in builtin_hashers():
            hashers.register(h.name, h, origin="takedown.matching")
        _builtins_done = True


def get_hasher(name: str) -> Hasher:
    ensure_builtins()
    return hashers.get(name)


def all_hashers() -> list[Hasher]:
    ensure_builtins()
    return [impl for _, impl in hashers.items()]
