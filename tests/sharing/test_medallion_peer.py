"""Our TAXII client against OASIS's reference server (medallion, memory backend), run here."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy.orm import Session, sessionmaker
from taxii2client.v21 import Collection

from takedown.config import Settings
from takedown.items import repository as items_repository
from takedown.items import service as items
from takedown.kit.ssrf import BlockedDestination
from takedown.sharing import client, partners, repository, stixmap
from takedown.sharing.tlp import Tlp
from tests.factories import make_actor, make_agency
from tests.sharing.facts import PRODUCER, media, post

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def medallion(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data = {
        "/discovery": {
            "title": "medallion under test",
            "default": f"{base}/api1/",
            "api_roots": [f"{base}/api1/"],
        },
        "api1": {
            "information": {
                "title": "api1",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 10_000_000,
            },
            "status": [],
            "collections": [
                {
                    "id": COLLECTION,
                    "title": "synthetic shared items",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": [],
                    "manifest": [],
                }
            ],
        },
    }
    (tmp_path / "data.json").write_text(json.dumps(data))
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(tmp_path / "data.json"),
        },
        "users": {"peer": "peer-password"},
        "taxii": {"max_page_size": 7},
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.sharing.medallion_server",
            str(tmp_path / "config.json"),
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                r = requests.get(
                    f"{base}/taxii2/", auth=("peer", "peer-password"),
                    headers={"Accept": "application/taxii+json;version=2.1"}, timeout=2,
                )  # fmt: skip
                if r.status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("medallion did not start")
            time.sleep(0.1)
        yield f"{base}/api1/"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_our_client_pulls_from_medallion(
    medallion: str, session_factory: sessionmaker[Session], db_session: Session, settings: Settings
) -> None:
    objs = []
    for fact in (
        post(1, tlp=Tlp.GREEN),
        post(2, tlp=Tlp.GREEN, hold_contact_point="desk@peer.invalid"),
    ):
        objs += [json.loads(stixmap.serialize(o)) for o in stixmap.item_objects(fact, PRODUCER)]
    objs.append(json.loads(stixmap.serialize(stixmap.media_object(media(), PRODUCER))))
    objs += [
        json.loads(stixmap.serialize(o))
        for o in stixmap.item_objects(post(3, tlp=Tlp.RED), PRODUCER)
    ]
    peer = Collection(
        f"{medallion}collections/{COLLECTION}/", user="peer", password="peer-password"
    )
    status = peer.add_objects(
        {"objects": objs}, wait_for_completion=True, poll_interval=0.1, timeout=20
    )
    assert status.success_count == len(objs)

    owner = make_actor(db_session, make_agency(db_session), role="supervisor")
    partner = partners.create_partner(
        db_session,
        owner.principal,
        partners.PartnerIn(
            name="Medallion peer", country="NL", contact_point="desk@peer.invalid",
            api_root=medallion, collection=COLLECTION, auth_kind="basic", username="peer",
            token="peer-password", trust="auto", tlp_ceiling="AMBER",
        ),
        secret_key=settings.secret_key,
    )  # fmt: skip
    db_session.flush()
    assert partner.secret_sealed and "peer-password" not in partner.secret_sealed
    live = settings.model_copy(update={"ssrf_allow": ["127.0.0.1"]})
    result = client.pull(session_factory, partner.id, pages=client.taxii_pages(live))
    assert result.pages >= 3  # medallion's pages of 7, followed with 'next'
    assert result.fetched == len(objs) and result.stored == len(objs)
    assert result.failed == 5  # the RED item's five objects are refused by the ceiling
    item = items_repository.item_by_identity(db_session, "x:status/1")
    assert item is not None
    assert {s.agency_id for s in items.sightings_for(db_session, owner.principal, item)} == {
        partner.agency_id
    }
    held = items_repository.item_by_identity(db_session, "x:status/2")
    assert held is not None and items.active_holds(db_session, held.id)
    assert items_repository.item_by_identity(db_session, "x:status/3") is None
    db_session.expire_all()
    fresh = repository.partner(db_session, partner.id)
    assert fresh is not None and fresh.checkpoint is not None and fresh.last_error == ""
    # Pulling again: the checkpoint holds, nothing is imported twice.
    again = client.pull(session_factory, partner.id, pages=client.taxii_pages(live))
    assert again.stored == 0
    assert len(items.sightings_for(db_session, owner.principal, item)) == 2


def test_a_guarded_pull_refuses_loopback_without_the_allow_list(
    medallion: str, session_factory: sessionmaker[Session], db_session: Session, settings: Settings
) -> None:
    owner = make_actor(db_session, make_agency(db_session), role="supervisor")
    partner = partners.create_partner(
        db_session, owner.principal,
        partners.PartnerIn(name="Loopback", country="NL", contact_point="x@peer.invalid",
                           api_root=medallion, collection=COLLECTION, auth_kind="basic",
                           username="peer", token="peer-password"),
        secret_key=settings.secret_key,
    )  # fmt: skip
    db_session.flush()
    with pytest.raises(BlockedDestination):
        client.pull(session_factory, partner.id, pages=client.taxii_pages(settings))
    db_session.expire_all()
    fresh = repository.partner(db_session, partner.id)
    assert fresh is not None and "BlockedDestination" in fresh.last_error
    assert fresh.checkpoint is None and fresh.next_pull_at is not None
