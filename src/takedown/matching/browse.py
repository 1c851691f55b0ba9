"""Paged reads of banks and signals for the pages (the API keeps its own shapes).

The same rules as ``service``: an agency reads its own banks, CLEAR/GREEN
banks and shared non-RED ones, and never another agency's TLP:RED signal,
even inside a bank it may read.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.kit.errors import NotFound
from takedown.matching import repository as repo
from takedown.matching import service
from takedown.matching.models import Bank, Signal


def page_banks(
    session: Session, actor: Principal, *, limit: int, offset: int
) -> tuple[list[Bank], int]:
    return repo.page_visible_banks(session, service._agency_of(actor), limit=limit, offset=offset)


def page_signals(
    session: Session, actor: Principal, bank: Bank, *, limit: int, offset: int
) -> tuple[list[Signal], int]:
    agency = service._agency_of(actor)
    hide = None if agency is None or bank.agency_id == agency else bank
    return repo.list_signals(session, bank.id, limit=limit, offset=offset, hide_red_of=hide)


def may_change(actor: Principal, bank: Bank) -> bool:
    """Whether the page offers changes: the owning agency's analysts and supervisors."""
    return bank.agency_id == actor.agency_id and actor.role.value in (
        "analyst",
        "supervisor",
        "admin",
    )


def signal_in_bank(session: Session, bank: Bank, signal_id: int) -> Signal:
    sig = repo.get_signal(session, signal_id)
    if sig is None or sig.bank_id != bank.id:
        raise NotFound(f"no signal {signal_id} in bank {bank.id}")
    return sig
