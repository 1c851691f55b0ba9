"""Helpers the bench scripts share: ports, CPU time, per-second peaks, a bench database.

Each script puts ``bench/`` on ``sys.path`` before ``import _util`` (they run as
``python bench/<name>.py``; tests load some of them by file path).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

CLK = os.sysconf("SC_CLK_TCK")
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK
    except (OSError, IndexError):
        return 0.0


def most_in_a_second(times: list[float]) -> int:
    """The most events in any sliding window of one second."""
    times = sorted(times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        best = max(best, i - j + 1)
    return best


def round_robin(groups: dict[str, list[T]], n: int) -> list[T]:
    """Up to ``n`` values taken in turn from each group (groups in name order)."""
    out: list[T] = []
    i = 0
    while len(out) < n and any(i < len(v) for v in groups.values()):
        for key in sorted(groups):
            if i < len(groups[key]) and len(out) < n:
                out.append(groups[key][i])
        i += 1
    return out


def analyst_db(path: Path, email: str) -> tuple[Any, sessionmaker[Session], Any]:
    """A migrated SQLite database with one agency and one analyst: (engine, factory, principal)."""
    from takedown.accounts import service as accounts
    from takedown.accounts.service import SYSTEM
    from takedown.db import make_engine, make_sessionmaker, session_scope
    from takedown.migrate import upgrade

    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    factory = make_sessionmaker(engine)
    with session_scope(factory) as s:
        ag = accounts.create_agency(s, SYSTEM, name="Bench IRU", country="NL", kind="national_iru")
        user = accounts.create_user(
            s,
            SYSTEM,
            agency_id=ag.id,
            email=email,
            role="analyst",
            password="bench-password-123",  # noqa: S106 (a synthetic bench user)
        )
        principal = accounts.principal_for(user, ag, via="cli")
    return engine, factory, principal
