"""Tamper detection: change one byte, and both `evidence verify` and the offline script notice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from takedown.audit.models import AuditEvent
from takedown.config import Settings
from takedown.evidence import repository
from takedown.evidence.export import export_bundle
from takedown.evidence.service import make_working_copy, place_hold, verify_captures
from takedown.evidence.storage import store_for_settings
from takedown.evidence.storage.local import LocalStore
from tests.evidence.conftest import capture_one
from tests.factories import make_actor


def _flip_one_byte(path: Path) -> None:
    os.chmod(path, 0o644)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _run_verifier(bundle: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the bundle's own verify_bundle.py (extracted next to it) in a fresh interpreter."""
    script = cwd / "verify_bundle.py"
    if not script.exists():
        with zipfile.ZipFile(cwd / "bundle.zip") as zf:
            script.write_bytes(zf.read("verify_bundle.py"))
    return subprocess.run(
        [sys.executable, "-I", str(cwd / "verify_bundle.py"), str(bundle)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_verify_passes_then_catches_a_flipped_byte(
    db_session: Session, session_factory: sessionmaker[Session], ev_settings: Settings
) -> None:
    actor = make_actor(db_session)
    _, cap_id = capture_one(db_session, session_factory, ev_settings, actor.principal)
    store = store_for_settings(ev_settings)
    [ok] = verify_captures(db_session, actor.principal, store=store, capture_ids=[cap_id])
    assert ok.ok and ok.checked >= 4

    warc = next(f for f in repository.files_of(db_session, cap_id) if f.role == "warc")
    assert isinstance(store, LocalStore)
    _flip_one_byte(Path(store.locate(warc.sha256)))
    [bad] = verify_captures(db_session, actor.principal, store=store, capture_ids=[cap_id])
    assert not bad.ok
    assert any("capture.warc.gz" in p and "does not match" in p for p in bad.problems)

    events = db_session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "evidence.verified", AuditEvent.subject_id == str(cap_id))
        .order_by(AuditEvent.id)
    ).all()
    assert [json.loads(e.details)["ok"] for e in events] == [True, False]


def test_export_bundle_verifies_offline_and_catches_tampering(
    db_session: Session,
    session_factory: sessionmaker[Session],
    ev_settings: Settings,
    tmp_path: Path,
) -> None:
    actor = make_actor(db_session)
    item_id, cap_id = capture_one(db_session, session_factory, ev_settings, actor.principal)
    # Unrelated activity in between: appears in the bundle only as hash links.
    other = make_actor(db_session)
    capture_one(db_session, session_factory, ev_settings, other.principal, "/gone")
    store = store_for_settings(ev_settings)
    text = next(f for f in repository.files_of(db_session, cap_id) if f.role == "text")
    make_working_copy(
        db_session,
        actor.principal,
        cap_id,
        text.id,
        b"redacted copy",
        store=store,
        note="redaction for disclosure",
    )
    place_hold(
        db_session,
        actor.principal,
        item_id,
        kind="court_request",
        reason="preserve for trial",
        reference="Case 2026/3",
    )
    result = export_bundle(
        db_session,
        actor.principal,
        [item_id],
        tmp_path / "bundle.zip",
        store=store,
        recipient="Synthetic court, case 1",
    )
    assert result.captures == [cap_id]

    with zipfile.ZipFile(result.path) as zf:
        names = set(zf.namelist())
        assert {
            "README.txt",
            "verify_bundle.py",
            "bundle.json",
            "SHA256SUMS",
            "custody/chain.jsonl",
            f"captures/{cap_id}/manifest.json",
            f"captures/{cap_id}/capture.warc.gz",
        } <= names
        chain = [json.loads(x) for x in zf.read("custody/chain.jsonl").splitlines()]
    actions = [e["action"] for e in chain if e["kind"] == "event"]
    assert actions[0] == "evidence.captured"
    assert "evidence.working_copy" in actions and actions[-1] == "evidence.exported"
    assert "evidence.hold_placed" in actions
    assert any(e["kind"] == "link" for e in chain)  # the other agency's capture, hashes only
    assert all("details" not in e for e in chain if e["kind"] == "link")

    good = _run_verifier(result.path, tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "RESULT: OK" in good.stdout

    # Flip one byte of the WARC inside an unpacked copy: the script must fail.
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(result.path) as zf:
        zf.extractall(unpacked)
    _flip_one_byte(unpacked / "captures" / str(cap_id) / "capture.warc.gz")
    bad = _run_verifier(unpacked, tmp_path)
    assert bad.returncode == 1
    assert "HASH MISMATCH" in bad.stdout and "capture.warc.gz" in bad.stdout

    # Edit a custody event's details (and re-sum the file): the chain check catches it.
    with zipfile.ZipFile(result.path) as zf:
        zf.extractall(tmp_path / "edited")
    chain_path = tmp_path / "edited" / "custody" / "chain.jsonl"
    lines = chain_path.read_text().splitlines()
    first = json.loads(lines[0])
    first["details"] = first["details"].replace('"status":"complete"', '"status":"failed"')
    lines[0] = json.dumps(first, sort_keys=True)
    chain_path.write_text("\n".join(lines) + "\n")
    edited = _run_verifier(tmp_path / "edited", tmp_path)
    assert edited.returncode == 1
    assert "was altered" in edited.stdout
