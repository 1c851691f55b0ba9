"""Tenant-isolation probes for the administration of existing accounts (#13.4): an
administrator of agency B never resets a password of, edits or deactivates agency A."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from tests.factories import Actor, make_user
from tests.isolation import Case, probe

_n = itertools.count(1)


def _mate(s: Session, a: Actor) -> int:
    return make_user(s, a.agency, email=f"mate{next(_n)}@probe.example").id


probe("POST", "/api/v1/users/{user_id}/password-reset", role="admin")(
    lambda s, a: Case(params={"user_id": _mate(s, a)})
)
probe("POST", "/admin/users/{user_id}/password-reset", role="admin")(
    lambda s, a: Case(params={"user_id": _mate(s, a)})
)
probe("PATCH", "/api/v1/agencies/{agency_id}", role="admin")(
    lambda s, a: Case(params={"agency_id": a.agency.id}, body={"contact_point": "p@probe.example"})
)
probe("POST", "/admin/agencies/{agency_id}", role="admin")(
    lambda s, a: Case(params={"agency_id": a.agency.id})
)
# Only the instance operator (de)activates agencies: the owner's own admin is refused too.
probe("POST", "/admin/agencies/{agency_id}/active", role="admin")(
    lambda s, a: Case(params={"agency_id": a.agency.id}, owner_ok=False)
)
# The page shows the public directory's fields (GET /api/v1/agencies); edit and deactivate
# are offered only to who may (tested in tests/accounts/test_admin.py).
probe("GET", "/admin/agencies/{agency_id}", role="admin", kind="self")(
    lambda s, a: Case(params={"agency_id": a.agency.id})
)
