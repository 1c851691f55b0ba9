"""Rows for the matching tests."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.matching import service
from takedown.matching.models import Bank
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
