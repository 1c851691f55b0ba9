"""Capture end to end against a local server: WARC, media, text, manifest, audit, failures."""

from __future__ import annotations

import gzip
import io
import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from warcio.archiveiterator import ArchiveIterator

from takedown.audit.models import AuditEvent
from takedown.config import Settings
from takedown.evidence import repository
from takedown.evidence.capturing import capture_items
from takedown.evidence.models import EvidenceCapture
from takedown.evidence.storage import store_for_settings
from takedown.evidence.storage.base import sha256_hex
from tests.evidence.conftest import TEST_LIMITS, make_item
from tests.evidence.hostile import HOST
from tests.factories import make_actor


def _capture(
    db_session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    path: str,
) -> tuple[EvidenceCapture, object]:
    actor = make_actor(db_session)
    item_id = make_item(db_session, actor.principal, f"http://{HOST}{path}")
    db_session.commit()
    [summary] = capture_items(
        session_factory, actor.principal, [item_id], settings=settings, limits=TEST_LIMITS
    )
    assert summary.capture_id is not None
    db_session.expire_all()
    cap = repository.capture(db_session, summary.capture_id)
    assert cap is not None
    return cap, summary


def test_capture_page_records_warc_media_text_manifest_and_audit(
    db_session: Session, session_factory: sessionmaker[Session], ev_settings: Settings
) -> None:
    cap, _ = _capture(db_session, session_factory, ev_settings, "/redirect")
    assert cap.status == "complete", cap.failure_reason
    assert cap.final_url == f"http://{HOST}/page"
    assert cap.http_status == 200
    assert cap.title == "Synthetic outlet page"
    store = store_for_settings(ev_settings)
    files = {f.name: f for f in repository.files_of(db_session, cap.id)}
    assert {"capture.warc.gz", "text.txt", "manifest.json"} <= set(files)
    media = [f for f in files.values() if f.role == "media"]
    assert len(media) == 1 and media[0].media_type == "image/png"
    assert media[0].source_url == f"http://{HOST}/img.png"
    for f in files.values():
        assert sha256_hex(store.get(f.sha256)) == f.sha256

    text = store.get(files["text.txt"].sha256).decode()
    assert "Synthetic statement 42" in text
    assert "SCRIPT-TEXT" not in text and "NOSCRIPT" not in text and "color: red" not in text

    # The WARC holds both hops (302 and 200) plus the image, each as request + response.
    pairs = []
    page_body = b""
    page_encoding = None
    for r in ArchiveIterator(io.BytesIO(store.get(files["capture.warc.gz"].sha256))):
        uri = r.rec_headers.get_header("WARC-Target-URI")
        pairs.append((r.rec_type, uri))
        if r.rec_type == "response" and uri.endswith("/page"):
            page_encoding = r.http_headers.get_header("Content-Encoding")
            page_body = r.content_stream().read()
    assert ("response", f"http://{HOST}/redirect") in pairs
    assert ("request", f"http://{HOST}/redirect") in pairs
    assert ("response", f"http://{HOST}/page") in pairs
    assert ("response", f"http://{HOST}/img.png") in pairs
    assert page_encoding == "gzip"  # stored as received; readers decode it
    assert b"Synthetic statement 42" in page_body

    manifest = json.loads(store.get(cap.manifest_sha256 or ""))
    assert manifest["capture_id"] == cap.id
    assert manifest["url_reported"] == f"http://{HOST}/redirect"
    assert manifest["collector"]["agency_id"] == cap.agency_id
    assert [h["status"] for h in manifest["redirect_chain"]] == [302, 200]
    listed = {f["name"]: f["sha256"] for f in manifest["files"]}
    assert listed["capture.warc.gz"] == files["capture.warc.gz"].sha256
    assert any(k.lower() == "content-type" for k, _ in manifest["response_headers"])

    ev = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.subject_type == "evidence_capture", AuditEvent.subject_id == str(cap.id)
        )
    ).one()
    assert ev.action == "evidence.captured"
    assert json.loads(ev.details)["manifest_sha256"] == cap.manifest_sha256


