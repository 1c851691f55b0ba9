"""Shared CLI helpers: one clear error line, and the command's unit of work.

Capability commands import these from here, never from the composition root
(``takedown.cli``), so arrows point down. The root installs how settings are read
and hooks wired (``install``); this module only keeps the session factory it makes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from takedown.kit.errors import TakedownError

if TYPE_CHECKING:  # a type only: kit does not depend on the composition roots
    from takedown.config import Settings

err = Console(stderr=True)

_settings_provider: Callable[[], Settings] | None = None
_factory: sessionmaker[Session] | None = None


def install(settings_provider: Callable[[], Settings]) -> None:
    """Called once by ``takedown.cli``: how a command gets its (hook-wired) settings."""
    global _settings_provider
    _settings_provider = settings_provider


def settings() -> Settings:
    if _settings_provider is None:
        raise RuntimeError("takedown.kit.cli.install() was not called (import takedown.cli)")
    return _settings_provider()


def session_factory() -> sessionmaker[Session]:
    global _factory
    if _factory is None:
        from takedown.db import make_engine, make_sessionmaker

        s = settings()
        s.ensure_dirs()
        _factory = make_sessionmaker(make_engine(s.effective_database_url))
    return _factory


def reset_session_factory() -> None:
    """Forget the cached factory (tests that change the database between commands)."""
    global _factory
    _factory = None


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """One committed transaction for a CLI command; nothing half-done on error."""
    from takedown.db import session_scope

    with session_scope(session_factory()) as session:
        yield session


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn typed errors into one clear line and a non-zero exit."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TakedownError as exc:
            fail(exc.detail)

    return wrapper
