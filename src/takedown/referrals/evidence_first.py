"""Evidence first: capture a batch's items before its first delivery attempt.

With the setting ``capture_before_referral`` on, an item is preserved (WARC, media,
text; ``takedown.evidence``) before the platform is told about it and may remove it.
Both ways a batch goes out call ``capture_before_sending``: the delivery job
(``delivery.deliver_due``) and an analyst's "Send now" (``delivery.send_now_with_evidence``),
so the two cannot drift apart again ("Send now" once skipped the capture).

A failed capture never holds a referral back: it is a capture row with status
``failed`` and its reason, and the batch is sent. Referrals do not import evidence at
module level (the capability may be left out of a build); without it nothing is captured.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts import service as accounts
from takedown.accounts.principal import Principal
from takedown.config import Settings
from takedown.db import session_scope
from takedown.referrals import repository
from takedown.referrals.models import ItemState

log = logging.getLogger("takedown.referrals")

#: ``(session factory, principal, item ids, settings) -> anything``; evidence's
#: ``capture_items`` by default. Tests may swap it.
CaptureFn = Callable[[sessionmaker[Session], Principal, list[int], Settings], object]


@dataclass(frozen=True, slots=True)
class CaptureTask:
    referral_id: int
    principal: Principal
    item_ids: list[int]


def plan(
    session: Session, referral_ids: Sequence[int], *, actor: Principal | None = None
) -> list[CaptureTask]:
    """What to capture, as whom: the included items of each batch not yet attempted.

    The capture is the batch author's act (their agency's evidence, their audit trail);
    a batch without an author (made by the system) is captured as ``actor``, if given.
    """
    tasks: list[CaptureTask] = []
    for rid in dict.fromkeys(referral_ids):
        delivery = repository.delivery_for(session, rid)
        ref = repository.get(session, rid)
        if delivery is None or delivery.attempts or ref is None:
            continue
        ids = [ri.item_id for ri, _ in repository.items_of(session, rid)
               if ri.state == ItemState.INCLUDED.value]  # fmt: skip
        if not ids:
            continue
        if ref.author_id is not None:
            user = accounts.get_user(session, ref.author_id)
            agency = accounts.get_agency(session, user.agency_id)
            principal = accounts.principal_for(user, agency, via="job")
        elif actor is not None:
            principal = actor
        else:
            continue
        tasks.append(CaptureTask(rid, principal, ids))
    return tasks


def _evidence_capture() -> CaptureFn | None:
    try:
        from takedown.evidence.capturing import capture_items
    except ImportError:  # evidence not installed in this build
        return None

    def capture(
        factory: sessionmaker[Session], principal: Principal, ids: list[int], settings: Settings
    ) -> object:
        return capture_items(factory, principal, ids, settings=settings)

    return capture


def capture_before_sending(
    factory: sessionmaker[Session],
    settings: Settings,
    referral_ids: Sequence[int],
    *,
    actor: Principal | None = None,
    capture: CaptureFn | None = None,
) -> list[CaptureTask]:
    """Capture the items of these batches that have had no delivery attempt yet.

    Opens its own short transactions (the capture's network part runs outside any), so
    call it while no transaction of the caller's holds a write lock. Returns what it
    tried; never raises for a failed capture.
    """
    if not settings.capture_before_referral or not referral_ids:
        return []
    with session_scope(factory) as session:
        tasks = plan(session, referral_ids, actor=actor)
    run = capture or _evidence_capture()
    if run is None:
        return []
    for task in tasks:
        try:
            run(factory, task.principal, task.item_ids, settings)
        except Exception:  # never block the referral
            log.exception("evidence capture before referral %s failed", task.referral_id)
    return tasks
