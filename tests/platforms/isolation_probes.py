"""Tenant-isolation probes for the platform pages (see tests/isolation.py).

The registry is instance-wide reference data, not agency-owned: every signed-in user
reads the list ("self": nothing of another agency is on it), only admins open or save
the edit and new-platform forms ("admin": everyone else gets 403).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories import Actor
from tests.isolation import Case, probe

probe("GET", "/admin/platforms", kind="self")(lambda s, a: Case())
probe("GET", "/admin/platforms/{slug}", kind="admin")(lambda s, a: Case(params={"slug": "x"}))
probe("POST", "/admin/platforms/{slug}", kind="admin")(
    lambda s, a: Case(params={"slug": "x"}, body=None)
)
probe("GET", "/admin/platforms/new", kind="admin")(lambda s, a: Case())
probe("POST", "/admin/platforms/new", kind="admin")(lambda s, a: Case(body=None))


# The TCO authorities registry: instance-wide reference data, like the platforms.
def _seeded(s: Session, a: Actor) -> None:
    from takedown.platforms import authorities

    authorities.ensure_seeded(s)


def _authority(s: Session, a: Actor, **kw: object) -> Case:
    _seeded(s, a)
    return Case(params={"country": "IE"}, **kw)  # type: ignore[arg-type]


probe("GET", "/api/v1/tco-authorities", kind="self")(lambda s, a: Case())
probe("GET", "/api/v1/tco-authorities/{country}", kind="self")(_authority)
probe("PUT", "/api/v1/tco-authorities/{country}", kind="admin")(
    lambda s, a: _authority(s, a, body={"notes": "probe"})
)
probe("GET", "/admin/authorities", kind="self")(lambda s, a: Case())
probe("GET", "/admin/authorities/{country}", kind="admin")(_authority)
probe("POST", "/admin/authorities/{country}", kind="admin")(
    lambda s, a: _authority(s, a, body=None)
)
