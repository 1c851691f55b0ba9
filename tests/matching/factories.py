"""Rows for the matching tests."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.matching import service
from takedown.matching.engine import MatchingEngine
from takedown.matching.models import Bank, MatchResult, Signal
from takedown.matching.schemas import BankCreate
from tests.factories import Actor, make_actor

_seq = itertools.count(1)


def make_bank(
    session: Session,
    actor: Actor | Principal,
    *,
    name: str | None = None,
    kind: str = "known",
    tlp: str = "AMBER",
    shared: bool = False,
    thresholds: dict[str, int] | None = None,
) -> Bank:
    principal = actor.principal if isinstance(actor, Actor) else actor
    return service.create_bank(
        session,
        principal,
        BankCreate(
            name=name or f"bank {next(_seq)}",
            kind=kind,  # type: ignore[arg-type]
            tlp=tlp,  # type: ignore[arg-type]
            shared=shared,
            thresholds=thresholds or {},
        ),
    )


def make_supervisor(session: Session, agency: object | None = None) -> Actor:
    return make_actor(session, agency, role="supervisor")  # type: ignore[arg-type]


def agency_bank(
    session: Session,
    agency_id: int,
    *,
    name: str | None = None,
    tlp: str = "AMBER",
    shared: bool = False,
) -> Bank:
    """A bank of ``agency_id``, made by the system (no supervisor needed)."""
    data = BankCreate(name=name or f"bank {next(_seq)}", tlp=tlp, shared=shared)  # type: ignore[arg-type]
    return service.create_bank(session, SYSTEM, data, agency_id=agency_id)


def make_match(
    session: Session,
    actor: Actor,
    *,
    bank: Bank | None = None,
    labels: dict[str, str] | None = None,
    tlp: str | None = None,
    distance: int = 0,
    item_url: str | None = None,
) -> MatchResult:
    """A match result of ``actor``'s agency: an item of theirs matched a signal of ``bank``."""
    from takedown.matching import repository
    from takedown.matching.schemas import Labels, SignalIn
    from tests.items.factories import make_item

    n = next(_seq)
    bank = bank or agency_bank(session, actor.agency.id, name=f"match bank {n}")
    sig = service.add_signal(
        session,
        SYSTEM,
        bank.id,
        SignalIn(
            signal_type="sha256",
            value=f"{n:064x}",
            labels=Labels(**(labels or {"group": f"Synthetic group {n}"})),
            tlp=tlp,  # type: ignore[arg-type]
            source="test",
        ),
    )
    item = make_item(session, actor, url=item_url or f"https://x.com/match_{n}/status/{5_000 + n}")
    row = MatchResult(
        item_id=item.id,
        agency_id=actor.agency.id,
        signal_id=sig.id,
        bank_id=bank.id,
        signal_type="sha256",
        distance=distance,
        variant="original",
        media_sha256=sig.value,
        details={"labels": dict(sig.labels), "bank": bank.name},
    )
    repository.add(session, row)
    return row


def enrolled_videos(
    session: Session, seeds: tuple[int, ...], *, seconds: float = 3.0
) -> tuple[MatchingEngine, Actor, dict[int, list[Signal]]]:
    """A supervisor's bank holding the testbed's clip of each seed (``add_media``, as the
    bank page does): the engine, the supervisor and each seed's signals."""
    from tests.matching import media

    engine = MatchingEngine(sync_interval=0.0)
    sup = make_supervisor(session)
    bank = make_bank(session, sup)
    signals = {
        seed: service.add_media(
            session, sup.principal, bank.id, media.video(seed, seconds=seconds), engine=engine
        )
        for seed in seeds
    }
    return engine, sup, signals


def signal_of(signals: list[Signal], signal_type: str) -> Signal:
    return next(s for s in signals if s.signal_type == signal_type)
