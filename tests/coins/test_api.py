"""The coins API: scopes on every route, a campaign traced and alerted end to end."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.coins import watch
from takedown.sim.chain import serve_chain
from takedown.sim.wallets import make_address, write_as
from tests.coins.chainhelp import chain
from tests.factories import make_actor


def test_scopes_are_enforced(client: TestClient, db_session: Session) -> None:
    reader = make_actor(db_session, scopes=["coins:read"])
    other = make_actor(db_session, scopes=["items:read"])
    r = client.post("/api/v1/coins/extract", json={"text": "x"}, headers=other.headers)
    assert r.status_code == 403
    r = client.post("/api/v1/coins/watch-lists", json={"name": "x"}, headers=reader.headers)
    assert r.status_code == 403
    addr = make_address("evm", "eip55", "api")
    r = client.post(
        "/api/v1/coins/extract",
        json={"text": f"USDT ERC20 {write_as(addr, 'spaced')}"},
        headers=reader.headers,
    )
    assert r.status_code == 200
    assert r.json()[0]["address"] == addr and r.json()[0]["asset"] == "USDT-ERC20"
    r = client.post(
        "/api/v1/coins/classify", json={"text": "Sprengstoff und Zünder"}, headers=reader.headers
    )
    assert r.json()["categories"] == ["explosives"] and r.json()["highlights"]


def test_watch_trace_and_alerts_over_the_api(app_factory, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    c = chain()
    for lab in c.labels:
        watch.add_label(
            db_session, None, lab["address"], lab["category"], name=lab["name"], shared=True
        )
    a = make_actor(db_session, scopes=["coins:read", "coins:write"])
    camp = c.campaign_addresses[1]
    with serve_chain(c) as srv:
        app = app_factory(
            coins_esplora_url=srv.base_url, ssrf_allow=["127.0.0.1/32"], coins_esplora_rate=200.0
        )
        with TestClient(app, raise_server_exceptions=False) as client:
            h = a.headers
            r = client.post(
                "/api/v1/coins/watch-lists", json={"name": "Posted", "tlp": "green"}, headers=h
            )
            assert r.status_code == 201, r.text
            wl = r.json()["id"]
            r = client.post(
                f"/api/v1/coins/watch-lists/{wl}/entries", json={"address": camp}, headers=h
            )
            assert r.status_code == 201
            bad = client.post(
                f"/api/v1/coins/watch-lists/{wl}/entries",
                json={"address": camp[:-1] + "q"},
                headers=h,
            )
            assert bad.status_code == 422 and "checksum" in bad.json()["detail"]
            entry = r.json()["id"]
            r = client.post(f"/api/v1/coins/watch-entries/{entry}/trace", headers=h)
            assert r.status_code == 200, r.text
            assert {x["rule"] for x in r.json()["alerts"]} == c.expected[camp]
            assert r.json()["summary"]["received"] > 0 and r.json()["graph"]["nodes"]
            r = client.get("/api/v1/coins/alerts", headers=h)
            assert r.json()["total"] == len(c.expected[camp])
            r = client.get("/api/v1/coins/traces/latest", params={"address": camp}, headers=h)
            assert r.status_code == 200
            r = client.get(f"/api/v1/coins/watch-lists/{wl}/export", headers=h)
            assert r.json()["tlp"] == "green" and r.json()["entries"][0]["misp_type"] == "btc"
            r = client.get("/api/v1/coins/labels", headers=h)
            assert {x["category"] for x in r.json()} == {"mixer", "exchange"}


def test_trace_without_a_chain_api_says_what_to_set(
    client: TestClient, db_session: Session
) -> None:
    a = make_actor(db_session)
    r = client.post(
        "/api/v1/coins/trace", json={"address": chain().campaign_addresses[0]}, headers=a.headers
    )
    assert r.status_code == 422 and "TAKEDOWN_COINS_ESPLORA_URL" in r.json()["detail"]
