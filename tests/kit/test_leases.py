"""Leases on rows (``kit.leases``): claimed once, renewed by their owner only, released
when their owner is found dead on this host (#12.1, #19.6)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys

from sqlalchemy.orm import Session

from takedown.kit import leases
from takedown.verification import repository
from takedown.verification.models import CheckSchedule
from takedown.verification.service import schedule_items
from tests.factories import make_actor
from tests.items.factories import make_assessed_item

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
TTL = dt.timedelta(minutes=2)
LEASE = repository.LEASE


def _items(s: Session, n: int) -> list[int]:
    actor = make_actor(s)
    ids = [make_assessed_item(s, actor).id for _ in range(n)]
    schedule_items(s, ids)
    s.flush()
    return ids


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_claim_takes_each_row_once_and_claim_one_is_compare_and_set(db_session: Session) -> None:
    ids = _items(db_session, 3)
    where = [CheckSchedule.item_id.in_(ids)]
    a = leases.claim(db_session, LEASE, where, owner="a", now=T0, ttl=TTL, limit=2)
    b = leases.claim(db_session, LEASE, where, owner="b", now=T0, ttl=TTL, limit=10)
    assert len(a) == 2 and len(b) == 1 and set(a) | set(b) == set(ids)
    assert not leases.claim_one(db_session, LEASE, ids[0], owner="c", now=T0, ttl=TTL)
    later = T0 + TTL + dt.timedelta(seconds=1)  # expired: free again
    assert leases.claim_one(db_session, LEASE, ids[0], owner="c", now=later, ttl=TTL)


def test_only_the_owner_renews_or_releases(db_session: Session) -> None:
    ids = _items(db_session, 2)
    leases.claim(db_session, LEASE, [CheckSchedule.item_id.in_(ids)], owner="a", now=T0,
                 ttl=TTL, limit=10)  # fmt: skip
    assert leases.renew(db_session, LEASE, ids, owner="b", now=T0, ttl=TTL) == 0
    assert leases.renew(db_session, LEASE, ids, owner="a", now=T0 + TTL, ttl=TTL) == 2
    # renewed: still held just after the first lease would have ended
    assert not leases.claim_one(db_session, LEASE, ids[0], owner="b", now=T0 + TTL * 1.5, ttl=TTL)
    assert leases.release(db_session, LEASE, ids, owner="b") == 0
    assert leases.release(db_session, LEASE, ids, owner="a") == 2
    assert leases.claim_one(db_session, LEASE, ids[0], owner="b", now=T0, ttl=TTL)


def test_a_dead_owners_leases_are_released_at_once(db_session: Session) -> None:
    ids = _items(db_session, 3)
    host = socket.gethostname()
    dead = f"{host}:{_dead_pid()}:0123456789ab"
    recycled = f"{host}:{os.getpid()}:not-my-token"  # our pid, a predecessor's token
    elsewhere = f"another-host.example:{_dead_pid()}:0123456789ab"
    for key, owner in zip(ids, (dead, recycled, elsewhere), strict=True):
        assert leases.claim_one(db_session, LEASE, key, owner=owner, now=T0, ttl=TTL)
    assert leases.dead_here(dead) and leases.dead_here(recycled)
    assert not leases.dead_here(elsewhere) and not leases.dead_here(leases.owner_id())
    assert leases.release_dead(db_session, LEASE) == 2
    assert leases.claim_one(db_session, LEASE, ids[0], owner="new", now=T0, ttl=TTL)
    assert leases.claim_one(db_session, LEASE, ids[1], owner="new", now=T0, ttl=TTL)
    assert not leases.claim_one(db_session, LEASE, ids[2], owner="new", now=T0, ttl=TTL)
