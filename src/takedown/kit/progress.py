"""Progress reporting: a tiny protocol so services report progress without knowing Rich."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)


class ProgressSink(Protocol):
    def advance(self, n: int = 1) -> None: ...
    def set_total(self, total: int | None) -> None: ...


class NullProgress:
    def advance(self, n: int = 1) -> None:
        return None

    def set_total(self, total: int | None) -> None:
        return None


class _RichSink:
    def __init__(self, progress: Progress, task: int) -> None:
        self._p = progress
        self._t = task

    def advance(self, n: int = 1) -> None:
        self._p.advance(self._t, n)  # type: ignore[arg-type]

    def set_total(self, total: int | None) -> None:
        self._p.update(self._t, total=total)  # type: ignore[arg-type]


@contextmanager
def rich_progress(
    description: str,
    total: int | None = None,
    *,
    bytes_mode: bool = False,
    enabled: bool = True,
    console: Console | None = None,
) -> Iterator[ProgressSink]:
    """A Rich progress bar (on ``console``, Rich's default when None); ``enabled=False``
    yields a silent sink."""
    if not enabled:
        yield NullProgress()
        return
    columns = [TextColumn("{task.description}"), BarColumn()]
    columns.append(TransferSpeedColumn() if bytes_mode else MofNCompleteColumn())
    columns.append(TimeElapsedColumn())
    with Progress(*columns, transient=False, console=console) as progress:
        task = progress.add_task(description, total=total)
        yield _RichSink(progress, int(task))
