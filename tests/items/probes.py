"""Tenant-isolation probes for the items routes.

tests/isolation.py must import this module at its end (``import tests.items.probes``)
so tests/test_tenant_isolation.py runs them.
"""

from __future__ import annotations

import io

from sqlalchemy.orm import Session

from takedown.items import intake, service
from tests.factories import Actor, make_agency
from tests.isolation import Case, probe
from tests.items.factories import make_item


@probe("GET", "/api/v1/items")
def _list(s: Session, a: Actor) -> Case:
    return Case(marker=make_item(s, a).canonical_url)


probe("POST", "/api/v1/items", kind="self")(
    lambda s, a: Case(body={"url": "https://x.com/probe_handle/status/1"})
)


@probe("GET", "/api/v1/items/{item_id}")
def _get(s: Session, a: Actor) -> Case:
    item = make_item(s, a, note="probe-private-note")
    return Case(params={"item_id": item.id}, marker="probe-private-note")


@probe("GET", "/api/v1/items/{item_id}/assessments")
def _assessments(s: Session, a: Actor) -> Case:
    item = make_item(s, a)
    service.assess(s, a.principal, item.id, "needs_review", notes="probe-assessment-note")
    return Case(params={"item_id": item.id}, marker="probe-assessment-note")


@probe("POST", "/api/v1/items/{item_id}/assessments")
def _assess(s: Session, a: Actor) -> Case:
    return Case(params={"item_id": make_item(s, a).id}, body={"verdict": "needs_review"})


@probe("POST", "/api/v1/items/{item_id}/holds")
def _hold(s: Session, a: Actor) -> Case:
    return Case(params={"item_id": make_item(s, a).id}, body={"reason": "probe"})


@probe("DELETE", "/api/v1/items/{item_id}/holds/{hold_id}")
def _release(s: Session, a: Actor) -> Case:
    item = make_item(s, a)
    hold = service.place_hold(s, a.principal, item.id, reason="probe")
    return Case(params={"item_id": item.id, "hold_id": hold.id})


@probe("POST", "/api/v1/items/{item_id}/shares")
def _share(s: Session, a: Actor) -> Case:
    third = make_agency(s)
    return Case(params={"item_id": make_item(s, a).id}, body={"agency_id": third.id})


probe("POST", "/api/v1/imports", kind="self")(lambda s, a: Case())


@probe("GET", "/api/v1/imports/{import_id}")
def _import(s: Session, a: Actor) -> Case:
    job = intake.import_stream(
        s, a.principal, io.BytesIO(b"https://x.com/probe_import\n"), filename="probe-file.txt"
    )
    return Case(params={"import_id": job.id}, marker="probe-file.txt")


# --- the workbench pages (items.views, items.intake_views) -------------------------------------


@probe("GET", "/intake")
def _intake_page(s: Session, a: Actor) -> Case:
    job = intake.import_stream(s, a.principal, io.BytesIO(b"https://x.com/p/status/7\n"),
                               filename="owner-only-intake-file.txt")  # fmt: skip
    return Case(marker=job.filename)


probe("POST", "/intake", kind="self")(lambda s, a: Case())


@probe("GET", "/intake/{import_id}")
def _import_page(s: Session, a: Actor) -> Case:
    job = intake.import_stream(s, a.principal, io.BytesIO(b"https://x.com/p/status/8\n"),
                               filename="owner-only-import-page.txt")  # fmt: skip
    return Case(params={"import_id": job.id}, marker="owner-only-import-page.txt")


def _run(s: Session, a: Actor) -> Case:
    from takedown.items import intake_runs

    run = intake_runs.register(a.principal, "owner-only-run.csv", 100)
    return Case(params={"token": run.token}, marker="owner-only-run.csv")


probe("GET", "/intake/runs/{token}")(_run)
probe("GET", "/intake/runs/{token}/progress")(_run)


@probe("GET", "/queue")
def _queue(s: Session, a: Actor) -> Case:
    return Case(marker=make_item(s, a, url="https://x.com/ownerqueue/status/5151").canonical_url)


probe("POST", "/queue/filters", kind="self")(lambda s, a: Case())
probe("POST", "/queue/bulk", kind="self")(lambda s, a: Case())


@probe("POST", "/queue/filters/{filter_id}/delete")
def _filter_delete(s: Session, a: Actor) -> Case:
    from takedown.items import workbench

    return Case(params={"filter_id": workbench.save_filter(s, a.principal, "mine", "kind=post").id})


@probe("GET", "/items/{item_id}")
def _item_page(s: Session, a: Actor) -> Case:
    item = make_item(s, a, note="probe-item-page-note")
    return Case(params={"item_id": item.id}, marker="probe-item-page-note")


probe("POST", "/items/{item_id}/assess")(lambda s, a: Case(params={"item_id": make_item(s, a).id}))
probe("POST", "/items/{item_id}/holds")(lambda s, a: Case(params={"item_id": make_item(s, a).id}))


@probe("POST", "/items/{item_id}/holds/{hold_id}/release")
def _release_page(s: Session, a: Actor) -> Case:
    item = make_item(s, a)
    hold = service.place_hold(s, a.principal, item.id, reason="probe")
    return Case(params={"item_id": item.id, "hold_id": hold.id})
