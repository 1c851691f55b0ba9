"""What a batch's page and the API read go through the service (``list_referrals``,
``delivery_record``), which applies who may see what; the split of the service
(``access``, ``issuing``) keeps every public name importable from ``service``."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from takedown.kit.errors import NotFound
from takedown.referrals import access, api, delivery, issuing, service, views
from takedown.referrals.channels.portal import PortalChannel
from takedown.referrals.channels.registry import ChannelRegistry
from tests.factories import make_actor, make_agency
from tests.referrals.factories import ensure_platform, make_team, x_item


def test_delivery_record_and_listing_follow_visibility(db_session: Session) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x", channel="portal")
    [res] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[x_item(db_session, team.analyst).id],
        kind="tos", channel="portal",
    )  # fmt: skip
    rid = res.referral.id
    assert service.delivery_record(db_session, team.analyst.principal, rid) is None  # a draft
    service.submit(db_session, team.analyst.principal, rid)
    delivery.run_due(db_session, ChannelRegistry([PortalChannel()]))
    record = service.delivery_record(db_session, team.supervisor.principal, rid)
    assert record is not None and record.delivery.referral_id == rid
    assert [a.ok for a in record.attempts] == [True]
    liaison = make_actor(
        db_session, make_agency(db_session, kind="platform", platform_slug="x"), role="liaison"
    )
    assert service.delivery_record(db_session, liaison.principal, rid) is None  # not our retries
    stranger = make_team(db_session).analyst
    with pytest.raises(NotFound):
        service.delivery_record(db_session, stranger.principal, rid)
    rows, total = service.list_referrals(db_session, team.analyst.principal, status="sent")
    assert total == 1 and rows[0].id == rid
    assert service.list_referrals(db_session, stranger.principal)[1] == 0
    assert [r.id for r in service.list_referrals(db_session, liaison.principal)[0]] == [rid]


def test_pages_and_api_read_no_repository() -> None:
    """Layering (docs/architecture.md): routes call the service, never the repository."""
    for module in (views, api):
        tree = ast.parse(Path(inspect.getfile(module)).read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        assert "repository" not in names, module.__name__


def test_split_keeps_the_public_names_and_the_size() -> None:
    for name in ("submit", "approve", "reject", "cancel", "mark_delivered"):
        assert getattr(service, name) is getattr(issuing, name)
    assert service.get_referral is access.get_referral
    assert service.own_referral is access.own_referral
    assert service.DEADLINE == issuing.DEADLINE and service.PRIOR_NOTICE == issuing.PRIOR_NOTICE
    for module in (service, issuing, access):
        lines = Path(inspect.getfile(module)).read_text().count("\n")
        assert lines < 500, (module.__name__, lines)


@pytest.mark.parametrize(
    ("ack", "batch", "job"),
    [(None, "sent", "delivered"), ("ACK-7", "acknowledged", "acknowledged")],
)
def test_batch_and_delivery_agree_on_acknowledgement(
    db_session: Session, ack: str | None, batch: str, job: str
) -> None:
    """TCO Art. 3 records when an order is received; "acknowledged" means the platform
    confirmed receipt with a reference (its API's case id). The portal returns none: the
    batch is sent and its delivery delivered, where the delivery used to say acknowledged."""
    from takedown.referrals.channels.base import Attempt, Envelope

    class Channel:
        name = "portal"

        def deliver(self, envelope: Envelope) -> Attempt:
            return Attempt(True, ack_reference=ack, detail="handed over")

    team = make_team(db_session)
    ensure_platform(db_session, "x", channel="portal")
    [res] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[x_item(db_session, team.analyst).id],
        kind="tos", channel="portal",
    )  # fmt: skip
    service.submit(db_session, team.analyst.principal, res.referral.id)
    rep = delivery.run_due(db_session, ChannelRegistry([Channel()]))
    assert rep.delivered == 1 and rep.acknowledged == (1 if ack else 0)
    record = service.delivery_record(db_session, team.analyst.principal, res.referral.id)
    assert record is not None
    assert (res.referral.status, record.delivery.status) == (batch, job)
    assert res.referral.received_at is not None  # the 1-hour clock runs either way
    # Done either way: not picked again, and "Send now" refuses.
    assert delivery.run_due(db_session, ChannelRegistry([Channel()])).attempted == 0


def test_the_real_portal_channel_leaves_the_batch_sent(db_session: Session) -> None:
    team = make_team(db_session)
    ensure_platform(db_session, "x", channel="portal")
    [res] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[x_item(db_session, team.analyst).id],
        kind="tos", channel="portal",
    )  # fmt: skip
    service.submit(db_session, team.analyst.principal, res.referral.id)
    delivery.run_due(db_session, ChannelRegistry([PortalChannel()]))
    record = service.delivery_record(db_session, team.analyst.principal, res.referral.id)
    assert record is not None and record.delivery.ack_reference is None
    assert (res.referral.status, record.delivery.status) == ("sent", "delivered")
