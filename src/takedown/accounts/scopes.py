"""Token scopes: the catalogue, which roles may hold which, and the one check that enforces them.

Every route, API and HTML, declares the scope it needs in its decorator::

    @router.get("/items", dependencies=[needs("items:read")])

``accounts.deps.needs`` is the only place a scope is checked. It depends on
``current_principal``, so it also authenticates. A browser session holds every scope its
role allows; a token holds the scopes it was created with, cut down to those its user's role
allows (so a ``*`` token of an analyst never carries ``admin``). Role checks
(``require_role``) and tenant isolation stay where they are: a scope only narrows what a
token may do, it never widens a role.

tests/test_scopes.py enumerates every route of the app: a route without a declaration (and
not listed as public) fails it, and for each route a token lacking its scope must get 403.
"""

from __future__ import annotations

from collections.abc import Iterable

from takedown.accounts.models import Role

ALL = "*"

#: Every scope a token may carry, and what it grants.
SCOPES: dict[str, str] = {
    "account:read": "who you are, your own tokens, the agency directory (every token has it)",
    "users:read": "list your agency's users",
    "account:write": "change your password and log out",
    "tokens:write": "create and revoke API tokens (never with scopes the creator lacks)",
    "items:read": "read items, sightings, assessments, holds and the queue",
    "items:write": "report items, assess them, place and release holds, share items",
    "intake:write": "import lists and files of items",
    "evidence:read": "read captures, their files, holds; verify and export bundles",
    "evidence:write": "capture evidence and place or release evidence holds",
    "banks:read": "read hash banks and match results; match a hash or file",
    "banks:write": "create banks, add or import signals, review matches",
    "referrals:read": "read referral batches (a liaison: those sent to the platform)",
    "referrals:write": "draft, edit, submit, approve, send and cancel referral batches",
    "portal:write": "a platform liaison answers referrals (acknowledge, remove, refuse)",
    "verification:read": "read checks, schedules and time-to-removal figures",
    "verification:write": "ask for checks now",
    "operations:read": "read action days, their metrics, reports and legal events",
    "operations:write": "create and run action days, record legal events",
    "sharing:read": "read partners, collections, the inbox; answer deconfliction",
    "sharing:write": "share with partners, decide on the inbox, ask deconfliction",
    "platforms:read": "read the platform registry and TCO authorities",
    "monitoring:read": "read watched sources, crawls, their feed and proposed sources",
    "monitoring:write": "watch sources, crawl them now, accept or reject proposed sources",
    "resurgence:read": "read successor candidates, predictions and resurgence figures",
    "resurgence:write": "scan for successors, confirm or reject them, refer them",
    "coins:read": "read addresses, their sightings, watch lists, traces and alerts",
    "coins:write": "extract addresses, keep watch lists, trace addresses",
    "audit:read": "read your agency's audit log",
    "admin": "administer your agency's users and tokens; the platform registry",
}
#: Accepted when creating a token, besides the names above: ``*`` (every scope the role
#: allows, only from a creator holding ``*``) and ``<area>:*`` (every scope of one area).
KNOWN_SCOPES = frozenset(SCOPES) | {ALL}

_WORK = frozenset(
    {
        "account:read",
        "account:write",
        "tokens:write",
        "items:read",
        "items:write",
        "intake:write",
        "evidence:read",
        "evidence:write",
        "banks:read",
        "banks:write",
        "referrals:read",
        "referrals:write",
        "verification:read",
        "verification:write",
        "operations:read",
        "operations:write",
        "sharing:read",
        "sharing:write",
        "platforms:read",
        "monitoring:read",
        "monitoring:write",
        "resurgence:read",
        "resurgence:write",
        "coins:read",
        "coins:write",
    }
)
#: The scopes a role may hold: what its token page offers, and what a token is cut down to.
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.ANALYST: _WORK,
    Role.SUPERVISOR: _WORK | {"audit:read", "users:read"},
    Role.ADMIN: frozenset(SCOPES),
    Role.LIAISON: frozenset(
        {
            "account:read",
            "account:write",
            "tokens:write",
            "items:read",
            "evidence:read",
            "referrals:read",
            "portal:write",
            "platforms:read",
        }
    ),
}


#: Held by every token, whatever it was created with: a script may always ask who it is.
IMPLICIT = frozenset({"account:read"})


def expand(names: Iterable[str], role: Role) -> frozenset[str]:
    """The concrete scopes ``names`` grant to a user of ``role`` (``*`` and ``area:*`` opened)."""
    allowed = ROLE_SCOPES[role]
    out: set[str] = set(IMPLICIT)
    for name in names:
        if name == ALL:
            out |= allowed
        elif name.endswith(":*"):
            area = name[:-1]
            out |= {s for s in allowed if s.startswith(area)}
        elif name in allowed:
            out.add(name)
    return frozenset(out)


def unknown(names: Iterable[str]) -> list[str]:
    return sorted(
        n for n in names if n not in KNOWN_SCOPES and not (n.endswith(":*") and _is_area(n[:-2]))
    )


def _is_area(area: str) -> bool:
    return any(s.startswith(area + ":") for s in SCOPES)
