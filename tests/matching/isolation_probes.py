"""Tenant-isolation probes for the matching routes (imported by tests/isolation.py).

A bank of agency A that is not shared (TLP:AMBER, shared=False) must be invisible to
agency B: listing, reading, its signals, adding to it, exporting it, and matching
against it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from takedown.matching import service
from takedown.matching.schemas import SignalIn
from tests.factories import Actor
from tests.isolation import Case, probe
from tests.matching.factories import make_bank

SHA = "ab" * 32


def _bank(s: Session, a: Actor, name: str = "owner-only-bank-marker") -> int:
    return make_bank(s, a, name=name, tlp="AMBER", shared=False).id


def _bank_with_signal(s: Session, a: Actor) -> tuple[int, int]:
    bank_id = _bank(s, a)
    sig = service.add_signal(s, a.principal, bank_id, SignalIn(signal_type="sha256", value=SHA))
    return bank_id, sig.id


probe("GET", "/api/v1/banks", role="supervisor")(
    lambda s, a: Case(marker="owner-only-bank-marker") if _bank(s, a) else Case()
)
probe("POST", "/api/v1/banks", role="supervisor", kind="self")(
    lambda s, a: Case(body={"name": "probe bank", "kind": "known", "tlp": "AMBER"})
)
probe("GET", "/api/v1/banks/{bank_id}", role="supervisor")(
    lambda s, a: Case(params={"bank_id": _bank(s, a)}, marker="owner-only-bank-marker")
)


@probe("GET", "/api/v1/banks/{bank_id}/signals", role="supervisor")
def _signals(s: Session, a: Actor) -> Case:
    bank_id, _ = _bank_with_signal(s, a)
    return Case(params={"bank_id": bank_id}, marker=SHA)


probe("POST", "/api/v1/banks/{bank_id}/signals", role="supervisor")(
    lambda s, a: Case(
        params={"bank_id": _bank(s, a)}, body={"signal_type": "sha256", "value": "cd" * 32}
    )
)


@probe("PATCH", "/api/v1/banks/{bank_id}/signals/{signal_id}", role="supervisor")
def _patch(s: Session, a: Actor) -> Case:
    bank_id, signal_id = _bank_with_signal(s, a)
    return Case(params={"bank_id": bank_id, "signal_id": signal_id}, body={"enabled": False})


probe("POST", "/api/v1/banks/{bank_id}/import", role="supervisor")(
    lambda s, a: Case(
        params={"bank_id": _bank(s, a)},
        query={"format": "csv"},
        files={"file": ("s.csv", b"signal_type,value\nsha256," + b"ef" * 32 + b"\n", "text/csv")},
    )
)


probe("POST", "/api/v1/banks/{bank_id}/media", role="supervisor")(
    lambda s, a: Case(
        params={"bank_id": _bank(s, a)},
        files={"file": ("p.txt", b"owner-only synthetic text, long enough to hash", "text/plain")},
    )
)


@probe("GET", "/api/v1/banks/{bank_id}/export", role="supervisor")
def _export(s: Session, a: Actor) -> Case:
    bank_id, _ = _bank_with_signal(s, a)
    return Case(params={"bank_id": bank_id}, query={"format": "json"}, marker=SHA)


@probe("POST", "/api/v1/match", role="supervisor", kind="self")
def _match(s: Session, a: Actor) -> Case:
    # B matching A's private hash must not learn that A's bank holds it.
    _bank_with_signal(s, a)
    return Case(body={"signal_type": "sha256", "value": SHA}, marker="owner-only-bank-marker")


# --- match review (API) --------------------------------------------------------------------
def _match(s: Session, a: Actor) -> int:
    from tests.matching.factories import agency_bank, make_match

    bank = agency_bank(s, a.agency.id, name="owner-only-match-bank-marker")
    return make_match(s, a, bank=bank, labels={"group": "owner-only-label-marker"}).id


probe("GET", "/api/v1/matches")(
    lambda s, a: Case(marker="owner-only-label-marker") if _match(s, a) else Case()
)
probe("POST", "/api/v1/matches/{result_id}/review")(
    lambda s, a: Case(params={"result_id": _match(s, a)}, body={"decision": "rejected"})
)


# --- pages: banks and matches ----------------------------------------------------------------
probe("GET", "/banks", role="supervisor")(
    lambda s, a: Case(marker="owner-only-bank-marker") if _bank(s, a) else Case()
)
probe("POST", "/banks", role="supervisor", kind="self")(lambda s, a: Case())
probe("GET", "/banks/{bank_id}", role="supervisor")(
    lambda s, a: Case(params={"bank_id": _bank(s, a)}, marker="owner-only-bank-marker")
)
probe("POST", "/banks/{bank_id}/import", role="supervisor")(
    lambda s, a: Case(
        params={"bank_id": _bank(s, a)},
        files={
            "file": ("s.csv", b"signal_type,value\nsha256," + b"ef" * 32 + b"\n", "text/csv"),
            "format": (None, b"csv"),
        },
    )
)


probe("POST", "/banks/{bank_id}/media", role="supervisor")(
    lambda s, a: Case(
        params={"bank_id": _bank(s, a)},
        files={"media": ("p.txt", b"owner-only synthetic text, long enough to hash", "text/plain")},
    )
)


@probe("POST", "/banks/{bank_id}/signals/{signal_id}/enabled", role="supervisor")
def _page_toggle(s: Session, a: Actor) -> Case:
    bank_id, signal_id = _bank_with_signal(s, a)
    return Case(params={"bank_id": bank_id, "signal_id": signal_id})


probe("GET", "/matches")(
    lambda s, a: Case(marker="owner-only-label-marker") if _match(s, a) else Case()
)
probe("POST", "/matches/{result_id}/review")(lambda s, a: Case(params={"result_id": _match(s, a)}))