def test_removal_page_is_captured_with_its_status(
    db_session: Session, session_factory: sessionmaker[Session], ev_settings: Settings
) -> None:
    cap, _ = _capture(db_session, session_factory, ev_settings, "/gone")
    assert cap.status == "complete" and cap.http_status == 404


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/huge", "too_large"),
        ("/huge-declared", "too_large"),
        ("/loop", "too_many_redirects"),
        ("/slow", "deadline"),
        ("/bomb", "decompression_bomb"),
        ("/wrongtype", "wrong_content_type"),
        ("/disguised", "binary_disguised"),
        ("/to-private", "blocked"),
    ],
)
def test_hostile_pages_fail_cleanly_and_are_recorded(
    db_session: Session,
    session_factory: sessionmaker[Session],
    ev_settings: Settings,
    path: str,
    code: str,
) -> None:
    cap, summary = _capture(db_session, session_factory, ev_settings, path)
    assert cap.status == "failed"
    assert summary.failure_code == code, summary.failure_reason  # type: ignore[attr-defined]
    assert (cap.failure_reason or "").startswith(code)
    ev = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.subject_type == "evidence_capture", AuditEvent.subject_id == str(cap.id)
        )
    ).one()
    assert ev.action == "evidence.capture_failed"
    assert json.loads(ev.details)["failure"] == code


def test_loopback_address_is_refused_without_an_allow_list(
    db_session: Session,
    session_factory: sessionmaker[Session],
    settings: Settings,
    hostile_port: int,
) -> None:
    """The default settings (no resolver map, no allow-list) never reach 127.0.0.1."""
    actor = make_actor(db_session)
    item_id = make_item(db_session, actor.principal, f"http://127.0.0.1:{hostile_port}/page")
    db_session.commit()
    [summary] = capture_items(
        session_factory, actor.principal, [item_id], settings=settings, limits=TEST_LIMITS
    )
    assert summary.status == "failed" and summary.failure_code == "blocked"


def test_invisible_item_is_a_recorded_failure_not_an_exception(
    db_session: Session, session_factory: sessionmaker[Session], ev_settings: Settings
) -> None:
    owner = make_actor(db_session)
    other = make_actor(db_session)
    item_id = make_item(db_session, owner.principal, f"http://{HOST}/page")
    db_session.commit()
    [summary] = capture_items(session_factory, other.principal, [item_id], settings=ev_settings)
    assert summary.capture_id is None and summary.failure_code == "not-found"


def test_gzip_helper_sanity() -> None:
    assert gzip.decompress(gzip.compress(b"x")) == b"x"


@pytest.mark.browser
def test_neither_capture_nor_browser_reaches_a_loopback_address_in_the_page(
    db_session: Session, session_factory: sessionmaker[Session], ev_settings: Settings
) -> None:
    import os

    from takedown.evidence.capture.screenshot import chromium_path
    from tests.evidence.hostile import REQUESTS

    if chromium_path() is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("Debian chromium is required under CI=true", pytrace=False)
        pytest.skip("no /usr/bin/chromium on this machine")
    actor = make_actor(db_session)
    item_id = make_item(db_session, actor.principal, f"http://{HOST}/leaky")
    db_session.commit()
    before = len(REQUESTS)
    [summary] = capture_items(
        session_factory, actor.principal, [item_id], settings=ev_settings, with_screenshot=True,
        limits=TEST_LIMITS.__class__(page_deadline=60.0),
    )  # fmt: skip
    assert summary.status == "complete", summary.failure_reason
    served = REQUESTS[before:]
    assert (HOST, "/leaky") in served and (HOST, "/img.png") in served  # page, media, browser
    assert not [r for r in served if r[1] == "/secret.png"], served
    db_session.expire_all()
    files = repository.files_of(db_session, summary.capture_id or 0)
    assert any(f.role == "screenshot" for f in files)
    manifest = json.loads(store_for_settings(ev_settings).get(summary.manifest_sha256 or ""))
    assert any("secret.png" in w and "not a public address" in w for w in manifest["warnings"])
