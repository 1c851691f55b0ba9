"""Isolation probes of the background-jobs admin page: instance administration, so
non-admins get 403 (failed jobs' arguments may name any agency's rows)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from takedown.kit.clock import utcnow
from takedown.runtime import deadletters
from tests.factories import Actor
from tests.isolation import Case, probe


def _dead(s: Session, a: Actor) -> Case:
    row = deadletters.record_dead(
        s, "evidence.capture", {"item_ids": [1]}, outbox_id=None, attempts=5,
        error="probe", now=utcnow(),
    )  # fmt: skip
    return Case(params={"dead_id": row.id})


probe("GET", "/admin/jobs", kind="admin")(lambda s, a: Case())
probe("POST", "/admin/jobs/retry", kind="admin")(lambda s, a: Case())
probe("POST", "/admin/jobs/{dead_id}/retry", kind="admin")(_dead)
