"""The copy of a cross-border removal order to the host state's competent authority
(TCO Art. 4(1)): queued when the order is delivered, then sent as a delivery of its own.

When the issuing authority's Member State is not the one of the provider's main
establishment (or legal representative), the order is copied *simultaneously* to the
competent authority of that state, which may scrutinise it within 72 hours (Art. 4(3)-(4)).
Annex I Section D says so (``annex``); this module makes it true:

- ``queue`` (called by ``delivery.finish`` in the transaction that records the order's
  delivery, so by the one sender that delivered it) adds a ``Delivery`` of kind
  ``host_copy``: channel ``email``, idempotency key ``REFERENCE:host-copy`` (so the
  Message-ID ``<REFERENCE.host-copy@domain>`` is the same on every attempt), to the
  authority's contact point from the registry (``platforms.authorities``). Without a
  confirmed e-mail contact point it is recorded ``not_sent`` with the reason, and the
  order is not held back;
- the delivery job (``delivery.deliver_due``, after every order of the round) and "Send
  now" (after the order) send it through the e-mail channel with the frozen order document
  and its attachments; claims, retries, backoff and the record of every attempt are the
  order's (``delivery.claim``/``send``/``finish``);
- a copy not sent for want of a contact point is queued by the next delivery round once
  the registry has one (``requeue_not_sent``);
- "Send copy" (``delivery.send_copy``: page, API, CLI) sends one not sent or given up,
  once a contact point is recorded;
- ``state`` says where it stands (the batch page, the API, ``takedown refer show``).

A ToS referral, a domestic order, a cancelled order and an order never sent get no copy.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from takedown.accounts.models import Agency
from takedown.accounts.service import SYSTEM
from takedown.audit.service import record
from takedown.db import serialize
from takedown.kit import countries
from takedown.kit.clock import Clock, SystemClock
from takedown.platforms.authorities import EU_MEMBER_STATES, for_state
from takedown.referrals import repository
from takedown.referrals.models import (
    Delivery,
    DeliveryKind,
    DeliveryStatus,
    Referral,
    ReferralKind,
    ReferralStatus,
)
from takedown.referrals.platforms import lookup

CHANNEL = "email"
WHERE_TO_SET = (
    "set it in Administration → TCO authorities: the next delivery round sends it (or Send copy)"
)
LABEL = "Copy to host state (Art. 4)"


def idempotency_key(ref: Referral) -> str:
    return f"{ref.reference}:host-copy"


@dataclass(frozen=True, slots=True)
class Recipient:
    """The host state's authority and the address a copy goes to (None: why not)."""

    country: str
    authority: str  # "An Garda Síochána (IE)", or "the competent authority of Ireland (IE)"
    address: str | None
    reason: str  # why there is no address ("" when there is one)


def recipient(session: Session, country: str) -> Recipient:
    """Where a copy to ``country``'s authority goes now: its contact point, if the registry
    has it confirmed and it is an e-mail address (the copy is sent by e-mail)."""
    host = for_state(session, country)
    code = host.country
    authority = (
        f"{host.name} ({code})"
        if host.name
        else f"the competent authority of {countries.country_name(code)} ({code})"
    )
    contact = (host.contact_point or "").strip()
    if not host.name or not contact or not host.confirmed:
        return Recipient(code, authority, None, f"no confirmed contact point for {authority}")
    if "@" not in contact or contact.startswith(("http://", "https://")):
        return Recipient(
            code, authority, None,
            f"the contact point of {authority} is not an e-mail address ({contact})",
        )  # fmt: skip
    return Recipient(code, authority, contact, "")


def section_d(ref: Referral) -> dict[str, object]:
    sections = (ref.annex or {}).get("sections") or {}
    d = sections.get("D") or {}
    return d if isinstance(d, dict) else {}


