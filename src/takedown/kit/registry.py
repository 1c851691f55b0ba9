"""A registry of named implementations, shared by every extension point.

Connectors, hashers, storage backends and delivery channels each keep one
``NamedRegistry``. Built-ins and third-party plug-ins arrive the same way: an
entry point in the group ``takedown.plugins`` whose name is
``<registry>.<implementation>`` (for example ``platforms.connectors.telegram``)
and whose object is the implementation. Code may also call ``register``
directly (tests do). Names are unique: a second implementation under a taken
name is refused, because silently shadowing a built-in would change what an
agency's referrals or evidence do.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator
from importlib.metadata import EntryPoint, entry_points
from typing import Generic, TypeVar

from takedown.kit.errors import Conflict, NotFound

T = TypeVar("T")

PLUGIN_GROUP = "takedown.plugins"
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_\-]{0,63}")


class RegistryError(Conflict):
    title = "Plug-in registry error"
    type_slug = "registry-error"


def _default_entry_points() -> Iterable[EntryPoint]:
    return entry_points(group=PLUGIN_GROUP)


class NamedRegistry(Generic[T]):
    """Name -> implementation, filled from entry points on first use.

    ``check`` validates each implementation (for example an ``isinstance``
    test against a runtime-checkable Protocol) and returns it typed; a plug-in
    that fails it is refused with the entry point's name in the message.
    """

    def __init__(
        self,
        name: str,
        *,
        check: Callable[[object], T] | None = None,
        entry_point_source: Callable[[], Iterable[EntryPoint]] = _default_entry_points,
    ) -> None:
        self.name = name
        self._check = check
        self._source = entry_point_source
        self._items: dict[str, T] = {}
        self._origins: dict[str, str] = {}
        self._loaded = False
        self._lock = threading.RLock()

    def register(self, name: str, impl: object, *, origin: str = "code") -> T:
        if not _NAME_RE.fullmatch(name):
            raise RegistryError(f"{self.name}: invalid name {name!r} (lower-case, digits, _ or -)")
        typed = self._validate(name, impl, origin)
        with self._lock:
            if name in self._items:
                raise RegistryError(
                    f"{self.name}: {name!r} from {origin} is already registered by "
                    f"{self._origins[name]}"
                )
            self._items[name] = typed
            self._origins[name] = origin
        return typed

    def _validate(self, name: str, impl: object, origin: str) -> T:
        if self._check is None:
            return impl  # type: ignore[return-value]
        try:
            return self._check(impl)
        except (TypeError, ValueError) as exc:
            raise RegistryError(f"{self.name}: {name!r} from {origin} is unusable: {exc}") from exc

    def load_entry_points(self) -> list[str]:
        """Register every entry point meant for this registry; return the names added."""
        prefix = self.name + "."
        added: list[str] = []
        with self._lock:
            if self._loaded:
                return added
            self._loaded = True
            for ep in self._source():
                if not ep.name.startswith(prefix):
                    continue
                short = ep.name[len(prefix) :]
                try:
                    impl = ep.load()
                except Exception as exc:  # a broken plug-in must name itself
                    raise RegistryError(
                        f"{self.name}: entry point {ep.name!r} ({ep.value}) failed to load: {exc}"
                    ) from exc
                self.register(short, impl, origin=f"entry point {ep.value}")
                added.append(short)
        return added

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            self.load_entry_points()

    def get(self, name: str) -> T:
        self._ensure_loaded()
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "none"
            raise NotFound(
                f"{self.name}: no implementation named {name!r} (known: {known})"
            ) from None

    def names(self) -> list[str]:
        self._ensure_loaded()
        return sorted(self._items)

    def items(self) -> list[tuple[str, T]]:
        self._ensure_loaded()
        return sorted(self._items.items(), key=lambda kv: kv[0])

    def __contains__(self, name: object) -> bool:
        self._ensure_loaded()
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        self._ensure_loaded()
        return len(self._items)
