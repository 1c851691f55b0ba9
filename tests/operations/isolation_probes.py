"""Tenant-isolation probes for the operations pages (see tests/isolation.py).

Import this module from tests/isolation.py (next to tests/web/isolation_probes.py)
once ``create_app`` mounts ``takedown.operations.views.router``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories import Actor
from tests.isolation import Case, _op_setup, probe

probe("GET", "/operations/static/report.css", kind="self")(lambda s, a: Case())
probe("GET", "/operations")(
    lambda s, a: Case(marker="owner-only-operation-marker") if _op_setup(s, a) else Case()
)


def _page(marker: bool = True):  # type: ignore[no-untyped-def]
    def setup(s: Session, a: Actor) -> Case:
        op_id, _, _ = _op_setup(s, a)
        return Case(
            params={"operation_id": op_id}, marker="owner-only-operation-marker" if marker else None
        )

    return setup


probe("GET", "/operations/{operation_id}")(_page())
probe("GET", "/operations/{operation_id}/live")(_page())
probe("GET", "/operations/{operation_id}/report")(_page())
probe("GET", "/operations/{operation_id}/report.pdf")(_page(marker=False))
probe("GET", "/operations/{operation_id}/export/{table}.csv")(
    lambda s, a: Case(params={"operation_id": _op_setup(s, a)[0], "table": "items_by_state"})
)

# Creating and managing. The intruder (agency B) posts to A's operation: 404, before any
# form check. Each form's owner-side call is an empty form (422), never a 403/404.
probe("GET", "/operations/new", role="supervisor", kind="self")(lambda s, a: Case())
probe("POST", "/operations/new", role="supervisor", kind="self")(lambda s, a: Case())
probe("POST", "/operations/{operation_id}/participants", role="supervisor")(_page(marker=False))
probe("POST", "/operations/{operation_id}/status", role="supervisor")(_page(marker=False))
probe("POST", "/operations/{operation_id}/items")(_page(marker=False))
