"""OASIS's taxii2-client against our TAXII server, over real HTTP."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session
from taxii2client.v21 import Collection, Server, as_pages

from takedown.sharing import objects_repository as objects
from takedown.sharing.models import TaxiiObject
from tests.sharing.helpers import T0, indicator, shared_collection
from tests.sharing.live import BearerAuth, serve


def _bulk(session: Session, coll_id: int, n: int, same_from: int, same_to: int) -> None:
    import json

    same = T0 + dt.timedelta(hours=5)
    rows = []
    for i in range(n):
        obj = indicator(i)
        added = same if same_from <= i < same_to else T0 + dt.timedelta(seconds=i)
        rows.append(
            TaxiiObject(
                collection_id=coll_id, stix_id=obj["id"], stix_type="indicator",
                version=obj["modified"], version_key="2026-03-01T12:00:00.000000Z",
                spec_version="2.1", date_added=added, tlp="GREEN", body=json.dumps(obj),
            )
        )  # fmt: skip
    objects.add_new(session, rows)


def test_taxii2_client_discovers_pages_filters_and_adds(app_factory, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    s = shared_collection(db_session)
    # 1,000 objects, 100 of them (ids 400..499) added at one instant.
    _bulk(db_session, s.coll.id, 1000, 400, 500)
    db_session.flush()
    with serve(app_factory()) as base:
        auth = BearerAuth(s.partner.token)
        server = Server(f"{base}/taxii2/", auth=auth)
        assert server.title == "takedown TAXII 2.1"
        (root,) = server.api_roots
        (coll,) = root.collections
        assert coll.id == s.coll.uuid and coll.can_read and coll.can_write

        # Paging: no gaps, no duplicates, whatever the page size.
        for per in (100, 37):
            ids: list[str] = []
            for envelope in as_pages(coll.get_objects, per_request=per):
                ids += [o["id"] for o in envelope.get("objects", [])]
            assert len(ids) == 1000 and len(set(ids)) == 1000, per
        manifest_ids: list[str] = []
        for envelope in as_pages(coll.get_manifest, per_request=250):
            manifest_ids += [o["id"] for o in envelope.get("objects", [])]
        assert len(set(manifest_ids)) == 1000

        # Filters.
        one = indicator(7)["id"]
        assert [o["id"] for o in coll.get_objects(id=one)["objects"]] == [one]
        assert coll.get_objects(type="report") == {}
        later = coll.get_objects(added_after="2026-03-01T12:16:00Z", limit=1000)["objects"]
        # ids 961..999 (T0 + 961 s.., after 12:16:00 exclusive) and the 100 at T0 + 5 h
        assert len(later) == 139
        got = coll.get_object(one)["objects"]
        assert got[0]["id"] == one
        assert coll.object_versions(one)["versions"] == [indicator(7)["modified"]]

        # Adding objects: the status resource, polled until final.
        status = coll.add_objects(
            {"objects": [indicator(5000), indicator(5001), {"type": "x", "id": "bad"}]},
            wait_for_completion=True,
            poll_interval=0.05,
            timeout=10,
        )
        assert status.status == "complete"
        assert (status.total_count, status.success_count, status.failure_count) == (3, 2, 1)
        again = Collection(coll.url, auth=auth)
        assert again.get_object(indicator(5001)["id"])["objects"][0]["id"] == indicator(5001)["id"]