def host_state(session: Session, ref: Referral) -> str | None:
    """The host state an order is copied to, or None (no copy: a ToS referral, a domestic
    order). From the frozen Section D once issued; from the registries before."""
    if ref.kind != ReferralKind.REMOVAL_ORDER.value:
        return None
    d = section_d(ref)
    if "copy_to_host_state" in d:
        return str(d.get("host_state") or "") or None if d["copy_to_host_state"] else None
    agency = session.get(Agency, ref.agency_id)
    info = lookup(session, ref.platform)
    if agency is None or not info.country or info.country == agency.country.upper():
        return None
    return info.country


def queue(session: Session, ref: Referral, *, clock: Clock | None = None) -> Delivery | None:
    """The copy's delivery for a delivered cross-border order (one per order: an existing
    one is returned). Pending with the authority's address, or ``not_sent`` with the reason
    when the registry has no confirmed e-mail contact point. None: no copy applies."""
    country = host_state(session, ref)
    if country is None or country not in EU_MEMBER_STATES:
        return None
    serialize(session, f"referrals.host_copy:{ref.id}")
    existing = repository.delivery_for(session, ref.id, DeliveryKind.HOST_COPY.value)
    if existing is not None:
        return existing
    now = (clock or SystemClock()).now()
    to = recipient(session, country)
    row = Delivery(
        referral_id=ref.id,
        kind=DeliveryKind.HOST_COPY.value,
        channel=CHANNEL,
        status=DeliveryStatus.PENDING.value if to.address else DeliveryStatus.NOT_SENT.value,
        idempotency_key=idempotency_key(ref),
        recipient=to.address or "",
        last_error=to.reason,
        next_attempt_at=now,
        created_at=now,
    )
    repository.add(session, row)
    record(
        session, SYSTEM,
        "referral.host_copy_queued" if to.address else "referral.host_copy_not_sent",
        "referral", ref.id,
        {"host_state": country, "authority": to.authority, "to": to.address,
         "reason": to.reason or None},
        clock=clock,
    )  # fmt: skip
    return row


def requeue_not_sent(session: Session, *, clock: Clock | None = None) -> list[int]:
    """Queue every copy recorded ``not_sent`` whose host state's authority now has a
    confirmed e-mail contact point; the ids of the referrals whose copy was queued.

    Art. 4(1) asks for the copy at the same time as the order: once the contact point is
    recorded, the copy goes in the next delivery round without waiting for someone to
    press "Send copy" (each queued one gets a ``referral.host_copy_queued`` event saying
    so). A copy that failed with an address (``gave_up``) is not re-sent by itself: why it
    failed is for a person to look at ("Send copy"). A copy someone is sending right now
    is left to them (``reopen_copy`` is a compare-and-set)."""
    now = (clock or SystemClock()).now()
    queued: list[int] = []
    for row in repository.not_sent_copies(session):
        ref = session.get(Referral, row.referral_id)
        country = host_state(session, ref) if ref is not None else None
        if ref is None or country is None:
            continue
        to = recipient(session, country)
        if to.address is None:
            continue
        if not repository.reopen_copy(session, row.id, recipient=to.address, now=now):
            continue
        record(
            session, SYSTEM, "referral.host_copy_queued", "referral", ref.id,
            {"host_state": country, "authority": to.authority, "to": to.address,
             "reason": "the contact point was recorded after the order was sent"},
            clock=clock,
        )  # fmt: skip
        queued.append(ref.id)
    return queued


