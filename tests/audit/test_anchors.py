"""Anchors of the audit chain (issue 19, point 8).

Before: deleting the last 20 events, or editing event 300 and recomputing every later
hash with ``compute_hash``, left a chain that ``audit verify`` called intact (the chain
alone still links). Each test below states one attack and who it stops.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.orm import Session

from takedown.audit import repository
from takedown.audit.anchors import (
    Anchor,
    AnchorKeys,
    append_to_file,
    head_document,
    hmac_key_from_secret,
    is_due,
    read_anchor_file,
    write_checkpoint,
)
from takedown.audit.models import AuditCheckpoint, AuditEvent
from takedown.audit.service import compute_hash, record, verify
from takedown.kit.clock import FrozenClock
from tests.factories import make_actor


@pytest.fixture
def keys(tmp_path: Path) -> AnchorKeys:
    return AnchorKeys(hmac_key=hmac_key_from_secret("test-secret"), file=tmp_path / "anchors.jsonl")


def _events(session: Session, n: int) -> list[int]:
    actor = make_actor(session)
    return [
        record(session, actor.principal, "test.event", "thing", i, {"i": i}).id for i in range(n)
    ]


def _checkpoint(session: Session, keys: AnchorKeys) -> Anchor:
    anchor = write_checkpoint(session, keys)
    assert anchor is not None
    if keys.file is not None:
        append_to_file(keys.file, anchor)
    return anchor


def _recompute_from(session: Session, event_id: int, details: str) -> None:
    """The attack of the issue: edit one event, then re-hash every later one with our function."""
    rows = list(
        session.scalars(
            AuditEvent.__table__.select().where(AuditEvent.id >= event_id).order_by(AuditEvent.id)
        )
    )
    prev = session.get(AuditEvent, rows[0]).prev_hash  # type: ignore[union-attr]
    for rid in rows:
        ev = session.get(AuditEvent, rid)
        assert ev is not None
        if ev.id == event_id:
            ev.details = details
        ev.prev_hash = prev
        ev.hash = compute_hash(
            prev_hash=prev,
            at=ev.at,
            actor_user_id=ev.actor_user_id,
            actor_agency_id=ev.actor_agency_id,
            action=ev.action,
            subject_type=ev.subject_type,
            subject_id=ev.subject_id,
            details=ev.details,
        )
        prev = ev.hash
        session.flush()


def _truncate(session: Session, keep_up_to: int) -> None:
    session.execute(text("DELETE FROM audit_events WHERE id > :i"), {"i": keep_up_to})
    session.expire_all()


def test_a_clean_chain_verifies_against_its_checkpoints(
    db_session: Session, keys: AnchorKeys
) -> None:
    _events(db_session, 5)
    _checkpoint(db_session, keys)
    _events(db_session, 3)
    _checkpoint(db_session, keys)
    assert write_checkpoint(db_session, keys) is None  # the head is already anchored
    result = verify(db_session, keys)
    assert result.ok, result.reason
    assert result.anchors == 2 and result.notes == ()
    assert len(read_anchor_file(keys.file)[0]) == 2  # type: ignore[arg-type]


def test_truncating_the_last_events_is_detected(db_session: Session, keys: AnchorKeys) -> None:
    ids = _events(db_session, 40)
    _checkpoint(db_session, keys)
    _truncate(db_session, ids[-21])  # the last 20 events go
    result = verify(db_session, keys)
    assert not result.ok and result.first_bad_id == ids[-1]
    assert "deleted from its end" in (result.reason or "")


def test_a_recomputed_chain_is_detected(db_session: Session, keys: AnchorKeys) -> None:
    ids = _events(db_session, 350)
    _checkpoint(db_session, keys)
    _recompute_from(db_session, ids[299], '{"i":299,"forged":true}')
    db_session.expire_all()
    result = verify(db_session, keys)
    assert not result.ok and result.first_bad_id == ids[-1]
    assert "recomputed" in (result.reason or "")


def test_a_recomputed_chain_with_its_checkpoint_rewritten_is_detected(
    db_session: Session, keys: AnchorKeys
) -> None:
    """Without the key, the attacker cannot re-sign the checkpoint they must change."""
    ids = _events(db_session, 30)
    cp = _checkpoint(db_session, keys)
    _recompute_from(db_session, ids[10], '{"i":10,"forged":true}')
    head = repository.last_event(db_session)
    assert head is not None
    db_session.execute(
        text("UPDATE audit_checkpoints SET event_hash = :h WHERE id = :i"),
        {"h": head.hash, "i": cp.seq},
    )
    db_session.expire_all()
    result = verify(db_session, AnchorKeys(hmac_key=keys.hmac_key))  # the file is not theirs
    assert not result.ok and "HMAC does not match" in (result.reason or "")


def test_an_edited_checkpoint_is_detected(db_session: Session, keys: AnchorKeys) -> None:
    ids = _events(db_session, 6)
    cp = _checkpoint(db_session, keys)
    db_session.execute(
        text("UPDATE audit_checkpoints SET event_id = :e WHERE id = :i"),
        {"e": ids[2], "i": cp.seq},
    )
    db_session.expire_all()
    result = verify(db_session, keys)
    assert not result.ok
    assert "HMAC does not match" in (result.reason or "")
    assert "differs between the database and the anchor file" in (result.reason or "")


def test_deleted_checkpoint_rows_are_caught_by_the_anchor_file(
    db_session: Session, keys: AnchorKeys
) -> None:
    """A database administrator who truncates the chain and its checkpoints, but cannot
    touch the file system, is caught by the anchor file."""
    ids = _events(db_session, 25)
    _checkpoint(db_session, keys)
    _truncate(db_session, ids[4])
    db_session.execute(text("DELETE FROM audit_checkpoints"))
    db_session.expire_all()
    result = verify(db_session, keys)
    assert not result.ok and "in the anchor file but not in the database" in (result.reason or "")


def test_only_an_exported_head_stops_someone_holding_the_key_and_the_machine(
    db_session: Session, keys: AnchorKeys, tmp_path: Path
) -> None:
    ids = _events(db_session, 20)
    exported = _checkpoint(db_session, keys)  # as `audit head --output` takes it off the machine
    doc = tmp_path / "head.json"
    doc.write_text(json.dumps(head_document(exported, keys, "court"), indent=2))
    # The attacker holds the secret key, the database and the file system:
    _recompute_from(db_session, ids[5], '{"i":5,"forged":true}')
    db_session.execute(text("DELETE FROM audit_checkpoints"))
    keys.file.unlink()  # type: ignore[union-attr]
    db_session.expire_all()
    _checkpoint(db_session, keys)  # a fresh, validly signed checkpoint of the forged head
    assert verify(db_session, keys).ok  # every on-machine anchor agrees: that is the limit
    [head] = read_anchor_file(doc)[0]
    result = verify(db_session, keys, [head])
    assert not result.ok and result.first_bad_id == ids[-1]
    assert "head.json" in (result.reason or "") and "recomputed" in (result.reason or "")


def test_an_exported_head_catches_truncation_without_any_key(
    db_session: Session, keys: AnchorKeys, tmp_path: Path
) -> None:
    ids = _events(db_session, 12)
    head = _checkpoint(db_session, keys)
    _truncate(db_session, ids[5])
    db_session.execute(text("DELETE FROM audit_checkpoints"))
    db_session.expire_all()
    result = verify(db_session, AnchorKeys(), [head])  # no key, no file: the head alone
    assert not result.ok and "deleted from its end" in (result.reason or "")


def test_ed25519_checkpoints(db_session: Session, tmp_path: Path) -> None:
    keys = AnchorKeys(signer=Ed25519PrivateKey.generate(), file=tmp_path / "a.jsonl")
    _events(db_session, 4)
    cp = _checkpoint(db_session, keys)
    assert cp.ed25519 and cp.key_id == keys.key_id and cp.hmac is None
    assert verify(db_session, keys).ok
    doc = head_document(cp, keys)
    assert doc["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    forged = bytes(64).hex()
    db_session.execute(
        text("UPDATE audit_checkpoints SET ed25519 = :s WHERE id = :i"), {"s": forged, "i": cp.seq}
    )
    db_session.expire_all()
    result = verify(db_session, AnchorKeys(signer=keys.signer))
    assert not result.ok and "Ed25519 signature does not verify" in (result.reason or "")


def test_unsigned_checkpoints_are_compared_but_said_to_be_unchecked(
    db_session: Session, tmp_path: Path
) -> None:
    ids = _events(db_session, 5)
    _checkpoint(db_session, AnchorKeys())  # no secret key set: nothing signs
    assert verify(db_session).notes and verify(db_session).ok
    _truncate(db_session, ids[1])
    assert not verify(db_session).ok


def _plain(session: Session, n: int) -> None:
    for i in range(n):
        record(session, None, "test.event", "thing", i)


def test_a_checkpoint_is_due_after_enough_events_or_time(db_session: Session) -> None:
    clock = FrozenClock(dt.datetime(2026, 3, 1, tzinfo=dt.UTC))
    keys = AnchorKeys()
    due = {"every_events": 10, "every_seconds": 3600}
    _plain(db_session, 3)
    assert is_due(db_session, now=clock.now(), **due)  # never anchored
    write_checkpoint(db_session, keys, clock=clock)
    assert not is_due(db_session, now=clock.now(), **due)
    _plain(db_session, 9)
    assert not is_due(db_session, now=clock.now(), **due)
    _plain(db_session, 1)
    assert is_due(db_session, now=clock.now(), **due)  # ten events since
    write_checkpoint(db_session, keys, clock=clock)
    _plain(db_session, 1)
    clock.advance(dt.timedelta(seconds=3599))
    assert not is_due(db_session, now=clock.now(), **due)
    clock.advance(dt.timedelta(seconds=1))
    assert is_due(db_session, now=clock.now(), **due)  # an hour since, and the head moved
    rows = db_session.query(AuditCheckpoint).all()
    assert [r.id for r in rows] == sorted(r.id for r in rows) and len(rows) == 2
