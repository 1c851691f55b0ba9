"""Tenant-isolation probes for the HTML pages (see tests/isolation.py).

tests/isolation.py imports this module once ``create_app`` mounts the web UI, so
tests/test_tenant_isolation.py covers every page too: admin pages refuse
non-admins, self pages show only the caller's own data, and agency B never
reaches agency A's token, users or audit events.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.factories import Actor
from tests.isolation import PUBLIC, Case, probe

# /favicon.ico only redirects to the static icon (like /static itself, it shows nothing).
PUBLIC.update({("GET", "/login"), ("POST", "/login"), ("GET", "/favicon.ico")})


def _none(_s: Session, _a: Actor) -> Case:
    return Case()


# --- the shell and your account -------------------------------------------------------------
probe("GET", "/", kind="self")(_none)
probe("POST", "/logout", kind="self")(_none)
probe("GET", "/account", kind="self")(lambda s, a: Case(marker=a.user.email))
probe("POST", "/account/tokens", kind="self")(_none)


@probe("GET", "/account/tokens", kind="self")
def _tokens(s: Session, a: Actor) -> Case:
    from takedown.accounts import repository

    return Case(marker=repository.tokens_of_user(s, a.user.id)[0].prefix)


@probe("POST", "/account/tokens/{token_id}/revoke")
def _revoke(s: Session, a: Actor) -> Case:
    from takedown.accounts import repository

    return Case(params={"token_id": repository.tokens_of_user(s, a.user.id)[0].id})


# --- administration ------------------------------------------------------------------------
for _method, _path in [
    ("GET", "/admin/agencies"),
    ("POST", "/admin/agencies"),
    ("POST", "/admin/users"),
    ("GET", "/admin/roles"),
    ("GET", "/admin/audit/chain"),
    ("GET", "/admin/ui"),
    ("GET", "/admin/ui/progress"),
]:
    probe(_method, _path, kind="admin")(_none)


@probe("POST", "/admin/users/{user_id}/totp", kind="admin")
def _totp(s: Session, a: Actor) -> Case:
    return Case(params={"user_id": a.user.id})


@probe("GET", "/admin/users", role="supervisor")
def _users(s: Session, a: Actor) -> Case:
    return Case(marker=a.user.email)


@probe("GET", "/admin/audit", role="supervisor")
def _audit(s: Session, a: Actor) -> Case:
    from takedown.audit.service import record

    record(s, a.principal, "probe.secret", "thing", "owner-only-web-marker", {"x": 1})
    return Case(marker="owner-only-web-marker")


# --- your password; an admin's changes to a user ----------------------------------------------
probe("GET", "/account/password", kind="self")(_none)
probe("POST", "/account/password", kind="self")(_none)


@probe("POST", "/admin/users/{user_id}/role", kind="admin")
def _role(s: Session, a: Actor) -> Case:
    return Case(params={"user_id": a.user.id})


@probe("POST", "/admin/users/{user_id}/active", kind="admin")
def _active(s: Session, a: Actor) -> Case:
    return Case(params={"user_id": a.user.id})
