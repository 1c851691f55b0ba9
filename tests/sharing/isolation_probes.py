"""Tenant-isolation probes for the sharing routes (TAXII under /taxii2/, the API, pages)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from takedown.sharing import collections
from tests.factories import Actor
from tests.isolation import Case, probe
from tests.sharing.helpers import T0, indicator, put

MARK = "owner-only-collection-marker"


def _coll(s: Session, a: Actor):  # type: ignore[no-untyped-def]
    from tests.factories import make_actor

    sup = make_actor(s, a.agency, role="supervisor")
    return collections.create_collection(s, sup.principal, title=MARK, audience="community")


def _coll_case(s: Session, a: Actor) -> Case:
    return Case(params={"api_root": "api", "collection_id": _coll(s, a).uuid}, marker=MARK)


def _object_case(s: Session, a: Actor) -> Case:
    coll = _coll(s, a)
    obj = indicator(4242)
    put(s, coll, obj, T0)
    return Case(params={"api_root": "api", "collection_id": coll.uuid, "object_id": obj["id"]})


probe("GET", "/taxii2/", kind="self")(lambda s, a: Case())
probe("GET", "/taxii2/{api_root}/", kind="self")(lambda s, a: Case(params={"api_root": "api"}))
probe("GET", "/taxii2/{api_root}/collections/", kind="self")(
    lambda s, a: Case(params={"api_root": "api"}, marker=MARK) if _coll(s, a) else Case()
)
probe("GET", "/taxii2/{api_root}/collections/{collection_id}/")(_coll_case)


def _listing_case(s: Session, a: Actor) -> Case:
    coll = _coll(s, a)
    put(s, coll, indicator(4343), T0)
    return Case(
        params={"api_root": "api", "collection_id": coll.uuid},
        marker=str(indicator(4343)["id"]),
    )


probe("GET", "/taxii2/{api_root}/collections/{collection_id}/objects/")(_listing_case)
probe("POST", "/taxii2/{api_root}/collections/{collection_id}/objects/")(
    lambda s, a: Case(params=_coll_case(s, a).params, body={"objects": []})
)
probe("GET", "/taxii2/{api_root}/collections/{collection_id}/manifest/")(_listing_case)
probe("GET", "/taxii2/{api_root}/collections/{collection_id}/objects/{object_id}/")(_object_case)
probe("DELETE", "/taxii2/{api_root}/collections/{collection_id}/objects/{object_id}/")(_object_case)
probe("GET", "/taxii2/{api_root}/collections/{collection_id}/objects/{object_id}/versions/")(
    _object_case
)


@probe("GET", "/taxii2/{api_root}/status/{status_id}/")
def _status(s: Session, a: Actor) -> Case:
    from takedown.sharing import taxii

    coll = _coll(s, a)
    st = taxii.add_objects(s, a.principal, "api", coll.uuid, {"objects": [indicator(77)]})
    return Case(params={"api_root": "api", "status_id": st["id"]})
