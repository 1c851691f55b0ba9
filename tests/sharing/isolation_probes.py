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


# --- the sharing API (/api/v1/sharing, /api/v1/deconfliction) ------------------------------
PMARK = "owner-only-partner-marker"


def _partner(s: Session, a: Actor):  # type: ignore[no-untyped-def]
    from takedown.sharing import partners
    from tests.factories import make_actor

    sup = make_actor(s, a.agency, role="supervisor")
    return partners.create_partner(
        s, sup.principal,
        partners.PartnerIn(name=PMARK, country="DE", contact_point="p@partner.invalid",
                           deconfliction_url="http://partner.invalid/psi"),
        secret_key="test-secret",
    )  # fmt: skip


def _share(s: Session, a: Actor):  # type: ignore[no-untyped-def]
    from takedown.sharing import shares
    from tests.items.factories import make_item

    coll = _coll(s, a)
    item = make_item(s, a, url="https://x.com/sharingprobe/status/987654")
    row, _ = shares.share(s, a.principal, coll.id, "item", item.id, tlp="GREEN")
    return row


probe("GET", "/api/v1/sharing/partners")(
    lambda s, a: Case(marker=PMARK) if _partner(s, a) else Case()
)
probe("POST", "/api/v1/sharing/partners", role="supervisor", kind="self")(
    lambda s, a: Case(body={"name": "probe", "country": "DE", "contact_point": "x@y.invalid"})
)
probe("GET", "/api/v1/sharing/collections")(
    lambda s, a: Case(marker=MARK) if _coll(s, a) else Case()
)
probe("POST", "/api/v1/sharing/collections", role="supervisor", kind="self")(
    lambda s, a: Case(body={"title": "probe", "audience": "community"})
)
probe("POST", "/api/v1/sharing/collections/{collection_id}/grants", role="supervisor")(
    lambda s, a: Case(
        params={"collection_id": _coll(s, a).id}, body={"agency_id": a.agency.id}, owner_ok=False
    )
)
probe("GET", "/api/v1/sharing/collections/{collection_id}/bundle")(
    lambda s, a: Case(params={"collection_id": _share(s, a).collection_id}, marker="sharingprobe")
)
probe("GET", "/api/v1/sharing/shares")(lambda s, a: Case(marker=MARK) if _share(s, a) else Case())
probe("POST", "/api/v1/sharing/shares", kind="self")(
    lambda s, a: Case(body={"collection_id": 1, "subject_type": "item", "subject_id": 1})
)
probe("DELETE", "/api/v1/sharing/shares/{share_id}")(
    lambda s, a: Case(params={"share_id": _share(s, a).id})
)


@probe("GET", "/api/v1/sharing/inbox")
def _inbox(s: Session, a: Actor) -> Case:
    from takedown.kit.clock import SystemClock
    from takedown.sharing import inbox

    p = _partner(s, a)
    inbox.receive(
        s, owner_agency_id=a.agency.id, source_agency_id=p.agency_id, channel="taxii-post",
        objects=[indicator(9191)], now=SystemClock().now(),
    )  # fmt: skip
    return Case(marker=str(indicator(9191)["id"]))


probe("POST", "/api/v1/sharing/inbox/decide", kind="self")(
    lambda s, a: Case(body={"ids": [1], "accept": False})
)
probe("POST", "/api/v1/deconfliction/psi", kind="self")(lambda s, a: Case(body={"request": "AA=="}))
probe("POST", "/api/v1/sharing/partners/{partner_id}/deconfliction")(
    lambda s, a: Case(params={"partner_id": _partner(s, a).id}, body={"urls": []}, owner_ok=False)
)


@probe("GET", "/api/v1/sharing/deconfliction/requests")
def _requests(s: Session, a: Actor) -> Case:
    from takedown.config import Settings
    from takedown.sharing import deconfliction

    p = _partner(s, a)

    def post(url: str, body: dict[str, object], token: str) -> dict[str, object]:
        raise ValueError("owner-only-request-marker")

    deconfliction.ask(
        s, a.principal, p.id, settings=Settings(secret_key="test-secret"),
        urls=["https://x.com/probe"], post=post,
    )  # fmt: skip
    return Case(marker="owner-only-request-marker")


probe("GET", "/api/v1/sharing/deconfliction/followups", kind="self")(lambda s, a: Case())


@probe("GET", "/api/v1/sharing/investigations")
def _investigations(s: Session, a: Actor) -> Case:
    from takedown.sharing import deconfliction

    deconfliction.add_investigation(s, a.principal, url="https://t.me/ownerinvestigation")
    return Case(marker="ownerinvestigation")


probe("POST", "/api/v1/sharing/investigations", kind="self")(
    lambda s, a: Case(body={"url": "https://t.me/probechannel"})
)


# --- the page ----------------------------------------------------------------------------
probe("GET", "/sharing")(lambda s, a: Case(marker=PMARK) if _partner(s, a) else Case())