@dataclass(frozen=True, slots=True)
class HostCopyState:
    """Where a batch's Art. 4(1) copy stands, for the page, the API and the CLI.

    ``status``: ``not_applicable`` | ``waiting`` (the order is not sent yet) | ``pending``
    (queued or being retried) | ``sent`` | ``failed`` (given up) | ``not_sent`` (no contact
    point: "Send copy" once it is set).
    """

    status: str
    host_state: str | None = None
    authority: str | None = None
    recipient: str | None = None
    sent_at: dt.datetime | None = None
    attempts: int = 0
    next_attempt_at: dt.datetime | None = None
    reason: str = ""
    can_send: bool = False  # "Send copy" applies (not sent, or given up)
    warn: bool = False  # the page shows it as a warning

    @property
    def message(self) -> str:
        if self.status == "not_applicable":
            return f"{LABEL}: not applicable ({self.reason})"
        if self.status == "waiting":
            if self.recipient:
                return f"{LABEL}: to be sent with the order to {self.authority} <{self.recipient}>"
            return (
                f"{LABEL}: will not be sent with the order — {self.reason}; set it in "
                "Administration → TCO authorities before the order goes out (the order "
                "itself is sent regardless)"
            )
        if self.status == "pending":
            tail = f"; last error: {self.reason}" if self.reason else ""
            when = f"{self.next_attempt_at:%Y-%m-%d %H:%M} UTC" if self.next_attempt_at else "now"
            return (
                f"{LABEL}: pending to {self.authority} <{self.recipient}> — "
                f"{self.attempts} attempt(s) so far, next {when}{tail}"
            )
        if self.status == "sent":
            at = f" at {self.sent_at:%Y-%m-%d %H:%M} UTC" if self.sent_at else ""
            return f"{LABEL}: sent{at} to {self.authority} <{self.recipient}>"
        if self.status == "failed":
            return (
                f"{LABEL}: failed after {self.attempts} attempt(s) to {self.authority} "
                f"<{self.recipient}> — {self.reason}; Send copy tries again"
            )
        return f"{LABEL}: not sent — {self.reason}; {WHERE_TO_SET}"


def state(session: Session, ref: Referral) -> HostCopyState:
    if ref.kind != ReferralKind.REMOVAL_ORDER.value:
        return HostCopyState("not_applicable", reason="a referral, not a removal order")
    country = host_state(session, ref)
    if country is None:
        return HostCopyState(
            "not_applicable", reason="the platform is established in the issuing Member State"
        )
    if country not in EU_MEMBER_STATES:
        return HostCopyState(
            "not_applicable", host_state=country, warn=True,
            reason=f"{countries.country_name(country)} ({country}), the platform's recorded "
            "state, is not an EU Member State: no authority there receives copies under "
            "Art. 4; record on the platform the Member State of its main establishment or "
            "legal representative",
        )  # fmt: skip
    if ref.status == ReferralStatus.CANCELLED.value:
        return HostCopyState("not_applicable", host_state=country, reason="the order was cancelled")
    to = recipient(session, country)
    if ref.status in (
        ReferralStatus.DRAFT.value,
        ReferralStatus.PENDING_APPROVAL.value,
        ReferralStatus.APPROVED.value,
    ):
        return HostCopyState(
            "waiting", country, to.authority, to.address, reason=to.reason,
            warn=to.address is None,
        )  # fmt: skip
    if ref.sent_at is None:
        return HostCopyState("not_applicable", host_state=country, reason="the order was not sent")
    row = repository.delivery_for(session, ref.id, DeliveryKind.HOST_COPY.value)
    if row is None:  # delivered before takedown sent copies
        return HostCopyState(
            "not_sent", country, to.authority, None,
            reason="no copy is on record (the order went out before takedown sent copies)",
            can_send=True, warn=True,
        )  # fmt: skip
    base = HostCopyState(
        "not_sent", country, to.authority, row.recipient or None, attempts=row.attempts
    )
    if row.status in (DeliveryStatus.DELIVERED.value, DeliveryStatus.ACKNOWLEDGED.value):
        return replace(base, status="sent", sent_at=row.acknowledged_at)
    if row.status == DeliveryStatus.PENDING.value:
        return replace(
            base, status="pending", next_attempt_at=row.next_attempt_at, reason=row.last_error
        )
    if row.status == DeliveryStatus.GAVE_UP.value:
        return replace(base, status="failed", reason=row.last_error, can_send=True, warn=True)
    return replace(base, reason=row.last_error or to.reason, can_send=True, warn=True)
