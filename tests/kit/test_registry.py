"""NamedRegistry: unique names, entry-point loading, validation, clear errors."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Protocol, runtime_checkable

import pytest

from takedown.kit.errors import NotFound
from takedown.kit.registry import PLUGIN_GROUP, NamedRegistry, RegistryError


@runtime_checkable
class Greeter(Protocol):
    def greet(self) -> str: ...


class Hello:
    def greet(self) -> str:
        return "hello"


class NotAGreeter:
    pass


HELLO = Hello()
OTHER_HELLO = Hello()
NOT_A_GREETER = NotAGreeter()


def as_greeter(obj: object) -> Greeter:
    if not isinstance(obj, Greeter):
        raise TypeError(f"{type(obj).__name__} has no greet()")
    return obj


def _ep(name: str, attr: str) -> EntryPoint:
    return EntryPoint(name=name, value=f"{__name__}:{attr}", group=PLUGIN_GROUP)


def test_register_and_get() -> None:
    reg: NamedRegistry[Greeter] = NamedRegistry("t", check=as_greeter, entry_point_source=list)
    reg.register("hello", HELLO)
    assert reg.get("hello") is HELLO
    assert reg.names() == ["hello"] and "hello" in reg and len(reg) == 1
    assert list(reg) == ["hello"] and reg.items() == [("hello", HELLO)]


def test_duplicate_names_are_refused_with_both_origins() -> None:
    reg: NamedRegistry[Greeter] = NamedRegistry("t", entry_point_source=list)
    reg.register("hello", HELLO, origin="built-in")
    with pytest.raises(RegistryError, match="already registered by built-in"):
        reg.register("hello", OTHER_HELLO, origin="plugin x")
    assert reg.get("hello") is HELLO


@pytest.mark.parametrize("name", ["", "Hello", "has space", "a/b", "x" * 65])
def test_invalid_names_are_refused(name: str) -> None:
    reg: NamedRegistry[object] = NamedRegistry("t", entry_point_source=list)
    with pytest.raises(RegistryError, match="invalid name"):
        reg.register(name, HELLO)


def test_check_rejects_wrong_implementation() -> None:
    reg: NamedRegistry[Greeter] = NamedRegistry("t", check=as_greeter, entry_point_source=list)
    with pytest.raises(RegistryError, match="unusable: NotAGreeter has no greet"):
        reg.register("bad", NOT_A_GREETER)
    assert "bad" not in reg


def test_unknown_name_lists_known_ones() -> None:
    reg: NamedRegistry[Greeter] = NamedRegistry("t", entry_point_source=list)
    reg.register("hello", HELLO)
    with pytest.raises(NotFound, match=r"no implementation named 'nope' \(known: hello\)"):
        reg.get("nope")


def test_entry_points_are_loaded_once_and_filtered_by_prefix() -> None:
    calls = 0

    def source() -> list[EntryPoint]:
        nonlocal calls
        calls += 1
        return [
            _ep("greeters.hello", "HELLO"),
            _ep("other_registry.hello", "NOT_A_GREETER"),
            _ep("greetersx.hello", "NOT_A_GREETER"),
        ]

    reg: NamedRegistry[Greeter] = NamedRegistry(
        "greeters", check=as_greeter, entry_point_source=source
    )
    assert reg.names() == ["hello"]
    assert reg.get("hello") is HELLO
    assert reg.load_entry_points() == []
    assert calls == 1


def test_entry_point_clashing_with_code_registration_is_refused() -> None:
    reg: NamedRegistry[Greeter] = NamedRegistry(
        "greeters", entry_point_source=lambda: [_ep("greeters.hello", "OTHER_HELLO")]
    )
    reg.register("hello", HELLO, origin="built-in")
    with pytest.raises(RegistryError, match="already registered by built-in"):
        reg.load_entry_points()


def test_broken_entry_point_names_itself() -> None:
    broken = EntryPoint(
        name="greeters.broken", value="no_such_module_xyz:thing", group=PLUGIN_GROUP
    )
    reg: NamedRegistry[Greeter] = NamedRegistry("greeters", entry_point_source=lambda: [broken])
    with pytest.raises(RegistryError, match=r"'greeters\.broken' .* failed to load"):
        reg.names()


def test_default_source_reads_the_installed_group() -> None:
    reg: NamedRegistry[object] = NamedRegistry("no-such-registry-for-tests")
    assert reg.names() == []
