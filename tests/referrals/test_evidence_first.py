"""Evidence first, on the testbed: with ``capture_before_referral`` on, both ways a batch
goes out (the delivery job and the batch page's "Send now") capture its items before the
first attempt, through the one function ``evidence_first.capture_before_sending``.
"Send now" used to skip the capture."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from takedown.config import Settings
from takedown.evidence.models import EvidenceCapture
from takedown.referrals import delivery, repository, service
from takedown.referrals.channels.portal import PortalChannel
from takedown.referrals.channels.registry import ChannelRegistry
from takedown.referrals.models import DeliveryAttempt, Referral
from tests.factories import Actor
from tests.items.factories import make_assessed_item
from tests.referrals.factories import ensure_platform, make_team

pytestmark = pytest.mark.slow
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def sim() -> Iterator[Any]:
    from takedown.sim.harness import running_sim

    with running_sim("small") as s:
        yield s


@pytest.fixture
def sim_settings(settings: Settings, sim: Any) -> Settings:
    """The testbed's resolver map and CA, so captures reach the simulated platforms."""
    return settings.model_copy(
        update={
            "resolve": sim.resolve,
            "ca_bundle": sim.ca_path,
            "tor_proxy": sim.tor_proxy,
            "capture_before_referral": True,
        }
    )


def _live_x_url(sim: Any) -> str:
    posts = [
        it
        for it in sim.items(platform="x", alive=True)
        if it["access"] == "public" and it["kind"] == "post"
    ]
    assert posts, "small.yaml has public X posts"
    return str(posts[0]["url"])


def _approved_batch(session: Session, analyst: Actor, url: str) -> tuple[int, int]:
    """(referral id, item id): a ToS referral of one testbed item, queued for the portal."""
    ensure_platform(session, "x", channel="portal")
    item = make_assessed_item(session, analyst, url=url)
    [res] = service.create_batches(
        session, analyst.principal, item_ids=[item.id], kind="tos", channel="portal"
    )
    service.submit(session, analyst.principal, res.referral.id)
    session.commit()
    return res.referral.id, item.id


def _captures(session: Session, item_id: int) -> list[EvidenceCapture]:
    session.expire_all()
    return list(
        session.scalars(select(EvidenceCapture).where(EvidenceCapture.item_id == item_id)).all()
    )


def _attempt_at(session: Session, referral_id: int) -> Any:
    d = repository.delivery_for(session, referral_id)
    assert d is not None
    [attempt] = session.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == d.id)
    ).all()
    return attempt.at


@pytest.mark.parametrize("capture_on", [True, False])
def test_send_now_captures_evidence_first(
    app_factory: Any, db_session: Session, sim: Any, sim_settings: Settings, capture_on: bool
) -> None:
    team = make_team(db_session)
    rid, item_id = _approved_batch(db_session, team.analyst, _live_x_url(sim))
    overrides = sim_settings.model_dump(include={"resolve", "ca_bundle", "tor_proxy"})
    app = app_factory(**overrides, capture_before_referral=capture_on)
    with TestClient(app, raise_server_exceptions=False) as web:
        r = web.post(
            f"/referrals/{rid}/deliver",
            headers={**HTML, **team.analyst.headers},
            follow_redirects=False,
        )
        assert r.status_code == 303
        page = web.get(r.headers["location"], headers={**HTML, **team.analyst.headers})
    assert "Sent and received by the platform" in page.text
    captures = _captures(db_session, item_id)
    if not capture_on:
        assert captures == []
        return
    [cap] = captures
    assert cap.status == "complete", cap.failure_reason
    assert cap.agency_id == team.analyst.agency.id  # the batch author's agency's evidence
    assert cap.requested_by == team.analyst.user.id
    assert cap.captured_at is not None and cap.captured_at <= _attempt_at(db_session, rid)
    ref = db_session.get(Referral, rid)
    assert ref is not None and ref.sent_at is not None


def test_send_now_refused_captures_nothing(
    app_factory: Any, db_session: Session, sim: Any, sim_settings: Settings
) -> None:
    """A batch that may not go yet (a draft here) is not captured either."""
    team = make_team(db_session)
    ensure_platform(db_session, "x", channel="portal")
    item = make_assessed_item(db_session, team.analyst, url=_live_x_url(sim))
    [res] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[item.id], kind="tos", channel="portal"
    )
    db_session.commit()
    overrides = sim_settings.model_dump(include={"resolve", "ca_bundle", "tor_proxy"})
    with TestClient(app_factory(**overrides), raise_server_exceptions=False) as web:
        r = web.post(
            f"/referrals/{res.referral.id}/deliver",
            headers={**HTML, **team.analyst.headers},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert (
            "not approved"
            in web.get(r.headers["location"], headers=HTML | team.analyst.headers).text
        )
    assert _captures(db_session, item.id) == []


def test_the_delivery_job_captures_through_the_same_function(
    db_session: Session,
    session_factory: sessionmaker[Session],
    sim: Any,
    sim_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from takedown.referrals import evidence_first

    calls: list[list[int]] = []
    shared = evidence_first.capture_before_sending

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(list(args[2]))
        return shared(*args, **kwargs)

    monkeypatch.setattr(delivery, "capture_before_sending", spy)
    team = make_team(db_session)
    rid, item_id = _approved_batch(db_session, team.analyst, _live_x_url(sim))
    report = delivery.deliver_due(
        session_factory, sim_settings, ChannelRegistry([PortalChannel()]), limit=1000
    )
    assert report.delivered >= 1 and rid in calls[0]
    [cap] = _captures(db_session, item_id)
    assert cap.status == "complete", cap.failure_reason
    assert cap.captured_at is not None and cap.captured_at <= _attempt_at(db_session, rid)
    # A second run finds nothing due and captures nothing again.
    delivery.deliver_due(session_factory, sim_settings, ChannelRegistry([PortalChannel()]))
    assert len(_captures(db_session, item_id)) == 1
