"""Tenant-isolation probes for the platform pages (see tests/isolation.py).

The registry is instance-wide reference data, not agency-owned: every signed-in user
reads the list ("self": nothing of another agency is on it), only admins open or save
the edit and new-platform forms ("admin": everyone else gets 403).
"""

from __future__ import annotations

from tests.isolation import Case, probe

probe("GET", "/admin/platforms", kind="self")(lambda s, a: Case())
probe("GET", "/admin/platforms/{slug}", kind="admin")(lambda s, a: Case(params={"slug": "x"}))
probe("POST", "/admin/platforms/{slug}", kind="admin")(
    lambda s, a: Case(params={"slug": "x"}, body=None)
)
probe("GET", "/admin/platforms/new", kind="admin")(lambda s, a: Case())
probe("POST", "/admin/platforms/new", kind="admin")(lambda s, a: Case(body=None))
