"""/api/v1/monitoring: scopes, sources, bulk, the feed, proposals and servers."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from takedown.kit.politeness import HostBudget
from takedown.monitoring.crawl import CrawlConfig, crawl_due
from tests.factories import make_actor
from tests.monitoring.mockweb import tg_page

API = "/api/v1/monitoring"
RW = ["monitoring:read", "monitoring:write"]


def test_routes_declare_their_scopes(client: Any, db_session: Session) -> None:
    items_only = make_actor(db_session, scopes=["items:read"])
    reader = make_actor(db_session, scopes=["monitoring:read"])
    db_session.commit()
    r = client.get(f"{API}/sources", headers=items_only.headers)
    assert r.status_code == 403 and "monitoring:read" in r.json()["detail"]
    assert client.get(f"{API}/sources", headers=reader.headers).status_code == 200
    r = client.post(f"{API}/sources", json={"url": "https://t.me/synthapi"}, headers=reader.headers)
    assert r.status_code == 403 and "monitoring:write" in r.json()["detail"]


def test_add_list_bulk_detail_remove(client: Any, db_session: Session) -> None:
    actor = make_actor(db_session, scopes=RW)
    db_session.commit()
    h = actor.headers
    r = client.post(f"{API}/sources", json={"url": "https://t.me/SynthApi"}, headers=h)
    assert r.status_code == 201, r.text
    src = r.json()
    assert src["kind"] == "telegram" and src["url"] == "https://t.me/s/synthapi"
    r = client.post(f"{API}/sources", json={"url": "https://t.me/synthapi/12"}, headers=h)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "not a" in r.json()["detail"]
    r = client.post(
        f"{API}/sources/bulk",
        headers=h,
        json={"urls": ["https://x.com/synth_api", "nonsense", "https://t.me/synthapi"]},
    )
    body = r.json()
    assert len(body["added"]) == 1 and body["existing"] == [src["id"]]
    assert [e["line"] for e in body["errors"]] == [2]
    r = client.get(f"{API}/sources", headers=h)
    assert r.json()["total"] == 2
    r = client.get(f"{API}/sources/{src['id']}", headers=h)
    assert r.status_code == 200 and r.json()["recent_crawls"] == []
    r = client.post(f"{API}/sources/{src['id']}/crawl", headers=h)
    assert r.status_code == 202
    other = make_actor(db_session, scopes=RW)
    db_session.commit()
    assert client.get(f"{API}/sources/{src['id']}", headers=other.headers).status_code == 404
    r = client.delete(f"{API}/sources/{src['id']}", headers=h)
    assert r.json()["status"] == "removed"
    assert client.get(f"{API}/sources", headers=h).json()["total"] == 1


def test_feed_and_proposals_after_a_crawl(
    client: Any, db_session: Session, session_factory: sessionmaker[Session]
) -> None:
    actor = make_actor(db_session, scopes=RW)
    db_session.commit()
    h = actor.headers
    src = client.post(f"{API}/sources", json={"url": "https://t.me/synthfeed"}, headers=h).json()

    def handler(req: httpx.Request) -> httpx.Response:
        page = tg_page("synthfeed", [1, 2], more=False, text="join https://t.me/synthfeed_back")
        page = page.replace(
            "join https://t.me/synthfeed_back",
            'join <a href="https://t.me/synthfeed_back">t.me/synthfeed_back</a>',
        )
        return httpx.Response(200, html=page)

    crawl_due(
        session_factory,
        httpx.Client(transport=httpx.MockTransport(handler)),
        source_ids=[src["id"]],
        config=CrawlConfig(match=False),
        budget=HostBudget(),
    )
    feed = client.get(f"{API}/feed", headers=h).json()
    kinds = sorted(e["kind"] for e in feed)
    assert kinds == ["message", "message", "outlink"]
    assert all(e["source_id"] == src["id"] for e in feed)
    props = client.get(f"{API}/proposals", headers=h).json()
    assert [p["url"] for p in props] == ["https://t.me/synthfeed_back"]
    r = client.post(f"{API}/proposals/{props[0]['id']}/accept", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "accepted" and r.json()["source_id"]
    detail = client.get(f"{API}/sources/{src['id']}", headers=h).json()
    assert detail["recent_crawls"][0]["result"] == "ok" and detail["last_new"] == 3


def test_server_credentials_go_in_and_never_out(client: Any, db_session: Session) -> None:
    actor = make_actor(db_session, scopes=RW)
    db_session.commit()
    r = client.post(
        f"{API}/servers",
        headers=actor.headers,
        json={
            "base_url": "https://chat.synthetic.example",
            "user_id": "u1",
            "token": "very-secret-token",
        },
    )
    assert r.status_code == 201 and "very-secret-token" not in r.text and "u1" not in r.text
    r = client.get(f"{API}/servers", headers=actor.headers)
    assert [s["base_url"] for s in r.json()] == ["https://chat.synthetic.example"]
    assert "very-secret-token" not in r.text
    r = client.post(
        f"{API}/sources",
        headers=actor.headers,
        json={"url": "https://chat.synthetic.example/group/secret-room"},
    )
    assert r.status_code == 201 and r.json()["kind"] == "rocketchat"
