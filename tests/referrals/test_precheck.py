"""Gone first, on the testbed: what a platform already removed, suspended or withheld is never
sent, never counted as our removal, and shows on the batch with what showed it.

Before ``referrals.precheck`` an order went out with a post whose account the platform had
already suspended ("This Post is from a suspended account" in its evidence); the post then
counted as removed by the referral, 0 minutes after it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from takedown.audit.models import AuditEvent
from takedown.config import Settings
from takedown.items.models import Item
from takedown.referrals import delivery, precheck, repository, service
from takedown.referrals.channels.base import Attempt, Envelope
from takedown.referrals.channels.registry import ChannelRegistry
from takedown.referrals.models import Referral
from takedown.verification.models import Check
from tests.items.factories import make_assessed_item
from tests.referrals.factories import Team, ensure_platform, make_team

pytestmark = pytest.mark.slow
HTML = {"Accept": "text/html"}
JUST = "Synthetic stand-in for official propaganda of a designated group (test)."


@pytest.fixture
def sim() -> Iterator[Any]:
    """A testbed of its own per test: the tests suspend accounts."""
    from takedown.sim.harness import running_sim

    with running_sim("small") as s:
        yield s


@pytest.fixture
def sim_settings(settings: Settings, sim: Any) -> Settings:
    return settings.model_copy(
        update={"resolve": sim.resolve, "ca_bundle": sim.ca_path, "tor_proxy": sim.tor_proxy,
                "capture_before_referral": False}
    )  # fmt: skip


class Recorder:
    """A portal that keeps what it was handed (the URLs and the document as sent)."""

    name = "portal"

    def __init__(self) -> None:
        self.sent: list[Envelope] = []

    def deliver(self, envelope: Envelope) -> Attempt:
        self.sent.append(envelope)
        return Attempt(True, ack_reference=f"ACK-{len(self.sent)}")


def _check(sim: Any) -> precheck.CheckFn:
    return precheck.engine_check(lambda: sim.client(per_host_limit=4), sim.detector_registry())


def _posts(
    sim: Any, n: int, *, access: str = "public", platform: str = "x", kind: str = "post"
) -> list[dict[str, Any]]:
    """Live posts (videos) of distinct, live, public accounts."""
    accounts = {a["id"]: a for a in sim.items(platform=platform, kind="account", alive=True)}
    out: list[dict[str, Any]] = []
    for p in sim.items(platform=platform, kind=kind, alive=True):
        acc = accounts.get(p["parent"])
        if (
            p["access"] != access
            or acc is None
            or acc["access"] != "public"
            or any(q["parent"] == p["parent"] for q in out)
        ):
            continue
        out.append(p)
        if len(out) == n:
            break
    assert len(out) == n, f"small.yaml has {n} live {access} {platform} {kind}s"
    return out


def _suspend(sim: Any, account_id: str) -> None:
    """The platform suspends the account by itself (the testbed's organic removal)."""
    w = sim.world
    sim.call(lambda: w.remove_now(w.items[account_id], int(sim.now().timestamp()), "organic"))


def _batch(
    session: Session, team: Team, urls: list[str], kind: str = "tos", platform: str = "x"
) -> tuple[int, list[Item]]:
    ensure_platform(session, platform, channel="portal")
    items = [make_assessed_item(session, team.analyst, url=u) for u in urls]
    [res] = service.create_batches(
        session, team.analyst.principal, item_ids=[i.id for i in items], kind=kind,
        channel="portal", reasons=["a"] if kind == "removal_order" else [],
        justification=JUST if kind == "removal_order" else "", emergency=True,
    )  # fmt: skip
    service.submit(session, team.analyst.principal, res.referral.id)
    if kind == "removal_order":
        service.approve(session, team.supervisor.principal, res.referral.id)
    session.commit()
    return res.referral.id, items


def _states(session: Session, rid: int) -> dict[int, tuple[str, str]]:
    session.expire_all()
    return {ri.item_id: (ri.state, ri.skip_detail) for ri, _ in repository.items_of(session, rid)}


def test_a_suspended_post_is_not_sent(
    db_session: Session, session_factory: sessionmaker[Session], sim: Any, sim_settings: Settings
) -> None:
    team = make_team(db_session)
    live, suspended = _posts(sim, 2)
    rid, (it_live, it_susp) = _batch(
        db_session, team, [live["url"], suspended["url"]], kind="removal_order"
    )
    _suspend(sim, suspended["parent"])  # the platform acts by itself before we send
    portal = Recorder()
    rep = delivery.deliver_due(
        session_factory, sim_settings, ChannelRegistry([portal]), check=_check(sim)
    )
    assert rep.delivered == 1
    # only the live post went out, in the envelope and in the order's Section B
    [env] = portal.sent
    assert env.urls == [it_live.fetch_url]
    assert [i["item_id"] for i in env.document["sections"]["B"]["items"]] == [it_live.id]
    db_session.expire_all()
    ref = db_session.get(Referral, rid)
    assert ref is not None
    assert [i["item_id"] for i in ref.annex["sections"]["B"]["items"]] == [it_live.id]
    states = _states(db_session, rid)
    assert states[it_live.id][0] == "included"
    state, detail = states[it_susp.id]
    assert state == "already_gone" and "suspended account" in detail and "(removed)" in detail
    # never referred, so never a removal of the referral; the item is marked removed
    live_row, susp_row = db_session.get(Item, it_live.id), db_session.get(Item, it_susp.id)
    assert live_row is not None and live_row.first_referred_at is not None
    assert susp_row is not None and susp_row.first_referred_at is None
    assert susp_row.status == "removed"
    assert service_stats(db_session, ref).items == 1  # the referral's rate: what it carried
    # the evidence: the check, kept like any other, and an audit event naming it
    checks = db_session.scalars(select(Check).where(Check.item_id == it_susp.id)).all()
    assert [c.outcome for c in checks] == ["removed"]
    assert (checks[0].run_id or "").startswith("precheck-")
    [ev] = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "referral.items_gone", AuditEvent.subject_id == str(rid)
        )
    ).all()
    assert [(d["item_id"], d["gone"]) for d in json.loads(ev.details)["items"]] == [
        (it_susp.id, "removed")
    ]


