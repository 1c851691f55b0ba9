"""Capture on every testbed platform, through kit.http and the sim's resolver map and CA."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker
from warcio.archiveiterator import ArchiveIterator

from takedown.config import Settings
from takedown.evidence import repository
from takedown.evidence.capture.screenshot import chromium_path
from takedown.evidence.capturing import capture_items
from takedown.evidence.storage import store_for_settings
from tests.evidence.conftest import TEST_LIMITS, make_item, make_raw_item
from tests.factories import make_actor

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHILD = ("post", "video", "file", "paste", "page", "message")


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    from takedown.sim.harness import running_sim

    with running_sim("small") as s:
        yield s


@pytest.fixture
def sim_settings(settings: Settings, sim: Any) -> Settings:
    return settings.model_copy(
        update={"resolve": sim.resolve, "ca_bundle": sim.ca_path, "tor_proxy": sim.tor_proxy}
    )


def _one_per_platform(sim: Any) -> dict[str, dict[str, Any]]:
    """For each platform, a live child item with media if there is one, else any live item."""
    chosen: dict[str, dict[str, Any]] = {}
    for it in sim.items(alive=True):
        if it.get("access") != "public":
            continue
        best = chosen.get(it["platform"])
        score = (it["kind"] in CHILD) + 2 * bool(it.get("media"))
        if best is None or score > best["_score"]:
            chosen[it["platform"]] = {**it, "_score": score}
    return chosen


def test_capture_on_each_testbed_platform(
    db_session: Session,
    session_factory: sessionmaker[Session],
    sim_settings: Settings,
    sim: Any,
) -> None:
    picks = _one_per_platform(sim)
    assert len(picks) >= 8, sorted(picks)
    actor = make_actor(db_session)
    ids: dict[int, dict[str, Any]] = {}
    for p in picks.values():
        if ".onion/" in p["url"]:
            ids[make_raw_item(db_session, actor.principal, p["url"], "onion")] = p
        else:
            ids[make_item(db_session, actor.principal, p["url"])] = p
    db_session.commit()
    results = capture_items(
        session_factory, actor.principal, list(ids), settings=sim_settings, limits=TEST_LIMITS
    )
    db_session.expire_all()
    store = store_for_settings(sim_settings)
    with_media = 0
    for r in results:
        pick = ids[r.item_id]
        assert r.status == "complete", (pick["platform"], pick["url"], r.failure_reason)
        cap = repository.capture(db_session, r.capture_id or 0)
        assert cap is not None and cap.http_status is not None
        files = repository.files_of(db_session, cap.id)
        warc = next(f for f in files if f.role == "warc")
        uris = {
            rec.rec_headers.get_header("WARC-Target-URI")
            for rec in ArchiveIterator(io.BytesIO(store.get(warc.sha256)))
            if rec.rec_type == "response"
        }
        assert cap.final_url in uris
        if cap.url_reported.startswith("https://"):
            assert cap.tls_certificate and "BEGIN CERTIFICATE" in cap.tls_certificate["pem"]
        if pick["platform"] == "forum":
            assert cap.access_context["tor"] is True
        if any(f.role == "media" for f in files):
            with_media += 1
    picked_media = sum(1 for p in picks.values() if p.get("media"))
    assert with_media >= min(3, picked_media), (with_media, picked_media)


@pytest.mark.browser
def test_screenshot_of_a_testbed_page_through_the_guarded_route(
    db_session: Session,
    session_factory: sessionmaker[Session],
    sim_settings: Settings,
    sim: Any,
) -> None:
    if chromium_path() is None:
        if IN_CI:
            pytest.fail("Debian chromium is required under CI=true", pytrace=False)
        pytest.skip("no /usr/bin/chromium on this machine")
    pick = _one_per_platform(sim)["telegram"]
    actor = make_actor(db_session)
    item_id = make_item(db_session, actor.principal, pick["url"])
    db_session.commit()
    [r] = capture_items(
        session_factory,
        actor.principal,
        [item_id],
        settings=sim_settings,
        with_screenshot=True,
        limits=TEST_LIMITS.__class__(page_deadline=60.0),
    )
    assert r.status == "complete", r.failure_reason
    db_session.expire_all()
    files = repository.files_of(db_session, r.capture_id or 0)
    shot = next((f for f in files if f.role == "screenshot"), None)
    assert shot is not None, [f.name for f in files]
    png = store_for_settings(sim_settings).get(shot.sha256)
    assert png.startswith(b"\x89PNG") and len(png) > 1000
    cap = repository.capture(db_session, r.capture_id or 0)
    assert cap is not None and "browser=chromium" in cap.tool_version
