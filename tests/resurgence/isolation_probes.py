"""Tenant-isolation probes for the resurgence routes (tests/isolation.py imports this module):
agency B never sees agency A's candidates, decides them, scans A's items or reads A's figures."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from tests.factories import Actor
from tests.isolation import Case, probe

_n = itertools.count(1)


def _candidate(s: Session, a: Actor) -> tuple[int, str]:
    """A proposed candidate of A's items; (id, a marker from the successor's address)."""
    from takedown.resurgence import service
    from tests.resurgence.factories import removed_account, seen_account

    n = next(_n)
    removed_account(s, a, f"https://t.me/isoprobe{n}x", title=f"Iso Probe {n}")
    new = seen_account(s, a, f"https://t.me/isoprobe{n}x_back", title=f"Iso Probe {n}")
    service.scan(s, seen_ids=[new.id])
    [v], _ = service.list_candidates(s, a.principal)
    return v.candidate.id, f"isoprobe{n}x_back"


def _by_id(s: Session, a: Actor) -> Case:
    cid, _ = _candidate(s, a)
    return Case(params={"candidate_id": cid})


def _decision(s: Session, a: Actor) -> Case:
    cid, _ = _candidate(s, a)
    return Case(params={"candidate_id": cid}, body={"note": ""}, owner_ok=False)


def _listing(s: Session, a: Actor) -> Case:
    _, marker = _candidate(s, a)
    return Case(marker=marker)


def _form(s: Session, a: Actor) -> Case:
    cid, _ = _candidate(s, a)
    return Case(params={"candidate_id": cid}, owner_ok=False)


def _scan(s: Session, a: Actor) -> Case:
    from takedown.resurgence import service
    from tests.resurgence.factories import removed_account, seen_account

    n = next(_n)
    removed_account(s, a, f"https://t.me/isoscan{n}x")
    new = seen_account(s, a, f"https://t.me/isoscan{n}x_new")
    assert service  # B's scan of A's item must store nothing it could see
    return Case(body={"item_ids": [new.id]}, marker=f"isoscan{n}x")


probe("GET", "/api/v1/resurgence/candidates")(_listing)
probe("GET", "/api/v1/resurgence/candidates/{candidate_id}")(_by_id)
probe("POST", "/api/v1/resurgence/candidates/{candidate_id}/confirm")(_decision)
probe("POST", "/api/v1/resurgence/candidates/{candidate_id}/reject")(_decision)
probe("POST", "/api/v1/resurgence/scan")(_scan)


def _predictions(s: Session, a: Actor) -> Case:
    from takedown.resurgence import predictions
    from tests.resurgence.factories import removed_account

    n = next(_n)
    old = removed_account(s, a, f"https://t.me/isopred{n}x")
    predictions.generate(s, old.id)
    return Case(marker=f"isopred{n}x")


def _figures(s: Session, a: Actor) -> Case:
    # Figures carry no names; tests/resurgence/test_api.py checks B counts none of A's.
    _candidate(s, a)
    return Case()


probe("GET", "/api/v1/resurgence/figures")(_figures)
probe("GET", "/api/v1/resurgence/predictions")(_predictions)
probe("POST", "/api/v1/resurgence/link-handles", kind="self")(
    lambda s, a: Case(body={"platform": "x", "removed": ["abc"], "seen": ["abc2"]})
)
probe("GET", "/resurgence")(_listing)
probe("POST", "/resurgence/candidates/{candidate_id}/confirm")(_form)
probe("POST", "/resurgence/candidates/{candidate_id}/reject")(_form)
