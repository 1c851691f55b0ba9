"""Every delivery attempt on record with its own time (#19.6), and the same idempotency key
on every channel across attempts (#12.1): a sender killed mid-send leaves its attempt
marked interrupted, and the retry is a second attempt, not a rewrite of the first."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from takedown.config import Settings
from takedown.kit.clock import FrozenClock
from takedown.referrals import delivery, repository, service
from takedown.referrals.channels.base import Attempt, Envelope
from takedown.referrals.channels.email import EmailChannel
from takedown.referrals.channels.registry import ChannelRegistry
from takedown.referrals.models import DeliveryStatus
from tests.referrals.factories import ensure_platform, make_team, x_item


class Killed(BaseException):
    """Stands for SIGKILL while the platform's answer is awaited."""


class FlakyPortal:
    """The portal: the first call never returns (the sender dies), later ones succeed."""

    name = "portal"

    def __init__(self) -> None:
        self.keys: list[str] = []

    def deliver(self, envelope: Envelope) -> Attempt:
        self.keys.append(envelope.idempotency_key)
        if len(self.keys) == 1:
            raise Killed
        return Attempt(True, detail="published on the portal")


def test_an_interrupted_attempt_stays_on_record_and_the_retry_has_its_own_time(
    committing_db: tuple[Session, sessionmaker[Session]], tmp_path: Path
) -> None:
    session, factory = committing_db
    ensure_platform(session, "x", channel="portal")
    team = make_team(session)
    item = x_item(session, team.analyst)
    [res] = service.create_batches(
        session, team.analyst.principal, item_ids=[item.id], kind="tos", channel="portal"
    )
    service.submit(session, team.analyst.principal, res.referral.id)
    session.commit()
    settings = Settings(
        data_dir=tmp_path, capture_before_referral=False, check_before_referral=False
    )
    t0 = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    clock = FrozenClock(t0)
    portal = FlakyPortal()
    channels = ChannelRegistry([portal])
    with pytest.raises(Killed):
        delivery.deliver_due(factory, settings, channels, clock=clock)
    # While the dead sender's claim lasts, nobody sends the batch again...
    clock.advance(dt.timedelta(minutes=1))
    assert delivery.deliver_due(factory, settings, channels, clock=clock).attempted == 0
    # ...and once it has lapsed (or a restart released it), the retry goes out.
    t1 = clock.advance(delivery.SENDER_LEASE)
    rep = delivery.deliver_due(factory, settings, channels, clock=clock)
    assert rep.attempted == rep.delivered == 1
    session.expire_all()
    d = repository.delivery_for(session, res.referral.id)
    assert d is not None and d.status == DeliveryStatus.DELIVERED.value and d.attempts == 2
    first, second = repository.attempts_of(session, d.id)
    assert (first.at, first.ok, first.finished_at) == (t0, False, t1)
    assert first.detail.startswith("interrupted")
    assert (second.at, second.ok) == (t1, True)
    assert portal.keys == [d.idempotency_key, d.idempotency_key]
    ref = repository.get(session, res.referral.id)
    assert ref is not None and ref.sent_at == t1  # the attempt that got through


def test_the_e_mail_message_id_is_the_same_on_every_attempt() -> None:
    from takedown.referrals.platforms import PlatformInfo

    channel = EmailChannel("smtp://127.0.0.1:2525?from=iru@agency.example", attach_pdf=False)
    platform = PlatformInfo("x", "X", "IE", "X Legal", "tco@x.example", "email", None,
                            "tco@x.example")  # fmt: skip

    def env(attempt: int) -> Envelope:
        return Envelope(
            referral_id=1, reference="FR-1-REF-2026-000001", kind="tos", platform=platform,
            agency="A", agency_contact="a@example.invalid", urls=["https://x.com/a/status/1"],
            document={}, payload={}, idempotency_key="FR-1-REF-2026-000001:email",
            attempt=attempt, html=lambda: "", pdf=lambda: b"", csv=lambda: "",
        )  # fmt: skip

    ids = {channel.message(env(n))["Message-ID"] for n in (1, 2, 3)}
    assert ids == {"<FR-1-REF-2026-000001.email@agency.example>"}