def test_a_withheld_video_is_not_sent(
    db_session: Session, session_factory: sessionmaker[Session], sim: Any, sim_settings: Settings
) -> None:
    """Geo-blocked (HTTP 451) counts as withheld: not sent, and not called removed."""
    team = make_team(db_session)
    [live] = _posts(sim, 1, platform="youtube", kind="video")
    [geo] = _posts(sim, 1, platform="youtube", kind="video", access="geo_blocked")
    rid, (it_live, it_geo) = _batch(db_session, team, [live["url"], geo["url"]], platform="youtube")
    portal = Recorder()
    jobs = ChannelRegistry([portal])
    delivery.deliver_due(session_factory, sim_settings, jobs, check=_check(sim))
    assert [e.urls for e in portal.sent] == [[it_live.fetch_url]]
    state, detail = _states(db_session, rid)[it_geo.id]
    assert state == "already_gone" and "(withheld)" in detail and "HTTP 451" in detail
    geo_row = db_session.get(Item, it_geo.id)
    assert geo_row is not None and geo_row.first_referred_at is None
    assert geo_row.status == "assessed"  # withheld is not removed


def service_stats(session: Session, ref: Referral | None) -> Any:
    from takedown.referrals.stats import referral_stats

    assert ref is not None
    return referral_stats(session, ref)


def test_a_batch_whose_items_are_all_gone_is_not_sent(
    db_session: Session, session_factory: sessionmaker[Session], sim: Any, sim_settings: Settings
) -> None:
    team = make_team(db_session)
    a, b = _posts(sim, 2)
    rid, items = _batch(db_session, team, [a["url"], b["url"]])
    _suspend(sim, a["parent"])
    _suspend(sim, b["parent"])
    portal = Recorder()
    rep = delivery.deliver_due(
        session_factory, sim_settings, ChannelRegistry([portal]), check=_check(sim)
    )
    assert rep.attempted == 0 and portal.sent == []
    db_session.expire_all()
    ref = db_session.get(Referral, rid)
    assert ref is not None and ref.status == "closed" and ref.sent_at is None
    d = repository.delivery_for(db_session, rid)
    assert d is not None and (d.status, d.attempts) == ("not_sent", 0)
    assert {s for s, _ in _states(db_session, rid).values()} == {"already_gone"}
    [ev] = db_session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "referral.not_sent", AuditEvent.subject_id == str(rid)
        )
    ).all()
    assert "already removed or withheld" in json.loads(ev.details)["reason"]
    # and a later run of the job finds nothing to send
    assert (
        delivery.deliver_due(
            session_factory, sim_settings, ChannelRegistry([portal]), check=_check(sim)
        ).attempted
        == 0
    )
    # what we already know is known when the item enters a batch: no check needed
    [res] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[items[0].id], kind="removal_order",
        reasons=["a"], justification=JUST, channel="portal",
    )  # fmt: skip
    assert [(i.state, "suspended account" in i.detail) for i in res.items] == [
        ("already_gone", True)
    ]
    assert res.referral.status == "closed"


def test_send_now_says_why_nothing_was_sent(
    app_factory: Any, db_session: Session, sim: Any, sim_settings: Settings
) -> None:
    """The page's "Send now" runs the same check, with the instance's own client and detectors."""
    team = make_team(db_session)
    [post] = _posts(sim, 1)
    rid, _ = _batch(db_session, team, [post["url"]])
    _suspend(sim, post["parent"])
    overrides = sim_settings.model_dump(
        include={"resolve", "ca_bundle", "tor_proxy", "capture_before_referral"}
    )
    with TestClient(app_factory(**overrides), raise_server_exceptions=False) as web:
        r = web.post(
            f"/referrals/{rid}/deliver", headers={**HTML, **team.analyst.headers},
            follow_redirects=False,
        )  # fmt: skip
        assert r.status_code == 303
        page = web.get(r.headers["location"], headers={**HTML, **team.analyst.headers})
    assert "was not sent: every item was already removed or withheld" in page.text
    assert "removed before referral" in page.text and "suspended account" in page.text
    db_session.expire_all()
    ref = db_session.get(Referral, rid)
    assert ref is not None and ref.status == "closed" and ref.sent_at is None


def test_an_item_we_cannot_see_is_sent(
    db_session: Session, session_factory: sessionmaker[Session], sim: Any, sim_settings: Settings
) -> None:
    """A login wall says nothing about the content: the item goes out as before."""
    team = make_team(db_session)
    [walled] = _posts(sim, 1, access="login_required")
    rid, [item] = _batch(db_session, team, [walled["url"]])
    portal = Recorder()
    jobs = ChannelRegistry([portal])
    delivery.deliver_due(session_factory, sim_settings, jobs, check=_check(sim))
    assert [e.urls for e in portal.sent] == [[item.fetch_url]]
    assert _states(db_session, rid)[item.id][0] == "included"
