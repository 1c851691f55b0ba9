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
