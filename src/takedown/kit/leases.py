"""Leases on rows: who works on a row, until when; claimed atomically, renewed while the
work goes on, released when it ends or when its holder is found dead.

The database is the source of truth for what work is due; a lease says who took it.
Any table with an owner column and an "until" column can be leased (a delivery, a
check schedule, a crawl). On PostgreSQL candidates are read ``FOR UPDATE SKIP LOCKED``
(a second claimer skips them instead of waiting); on SQLite the claim runs under the
write lock (``BEGIN IMMEDIATE``). Either way the ``UPDATE`` re-checks the lease
(compare-and-set), so two claimers can never both win a row.

An owner is ``host:pid:token`` (``owner_id``): a process that restarts on the same host
knows the leases of its dead predecessors (``dead_here``) and releases them at once,
instead of waiting for them to expire.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from takedown.db import is_postgres, write_lock

CHUNK = 500  # keys per UPDATE ... WHERE key IN (...)


@lru_cache(maxsize=1)
def _token() -> str:
    return uuid.uuid4().hex[:12]


def owner_id(role: str = "") -> str:
    """This process as a lease owner: ``host:pid:token[:role]`` (the token tells a restarted
    process with a recycled pid, e.g. pid 1 in a container, from its predecessor)."""
    base = f"{socket.gethostname()}:{os.getpid()}:{_token()}"
    return f"{base}:{role}" if role else base


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: alive
    return True


def dead_here(owner: str) -> bool:
    """True if ``owner`` was a process on this host that is gone (not running, or its pid
    now belongs to this process under another token). Owners on other hosts: False."""
    parts = owner.split(":")
    if len(parts) < 3 or parts[0] != socket.gethostname():
        return False
    try:
        pid = int(parts[1])
    except ValueError:
        return False
    if pid == os.getpid():
        return parts[2] != _token()
    return not _pid_alive(pid)


@dataclass(frozen=True)
class Leased:
    """The columns that make a table leasable."""

    key: InstrumentedAttribute[Any]  # the row's primary key
    owner: InstrumentedAttribute[Any]  # String, NULL when free
    until: InstrumentedAttribute[Any]  # UTC datetime, NULL when free

    def free(self, now: dt.datetime) -> ColumnElement[bool]:
        return or_(self.until.is_(None), self.until < now)


def claim(
    session: Session,
    table: Leased,
    where: Sequence[ColumnElement[bool]],
    *,
    owner: str,
    now: dt.datetime,
    ttl: dt.timedelta,
    limit: int,
    order_by: Sequence[Any] = (),
    join: Callable[[Any], Any] | None = None,
) -> list[Any]:
    """Take up to ``limit`` free rows matching ``where``; returns their keys. The caller
    commits (soon: the claim is only visible to others once committed)."""
    if not is_postgres(session):
        write_lock(session)
    q = select(table.key)
    if join is not None:
        q = join(q)
    q = q.where(*where, table.free(now)).order_by(*order_by).limit(limit)
    if is_postgres(session):
        q = q.with_for_update(skip_locked=True, of=table.key.class_)
    keys = list(session.scalars(q).all())
    won: list[Any] = []
    for i in range(0, len(keys), CHUNK):
        part = keys[i : i + CHUNK]
        res = session.execute(
            update(table.key.class_)
            .where(table.key.in_(part), table.free(now))
            .values({table.owner.key: owner, table.until.key: now + ttl})
            .execution_options(synchronize_session=False)
        )
        if res.rowcount == len(part):  # type: ignore[attr-defined]
            won.extend(part)
        else:  # someone took some between our read and our write: ask which are ours
            won.extend(
                session.scalars(
                    select(table.key).where(table.key.in_(part), table.owner == owner)
                ).all()
            )
    return won


def claim_one(
    session: Session,
    table: Leased,
    key: Any,
    where: Sequence[ColumnElement[bool]] = (),
    *,
    owner: str,
    now: dt.datetime,
    ttl: dt.timedelta,
    values: dict[str, Any] | None = None,
) -> bool:
    """Compare-and-set one row: take it if it is free and matches ``where``."""
    res = session.execute(
        update(table.key.class_)
        .where(table.key == key, table.free(now), *where)
        .values({table.owner.key: owner, table.until.key: now + ttl, **(values or {})})
        .execution_options(synchronize_session=False)
    )
    return bool(res.rowcount == 1)  # type: ignore[attr-defined]


def renew(
    session: Session,
    table: Leased,
    keys: Sequence[Any],
    *,
    owner: str,
    now: dt.datetime,
    ttl: dt.timedelta,
) -> int:
    """Extend this owner's leases on ``keys`` (work still in progress); returns how many."""
    n = 0
    for i in range(0, len(keys), CHUNK):
        res = session.execute(
            update(table.key.class_)
            .where(table.key.in_(keys[i : i + CHUNK]), table.owner == owner)
            .values({table.until.key: now + ttl})
            .execution_options(synchronize_session=False)
        )
        n += int(res.rowcount or 0)  # type: ignore[attr-defined]
    return n


def release(session: Session, table: Leased, keys: Sequence[Any], *, owner: str) -> int:
    """Give back this owner's leases on ``keys`` (work done or abandoned)."""
    n = 0
    for i in range(0, len(keys), CHUNK):
        res = session.execute(
            update(table.key.class_)
            .where(table.key.in_(keys[i : i + CHUNK]), table.owner == owner)
            .values({table.owner.key: None, table.until.key: None})
            .execution_options(synchronize_session=False)
        )
        n += int(res.rowcount or 0)  # type: ignore[attr-defined]
    return n


def holders(session: Session, table: Leased, now: dt.datetime) -> dict[str, tuple[int, Any]]:
    """Who holds live leases: owner -> (rows, latest expiry)."""
    from sqlalchemy import func

    rows = session.execute(
        select(table.owner, func.count(), func.max(table.until))
        .where(table.owner.is_not(None), table.until >= now)
        .group_by(table.owner)
    ).all()
    return {str(o): (int(n), until) for o, n, until in rows}


def release_dead(
    session: Session, table: Leased, *, dead: Callable[[str], bool] = dead_here
) -> int:
    """Release every lease whose owner is dead (by default: gone from this host). Run at a
    worker's or server's start: a killed process's work is due again at once."""
    owners = session.scalars(select(table.owner).where(table.owner.is_not(None)).distinct()).all()
    gone = [o for o in owners if dead(str(o))]
    if not gone:
        return 0
    res = session.execute(
        update(table.key.class_)
        .where(and_(table.owner.in_(gone)))
        .values({table.owner.key: None, table.until.key: None})
        .execution_options(synchronize_session=False)
    )
    return int(res.rowcount or 0)  # type: ignore[attr-defined]
