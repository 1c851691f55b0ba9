"""Probes for the tenant-isolation test: one entry per route of the app.

Every route the app serves must appear here (or in ``PUBLIC``), so that a new
route without an isolation check makes tests/test_tenant_isolation.py fail.

A probe sets up data owned by agency A (the ``owner``) and says how agency B
(the ``intruder``, same role) calls the route:
- ``params``: path parameters pointing at A's object; B must get 403 or 404;
- ``marker``: for listings, a string from A's private data that must not appear
  in B's response.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from tests.factories import Actor

PUBLIC: set[tuple[str, str]] = {
    ("GET", "/healthz"),
    ("POST", "/api/v1/session"),
}


@dataclass
class Case:
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    marker: str | None = None
    query: dict[str, Any] = field(default_factory=dict)
    # Multipart uploads: {field: (filename, bytes, content type)}.
    files: dict[str, Any] | None = None
    # Owner-side sanity check: the owner's own call must not be refused as 404/403.
    owner_ok: bool = True
    # A form body (HTML routes), sent as application/x-www-form-urlencoded.
    data: dict[str, Any] | None = None


@dataclass
class Probe:
    setup: Callable[[Session, Actor], Case]
    role: str = "analyst"
    # "tenant": data of one agency; "admin": instance administration (non-admins get 403);
    # "self": acts only on the caller's own account (nothing of another agency reachable).
    kind: str = "tenant"


PROBES: dict[tuple[str, str], Probe] = {}


def probe(
    method: str, path: str, *, role: str = "analyst", kind: str = "tenant"
) -> Callable[[Callable[[Session, Actor], Case]], Callable[[Session, Actor], Case]]:
    def deco(fn: Callable[[Session, Actor], Case]) -> Callable[[Session, Actor], Case]:
        key = (method, path)
        assert key not in PROBES, f"two probes for {key}"
        PROBES[key] = Probe(fn, role=role, kind=kind)
        return fn

    return deco


def _none(_s: Session, _a: Actor) -> Case:
    return Case()


# --- accounts -----------------------------------------------------------------------------
probe("GET", "/api/v1/me", kind="self")(lambda s, a: Case(marker=a.user.email))
probe("DELETE", "/api/v1/session", kind="self")(_none)
probe("GET", "/api/v1/agencies", kind="self")(_none)  # the public directory of contact points
probe("POST", "/api/v1/agencies", kind="admin")(
    lambda s, a: Case(body={"name": "Probe agency", "country": "FR", "kind": "national_iru"})
)
probe("POST", "/api/v1/users", kind="admin")(
    lambda s, a: Case(
        body={
            "agency_id": a.agency.id,
            "email": "probe@example.invalid",
            "role": "analyst",
            "password": "x" * 16,
        }
    )
)


@probe("GET", "/api/v1/users", role="supervisor")
def _users(s: Session, a: Actor) -> Case:
    return Case(marker=a.user.email)


@probe("GET", "/api/v1/tokens", kind="self")
def _tokens(s: Session, a: Actor) -> Case:
    from takedown.accounts import repository

    return Case(marker=repository.tokens_of_user(s, a.user.id)[0].prefix)


probe("POST", "/api/v1/tokens", kind="self")(lambda s, a: Case(body={"name": "probe"}))


@probe("DELETE", "/api/v1/tokens/{token_id}")
def _token_delete(s: Session, a: Actor) -> Case:
    from takedown.accounts import repository

    return Case(params={"token_id": repository.tokens_of_user(s, a.user.id)[0].id})


# --- audit --------------------------------------------------------------------------------
@probe("GET", "/api/v1/audit/events", role="supervisor")
def _audit(s: Session, a: Actor) -> Case:
    from takedown.audit.service import record

    record(s, a.principal, "probe.secret", "thing", "owner-only-marker", {"x": 1})
    return Case(marker="owner-only-marker")


probe("GET", "/api/v1/audit/verify", kind="admin")(_none)


# --- operations ---------------------------------------------------------------------------
# Each probe gives agency A an operation (A leads; only A takes part) with one item of A's.


def _op_setup(s: Session, a: Actor) -> tuple[int, int, str]:
    import datetime as dt

    from takedown.items import service as items
    from takedown.operations import service as ops
    from tests.factories import make_actor

    lead = make_actor(s, a.agency, role="supervisor")
    op = ops.create_operation(
        s,
        lead.principal,
        name="owner-only-operation-marker",
        starts_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    item, _ = items.report_url(s, a.principal, "https://x.com/opsprobe/status/424242")
    ops.add_items(s, a.principal, op.id, [item.id])
    return op.id, item.id, "opsprobe"


def _op(
    extra: dict[str, Any] | None = None, body: Any = None, marker: bool = False
) -> Callable[[Session, Actor], Case]:
    def setup(s: Session, a: Actor) -> Case:
        op_id, _item_id, _ = _op_setup(s, a)
        return Case(
            params={"operation_id": op_id},
            body=body,
            marker="owner-only-operation-marker" if marker else None,
        )

    return setup


probe("GET", "/api/v1/operations")(
    lambda s, a: Case(marker="owner-only-operation-marker") if _op_setup(s, a) else Case()
)
probe("POST", "/api/v1/operations", role="supervisor", kind="self")(
    lambda s, a: Case(body={"name": "probe op", "starts_at": "2026-01-01T00:00:00Z"})
)
probe("GET", "/api/v1/operations/{operation_id}")(_op(marker=True))
probe("POST", "/api/v1/operations/{operation_id}/participants", role="supervisor")(
    lambda s, a: Case(
        params={"operation_id": _op_setup(s, a)[0]},
        body={"agency_id": a.agency.id, "role": "observer"},
        owner_ok=False,
    )
)
probe("POST", "/api/v1/operations/{operation_id}/status", role="supervisor")(
    _op(body={"status": "running"})
)
probe("GET", "/api/v1/operations/{operation_id}/items")(
    lambda s, a: Case(params={"operation_id": _op_setup(s, a)[0]}, marker="opsprobe")
)


@probe("POST", "/api/v1/operations/{operation_id}/items")
def _op_items_add(s: Session, a: Actor) -> Case:
    op_id, item_id, _ = _op_setup(s, a)
    return Case(params={"operation_id": op_id}, body={"item_ids": [item_id]})


@probe("GET", "/api/v1/operations/{operation_id}/holds")
def _op_holds(s: Session, a: Actor) -> Case:
    from takedown.items import service as items

    op_id, item_id, _ = _op_setup(s, a)
    items.place_hold(
        s,
        a.principal,
        item_id,
        reason="owner-only-hold-reason",
        contact_point="probe@example.invalid",
    )
    return Case(params={"operation_id": op_id}, marker="owner-only-hold-reason")


probe("GET", "/api/v1/operations/{operation_id}/referrable")(_op())
probe("GET", "/api/v1/operations/{operation_id}/metrics")(_op(marker=True))
probe("GET", "/api/v1/operations/{operation_id}/report")(_op(marker=True))
probe("GET", "/api/v1/transparency/{year}", kind="self")(
    lambda s, a: Case(params={"year": 2026}, marker=f'{a.agency.name}"')
)


@probe("GET", "/api/v1/legal-events")
def _legal_events(s: Session, a: Actor) -> Case:
    import datetime as dt

    from takedown.operations import legal as ops
    from tests.factories import make_actor

    sup = make_actor(s, a.agency, role="supervisor")
    ops.record_legal_event(
        s,
        sup.principal,
        kind="penalty",
        outcome="imposed",
        occurred_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        reference="owner-only-penalty-ref",
    )
    return Case(marker="owner-only-penalty-ref")


probe("POST", "/api/v1/legal-events", role="supervisor", kind="self")(
    lambda s, a: Case(
        body={"kind": "review", "outcome": "pending", "occurred_at": "2026-02-01T00:00:00Z"}
    )
)


# --- platforms (shared reference data, not agency-owned) -----------------------------------
probe("GET", "/api/v1/platforms", kind="self")(_none)
probe("GET", "/api/v1/platforms/{slug}", kind="self")(lambda s, a: Case(params={"slug": "x"}))
probe("PATCH", "/api/v1/platforms/{slug}", kind="admin")(
    lambda s, a: Case(params={"slug": "x"}, body={"notes": "probe"})
)
probe("POST", "/api/v1/platforms", kind="admin")(
    lambda s, a: Case(body={"slug": "probe-host", "name": "Probe", "kind": "website"})
)


# --- administrators act within their own agency (#19.3) -------------------------------------
# An admin of agency B (not the instance operator) calls the route about agency A's users,
# tokens or log: the answer is 403 or 404 and shows nothing of A. Every route that needs an
# administrative scope is either probed here or listed in INSTANCE_WIDE with its reason;
# tests/test_tenant_isolation.py enumerates them.
ADMIN_SCOPES = frozenset({"admin", "users:read", "audit:read", "tokens:write"})
ADMIN_PROBES: dict[tuple[str, str], Callable[[Session, Actor], Case]] = {}
REGISTRY = "the platform registry: shared; only the operator edits it (agency admins 403)"
AUTHORITIES = "the TCO authorities: shared; only the operator edits them (agency admins 403)"
INSTANCE_WIDE: dict[tuple[str, str], str] = {
    ("GET", "/admin/agencies"): "the directory of agencies and their contact points",
    ("GET", "/admin/roles"): "what each role may do",
    ("GET", "/admin/ui"): "the component gallery (no data)",
    ("GET", "/admin/ui/progress"): "the gallery's demonstration job",
    ("GET", "/admin/audit/chain"): "whether the chain links (no event is shown)",
    ("GET", "/api/v1/audit/verify"): "whether the chain links (no event is shown)",
    ("POST", "/account/tokens"): "the caller's own token",
    ("GET", "/admin/platforms/{slug}"): REGISTRY,
    ("POST", "/admin/platforms/{slug}"): REGISTRY,
    ("GET", "/admin/platforms/new"): REGISTRY,
    ("POST", "/admin/platforms/new"): REGISTRY,
    ("POST", "/api/v1/platforms"): REGISTRY,
    ("PATCH", "/api/v1/platforms/{slug}"): REGISTRY,
    ("GET", "/admin/authorities/{country}"): AUTHORITIES,
    ("POST", "/admin/authorities/{country}"): AUTHORITIES,
    ("PUT", "/api/v1/tco-authorities/{country}"): AUTHORITIES,
    ("GET", "/admin/agencies/{agency_id}"): "an agency's public directory entry",
    ("GET", "/admin/jobs"): "the instance's failed jobs: the operator's page (agency admins 403)",
    ("POST", "/admin/jobs/retry"): "re-runs the instance's failed jobs: the operator only",
    ("POST", "/admin/jobs/{dead_id}/retry"): "re-runs one failed job: the operator only",
}


def admin_probe(
    method: str, path: str
) -> Callable[[Callable[[Session, Actor], Case]], Callable[[Session, Actor], Case]]:
    def deco(fn: Callable[[Session, Actor], Case]) -> Callable[[Session, Actor], Case]:
        assert (method, path) not in ADMIN_PROBES, f"two admin probes for {(method, path)}"
        ADMIN_PROBES[(method, path)] = fn
        return fn

    return deco


def _first_token(s: Session, a: Actor) -> int:
    from takedown.accounts import repository

    return repository.tokens_of_user(s, a.user.id)[0].id


def _event(s: Session, a: Actor) -> Case:
    from takedown.audit.service import record

    record(s, a.principal, "probe.secret", "thing", "agency-a-audit-marker", {"x": 1})
    return Case(marker="agency-a-audit-marker")


_NEW_USER = {"email": "probe-admin@example.invalid", "role": "analyst", "password": "x" * 16}
admin_probe("POST", "/api/v1/tokens")(
    lambda s, a: Case(body={"name": "x", "user_id": a.user.id}, owner_ok=False)
)
admin_probe("DELETE", "/api/v1/tokens/{token_id}")(
    lambda s, a: Case(params={"token_id": _first_token(s, a)})
)
admin_probe("POST", "/account/tokens/{token_id}/revoke")(
    lambda s, a: Case(params={"token_id": _first_token(s, a)})
)
admin_probe("GET", "/api/v1/users")(lambda s, a: Case(marker=a.user.email))
admin_probe("GET", "/admin/users")(lambda s, a: Case(marker=a.user.email))
admin_probe("POST", "/api/v1/users")(
    lambda s, a: Case(body={**_NEW_USER, "agency_id": a.agency.id})
)
admin_probe("POST", "/admin/users")(
    lambda s, a: Case(data={**_NEW_USER, "agency_id": str(a.agency.id)})
)
admin_probe("POST", "/api/v1/agencies")(
    lambda s, a: Case(body={"name": "Probe agency B", "country": "FR", "kind": "national_iru"})
)
admin_probe("POST", "/admin/agencies")(
    lambda s, a: Case(data={"name": "Probe agency B", "country": "FR", "kind": "national_iru"})
)
for _path in ("/admin/users/{user_id}/role", "/admin/users/{user_id}/active"):
    admin_probe("POST", _path)(
        lambda s, a: Case(params={"user_id": a.user.id}, data={"role": "admin", "active": "0"})
    )
admin_probe("POST", "/admin/users/{user_id}/totp")(lambda s, a: Case(params={"user_id": a.user.id}))
admin_probe("GET", "/api/v1/audit/events")(_event)
admin_probe("GET", "/admin/audit")(_event)


# Page routes of the web shell, accounts and audit pages.
# Each capability keeps its probes beside its tests.
import tests.accounts.isolation_probes  # noqa: E402
import tests.coins.isolation_probes  # noqa: E402
import tests.evidence.isolation_probes  # noqa: E402
import tests.items.probes  # noqa: E402
import tests.matching.isolation_probes  # noqa: E402
import tests.monitoring.isolation_probes  # noqa: E402
import tests.operations.isolation_probes  # noqa: E402
import tests.platforms.isolation_probes  # noqa: E402
import tests.referrals.isolation_probes  # noqa: E402
import tests.resurgence.isolation_probes  # noqa: E402
import tests.runtime.isolation_probes  # noqa: E402
import tests.sharing.isolation_probes  # noqa: E402
import tests.verification.isolation_probes  # noqa: E402
import tests.web.isolation_probes  # noqa: E402,F401
