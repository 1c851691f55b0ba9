"""The TAXII 2.1 server, through plain HTTP: media types, status codes, TLP, versions."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.sharing.tlp import Tlp
from tests.factories import make_actor, make_agency
from tests.sharing.helpers import T0, indicator, put, shared_collection

TAXII = "application/taxii+json;version=2.1"


def _h(actor: object, accept: str = TAXII) -> dict[str, str]:
    return {**actor.headers, "Accept": accept}  # type: ignore[attr-defined]


def _objects(coll_uuid: str) -> str:
    return f"/taxii2/api/collections/{coll_uuid}/objects/"


def test_discovery_root_and_collections(client: TestClient, db_session: Session) -> None:
    s = shared_collection(db_session, write=False)
    r = client.get("/taxii2/", headers=_h(s.partner))
    assert r.status_code == 200 and r.headers["content-type"] == TAXII
    assert r.json()["api_roots"] == ["http://testserver/taxii2/api/"]
    r = client.get("/taxii2/api/", headers=_h(s.partner))
    assert r.json()["versions"] == [TAXII]
    cols = client.get("/taxii2/api/collections/", headers=_h(s.partner)).json()["collections"]
    assert [(c["id"], c["can_read"], c["can_write"]) for c in cols] == [(s.coll.uuid, True, False)]
    assert client.get("/taxii2/other/", headers=_h(s.partner)).status_code == 404


def test_status_codes_and_taxii_errors(client: TestClient, db_session: Session) -> None:
    s = shared_collection(db_session, write=False)
    url = _objects(s.coll.uuid)
    r = client.get(url)
    assert r.status_code == 401 and r.headers["content-type"] == TAXII
    assert r.json()["http_status"] == "401" and "title" in r.json()
    assert client.get(url, headers=_h(s.partner, "application/json")).status_code == 406
    assert (
        client.get(url, headers=_h(s.partner, "application/taxii+json;version=2.0")).status_code
        == 406
    )
    assert client.get(url, headers=_h(s.partner, "application/taxii+json")).status_code == 200
    # Read-only grant: posting is forbidden; the collection exists for this reader.
    r = client.post(url, headers={**_h(s.partner), "Content-Type": TAXII}, json={"objects": []})
    assert r.status_code == 403 and r.json()["http_status"] == "403"
    # Another agency's view: the collection does not exist.
    stranger = make_actor(db_session, make_agency(db_session))
    assert client.get(url, headers=_h(stranger)).status_code == 404
    assert (
        client.get(f"/taxii2/api/collections/{s.coll.uuid}/", headers=_h(stranger)).status_code
        == 404
    )


def test_a_token_without_the_sharing_scope_is_refused(
    client: TestClient, db_session: Session
) -> None:
    s = shared_collection(db_session, partner_scopes=["items:read"])
    r = client.get(_objects(s.coll.uuid), headers=_h(s.partner))
    assert r.status_code == 403 and "sharing:read" in r.json()["description"]
    r = client.post(
        _objects(s.coll.uuid),
        headers={**_h(s.partner), "Content-Type": TAXII},
        json={"objects": [indicator(1)]},
    )
    assert r.status_code == 403


def test_post_needs_the_taxii_media_type(client: TestClient, db_session: Session) -> None:
    s = shared_collection(db_session)
    r = client.post(_objects(s.coll.uuid), headers=_h(s.partner), json={"objects": []})
    assert r.status_code == 415


def test_paging_with_many_objects_on_one_date_added(
    client: TestClient, db_session: Session
) -> None:
    s = shared_collection(db_session)
    same = T0 + dt.timedelta(hours=1)
    for n in range(30):
        put(db_session, s.coll, indicator(n), same if 5 <= n < 25 else T0 + dt.timedelta(minutes=n))
    got: list[str] = []
    params: dict[str, object] = {"limit": 7}
    while True:
        r = client.get(_objects(s.coll.uuid), headers=_h(s.partner), params=params)
        body = r.json()
        got += [o["id"] for o in body.get("objects", [])]
        assert r.headers["X-TAXII-Date-Added-First"] <= r.headers["X-TAXII-Date-Added-Last"]
        if not body.get("more"):
            break
        params = {"limit": 7, "next": body["next"]}
    assert len(got) == 30 and len(set(got)) == 30


def test_next_with_other_filters_is_refused(client: TestClient, db_session: Session) -> None:
    s = shared_collection(db_session)
    for n in range(3):
        put(db_session, s.coll, indicator(n), T0)
    body = client.get(_objects(s.coll.uuid), headers=_h(s.partner), params={"limit": 1}).json()
    r = client.get(
        _objects(s.coll.uuid),
        headers=_h(s.partner),
        params={"limit": 1, "next": body["next"], "match[type]": "report"},
    )
    assert r.status_code == 400 and "filters changed" in r.json()["description"]
    bad = client.get(_objects(s.coll.uuid), headers=_h(s.partner), params={"next": "nonsense"})
    assert bad.status_code == 400


def test_red_and_markings_above_the_audience_are_never_served(
    client: TestClient, db_session: Session
) -> None:
    s = shared_collection(db_session, audience="community")
    for n, tlp in enumerate(Tlp):
        put(db_session, s.coll, indicator(n, tlp=tlp), T0, tlp)
    got = client.get(_objects(s.coll.uuid), headers=_h(s.partner)).json()["objects"]
    assert len(got) == 2  # CLEAR and GREEN only: a community gets neither AMBER nor RED
    manifest = client.get(
        f"/taxii2/api/collections/{s.coll.uuid}/manifest/", headers=_h(s.partner)
    ).json()
    assert len(manifest["objects"]) == 2


def test_versions_filters_and_delete(client: TestClient, db_session: Session) -> None:
    s = shared_collection(db_session)
    first = indicator(1, modified=T0)
    second = indicator(1, modified=T0 + dt.timedelta(days=1))
    put(db_session, s.coll, second, T0 + dt.timedelta(seconds=2))
    put(db_session, s.coll, first, T0 + dt.timedelta(seconds=3))  # older version, added later
    put(db_session, s.coll, indicator(2), T0 + dt.timedelta(seconds=4))
    base = f"/taxii2/api/collections/{s.coll.uuid}"
    oid = first["id"]
    latest = client.get(f"{base}/objects/{oid}/", headers=_h(s.partner)).json()["objects"]
    assert [o["modified"] for o in latest] == [second["modified"]]
    every = client.get(
        f"{base}/objects/", headers=_h(s.partner), params={"match[version]": "all"}
    ).json()["objects"]
    assert len(every) == 3
    firsts = client.get(
        f"{base}/objects/{oid}/", headers=_h(s.partner), params={"match[version]": "first"}
    ).json()["objects"]
    assert [o["modified"] for o in firsts] == [first["modified"]]
    vers = client.get(f"{base}/objects/{oid}/versions/", headers=_h(s.partner)).json()
    assert sorted(vers["versions"]) == sorted([first["modified"], second["modified"]])
    after = client.get(
        f"{base}/objects/",
        headers=_h(s.partner),
        params={"added_after": "2026-03-01T12:00:03.000Z"},
    ).json()["objects"]
    assert [o["id"] for o in after] == [indicator(2)["id"]]
    assert (
        client.get(
            f"{base}/objects/", headers=_h(s.partner), params={"match[type]": "report"}
        ).json()
        == {}
    )
    assert (
        client.get(f"{base}/objects/", headers=_h(s.partner), params={"limit": "x"}).status_code
        == 400
    )
    r = client.delete(
        f"{base}/objects/{oid}/",
        headers=_h(s.partner),
        params={"match[version]": second["modified"]},
    )
    assert r.status_code == 200
    left = client.get(f"{base}/objects/{oid}/", headers=_h(s.partner)).json()["objects"]
    assert [o["modified"] for o in left] == [first["modified"]]  # the older one is now latest
    assert (
        client.get(
            f"{base}/objects/indicator--00000000-0000-4000-8000-000000000000/",
            headers=_h(s.partner),
        ).status_code
        == 404
    )


def test_post_keeps_the_good_objects_beside_a_bad_one(
    client: TestClient, db_session: Session
) -> None:
    s = shared_collection(db_session)
    envelope = {"objects": [indicator(1), {"type": "indicator", "id": "nonsense"}, indicator(2)]}
    r = client.post(
        _objects(s.coll.uuid), headers={**_h(s.partner), "Content-Type": TAXII}, json=envelope
    )
    assert r.status_code == 202
    st = r.json()
    assert (st["status"], st["total_count"], st["success_count"], st["failure_count"]) == (
        "complete", 3, 2, 1,
    )  # fmt: skip
    assert st["failures"][0]["id"] == "nonsense"
    again = client.get(f"/taxii2/api/status/{st['id']}/", headers=_h(s.partner))
    assert again.json() == st
    stranger = make_actor(db_session, make_agency(db_session))
    assert client.get(f"/taxii2/api/status/{st['id']}/", headers=_h(stranger)).status_code == 404


@pytest.mark.parametrize("audience", ["organisation", "clients"])
def test_amber_is_served_to_one_organisation(
    client: TestClient, db_session: Session, audience: str
) -> None:
    s = shared_collection(db_session, audience=audience)
    put(db_session, s.coll, indicator(1, tlp=Tlp.AMBER), T0, Tlp.AMBER)
    put(db_session, s.coll, indicator(2, tlp=Tlp.AMBER_STRICT), T0, Tlp.AMBER_STRICT)
    got = client.get(_objects(s.coll.uuid), headers=_h(s.partner)).json()["objects"]
    assert len(got) == (2 if audience == "organisation" else 1)
