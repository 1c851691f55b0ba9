"""The shell's registries: navigation entries and home-page panels.

Why a registry: the shell must show only the pages of capabilities that have
landed. Each capability's ``views.py`` registers its own entries at import time,
so the shell never needs to know which capabilities exist.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal

SECTIONS: dict[str, str] = {"work": "Work", "admin": "Administration", "account": "Account"}


@dataclass(frozen=True)
class NavEntry:
    label: str
    path: str
    roles: frozenset[Role] | None = None  # None: every signed-in user
    order: int = 100
    section: str = "work"
    # Extra path prefixes that mark this entry as the current page.
    prefixes: tuple[str, ...] = ()
    # Only the instance operator's (``web.deps.OperatorPage``): shared by every agency.
    operator_only: bool = False

    def visible_to(self, principal: Principal) -> bool:
        if self.operator_only and not (principal.is_admin and principal.instance_wide):
            return False
        return _allowed(self.roles, principal)

    def matches(self, path: str) -> int:
        """Length of the longest prefix of ``path`` this entry claims (0: none)."""
        best = 0
        for p in (self.path, *self.prefixes):
            if path == p or (p != "/" and path.startswith(p.rstrip("/") + "/")):
                best = max(best, len(p))
        return best


def _allowed(roles: frozenset[Role] | None, principal: Principal) -> bool:
    """Admins see everything, as ``require_role`` lets them through everything."""
    return roles is None or principal.role is Role.ADMIN or principal.role in roles


_lock = threading.Lock()
_nav: dict[str, NavEntry] = {}


def register_nav(
    label: str,
    path: str,
    *,
    roles: Iterable[Role] | None = None,
    order: int = 100,
    section: str = "work",
    prefixes: Iterable[str] = (),
    operator_only: bool = False,
) -> NavEntry:
    """Add a link to the shell's navigation. Idempotent for an identical entry.

    ``roles``: who sees the link (admins always do); None means every signed-in
    user. ``section``: "work", "admin" or "account". ``order``: smaller first.
    ``operator_only``: only the instance operator sees it (pages behind ``OperatorPage``).
    """
    if section not in SECTIONS:
        raise ValueError(f"nav section {section!r} is not one of {', '.join(SECTIONS)}")
    if not path.startswith("/"):
        raise ValueError(f"nav path {path!r} must start with '/'")
    entry = NavEntry(
        label=label,
        path=path,
        roles=frozenset(roles) if roles is not None else None,
        order=order,
        section=section,
        prefixes=tuple(prefixes),
        operator_only=operator_only,
    )
    with _lock:
        existing = _nav.get(path)
        if existing is not None and existing != entry:
            raise ValueError(f"nav path {path!r} is already registered as {existing.label!r}")
        for other in _nav.values():
            if other.path != path and other.label == label and other.section == section:
                raise ValueError(f"nav label {label!r} is already used for {other.path!r}")
        _nav[path] = entry
    return entry


@dataclass(frozen=True)
class NavLink:
    label: str
    path: str
    current: bool


@dataclass(frozen=True)
class NavSection:
    key: str
    title: str
    links: list[NavLink] = field(default_factory=list)


def nav_for(principal: Principal, current_path: str) -> list[NavSection]:
    """The sections and links this principal may see, with the current page marked."""
    with _lock:
        entries = sorted(_nav.values(), key=lambda e: (e.order, e.label))
    visible = [e for e in entries if e.visible_to(principal)]
    best = max((e.matches(current_path) for e in visible), default=0)
    out: list[NavSection] = []
    for key, title in SECTIONS.items():
        links = [
            NavLink(e.label, e.path, best > 0 and e.matches(current_path) == best)
            for e in visible
            if e.section == key
        ]
        if links:
            out.append(NavSection(key, title, links))
    return out


# --- home-page panels -----------------------------------------------------------------------

PanelContext = Callable[[Session, Principal], dict[str, Any] | None]


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    context: PanelContext
    roles: frozenset[Role] | None = None
    order: int = 100


_panels: dict[str, Panel] = {}


def register_panel(
    key: str,
    title: str,
    template: str,
    context: PanelContext,
    *,
    roles: Iterable[Role] | None = None,
    order: int = 100,
) -> Panel:
    """Add a panel to the home page.

    ``context(session, principal)`` returns the template's variables, or None to
    hide the panel. It runs on every home-page view: keep it to bounded queries.
    """
    panel = Panel(key, title, template, context, frozenset(roles) if roles else None, order)
    with _lock:
        existing = _panels.get(key)
        if existing is not None and existing.template != template:
            raise ValueError(f"home panel {key!r} is already registered")
        _panels[key] = panel
    return panel


def panels_for(principal: Principal) -> list[Panel]:
    with _lock:
        panels = sorted(_panels.values(), key=lambda p: (p.order, p.key))
    return [p for p in panels if _allowed(p.roles, principal)]
