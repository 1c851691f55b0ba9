"""Delivery channels: signed API posts with retries, SMTP into the testbed's inbox, export."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from takedown.kit.clock import FrozenClock
from takedown.referrals import delivery, repository, service
from takedown.referrals.channels.api import ApiChannel
from takedown.referrals.channels.email import EmailChannel
from takedown.referrals.channels.portal import ExportChannel
from takedown.referrals.channels.registry import ChannelRegistry
from takedown.referrals.models import ReferralStatus
from takedown.referrals.platforms import signing_key
from takedown.referrals.signing import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, sign, verify
from takedown.sim.harness import SimHandle, running_sim
from tests.referrals.factories import ensure_platform, make_team, x_item

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
KEY = signing_key("test-secret", "x")


def test_signature_roundtrip_and_tampering() -> None:
    body = b'{"urls":["https://x.com/a/status/1"]}'
    header = sign(KEY, body, 1_700_000_000)
    assert verify(KEY, header, body, 1_700_000_100)
    assert not verify(KEY, header, body + b" ", 1_700_000_100)  # body changed
    assert not verify(signing_key("test-secret", "youtube"), header, body, 1_700_000_100)
    assert not verify(KEY, header, body, 1_700_000_000 + 3600)  # replayed an hour later
    assert not verify(KEY, "t=abc,v1=00", body, 1_700_000_000)
    assert signing_key("test-secret", "x") != signing_key("other-secret", "x")


def _issued_tos(db_session: Session, clock: FrozenClock, channel: str, **platform: object) -> int:
    team = make_team(db_session)
    ensure_platform(db_session, "x", channel=channel, **platform)  # type: ignore[arg-type]
    items = [x_item(db_session, team.analyst) for _ in range(2)]
    [res] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[i.id for i in items], kind="tos", clock=clock
    )
    service.submit(db_session, team.analyst.principal, res.referral.id, clock=clock)
    return res.referral.id


def test_api_delivery_is_signed_retried_and_idempotent(db_session: Session) -> None:
    clock = FrozenClock(T0)
    seen: list[httpx.Request] = []

    def platform(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        ok = verify(
            KEY, request.headers[SIGNATURE_HEADER], request.content, int(clock.now().timestamp())
        )
        if not ok:
            return httpx.Response(401, json={"error": "bad signature"})
        if len(seen) < 3:
            return httpx.Response(503, headers={"Retry-After": "120"})
        return httpx.Response(
            202, json={"acknowledgement_id": "ACK-1", "received_at": "2026-03-02T09:10:00Z"}
        )

    rid = _issued_tos(
        db_session, clock, "api", api_endpoint="https://legal.x.example/api/v1/referrals"
    )
    client = httpx.Client(transport=httpx.MockTransport(platform))
    reg = ChannelRegistry(
        [ApiChannel(client, lambda slug: signing_key("test-secret", slug), clock=clock)]
    )
    for _ in range(3):
        delivery.run_due(db_session, reg, clock=clock)
        clock.advance(dt.timedelta(minutes=10))
    d = repository.delivery_for(db_session, rid)
    assert d is not None and d.status == "acknowledged" and d.attempts == 3
    attempts = repository.attempts_of(db_session, d.id)
    assert [a.status_code for a in attempts] == [503, 503, 202]
    assert len({r.headers[IDEMPOTENCY_HEADER] for r in seen}) == 1
    body = json.loads(seen[-1].content)
    assert body["kind"] == "tos" and len(body["urls"]) == 2
    ref = repository.get(db_session, rid)
    assert ref is not None and ref.status == ReferralStatus.ACKNOWLEDGED.value
    assert ref.ack_reference == "ACK-1"
    assert ref.received_at == dt.datetime(2026, 3, 2, 9, 10, tzinfo=dt.UTC)
    # an acknowledged job is never picked up again
    clock.advance(dt.timedelta(hours=5))
    assert delivery.run_due(db_session, reg, clock=clock).attempted == 0
    client.close()


def test_api_delivery_honours_retry_after(db_session: Session) -> None:
    clock = FrozenClock(T0)

    def platform(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "7200"})

    rid = _issued_tos(
        db_session, clock, "api", api_endpoint="https://legal.x.example/api/v1/referrals"
    )
    with httpx.Client(transport=httpx.MockTransport(platform)) as client:
        reg = ChannelRegistry([ApiChannel(client, lambda s: KEY, clock=clock)])
        delivery.run_due(db_session, reg, clock=clock)
    d = repository.delivery_for(db_session, rid)
    assert d is not None and d.next_attempt_at >= T0 + dt.timedelta(hours=2)


@pytest.fixture(scope="module")
def sim() -> Iterator[SimHandle]:
    with running_sim("small") as handle:
        yield handle


def test_api_delivery_to_the_testbed_intake(db_session: Session, sim: SimHandle) -> None:
    clock = FrozenClock(T0)
    urls = [i["url"] for i in sim.items(platform="x", alive=True)[:3]]
    from tests.factories import make_actor, make_agency
    from tests.items.factories import make_assessed_item

    agency = make_agency(db_session)
    analyst = make_actor(db_session, agency)
    ensure_platform(
        db_session, "x", channel="api", api_endpoint="https://legal.x.com/api/v1/referrals"
    )
    items = [make_assessed_item(db_session, analyst, url=u) for u in urls]
    [res] = service.create_batches(
        db_session, analyst.principal, item_ids=[i.id for i in items], kind="tos"
    )
    service.submit(db_session, analyst.principal, res.referral.id, clock=clock)
    with sim.sync_client() as client:
        reg = ChannelRegistry([ApiChannel(client, lambda s: KEY, clock=clock)])
        rep = delivery.run_due(db_session, reg, clock=clock)
    assert rep.acknowledged == 1
    ref = res.referral
    assert ref.ack_reference and ref.ack_reference.startswith("ACK-X-")
    got = sim.call(
        lambda: [(r.ack, sorted(o.url for o in r.outcomes)) for r in sim.world.referrals]
    )
    assert (ref.ack_reference, sorted(i.fetch_url for i in items)) in got


@pytest.mark.browser
def test_email_delivery_lands_in_the_testbed_inbox_with_the_order_attached(
    db_session: Session, sim: SimHandle
) -> None:
    clock = FrozenClock(T0)
    team = make_team(db_session)
    ensure_platform(db_session, "x", channel="email", contact="tco-referrals@x.com")
    urls = [i["url"] for i in sim.items(platform="x", alive=True)[3:5]]
    from tests.items.factories import make_assessed_item

    items = [make_assessed_item(db_session, team.analyst, url=u) for u in urls]
    [res] = service.create_batches(
        db_session,
        team.analyst.principal,
        item_ids=[i.id for i in items],
        kind="removal_order",
        reasons=["a"],
        justification="Synthetic stand-in for official propaganda of a group.",
        emergency=True,
        clock=clock,
    )
    service.submit(db_session, team.analyst.principal, res.referral.id, clock=clock)
    service.approve(db_session, team.supervisor.principal, res.referral.id, clock=clock)
    channel = EmailChannel(f"smtp://127.0.0.1:{sim.smtp_port}?from=iru@agency.example")
    rep = delivery.run_due(db_session, ChannelRegistry([channel]), clock=clock)
    assert rep.acknowledged == 1
    with sim.control() as ctl:
        inbox = ctl.get("/inbox").json()
    [mail] = [m for m in inbox if res.referral.reference in m["subject"]]
    assert mail["to"] == ["tco-referrals@x.com"]
    assert {i.fetch_url for i in items} <= set(mail["urls"])
    assert res.referral.ack_reference == mail["acks"][0]
    # the message itself carries the order as PDF and JSON
    msg = email.message_from_bytes(
        channel.message(
            delivery.envelope(
                db_session, res.referral, repository.delivery_for(db_session, res.referral.id)
            )  # type: ignore[arg-type]
        ).as_bytes(),
        policy=email.policy.default,
    )
    names = {p.get_filename(): p for p in msg.iter_attachments()}
    pdf = names[f"{res.referral.reference}.pdf"].get_content()
    assert pdf.startswith(b"%PDF")
    doc = json.loads(names[f"{res.referral.reference}.json"].get_content())
    assert set(doc["sections"]) == set("ABCDEF")


def test_export_writes_csv_and_document(db_session: Session, tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    rid = _issued_tos(db_session, clock, "export")
    ref = repository.get(db_session, rid)
    assert ref is not None
    reg = ChannelRegistry([ExportChannel(tmp_path)])
    import takedown.referrals.render as render

    orig = render.html_to_pdf
    render.html_to_pdf = lambda html, **kw: b"%PDF-stub"  # the browser is tested elsewhere
    try:
        assert delivery.run_due(db_session, reg, clock=clock).delivered == 1
    finally:
        render.html_to_pdf = orig
    rows = (tmp_path / f"{ref.reference}.csv").read_text().splitlines()
    assert rows[0].startswith("reference,kind,platform,item_id,url") and len(rows) == 3
    assert (tmp_path / f"{ref.reference}.pdf").read_bytes() == b"%PDF-stub"


def test_the_art_4_copy_lands_in_the_testbed_authority_inbox_once(
    db_session: Session, sim: SimHandle
) -> None:
    """A cross-border order by e-mail: the platform's intake gets the order, the simulated
    host-state authority (``tco-ie@authority.example``) the copy, with its own Message-ID."""
    from takedown.platforms import authorities
    from takedown.sim.app import authority_email
    from tests.factories import make_actor
    from tests.items.factories import make_assessed_item

    clock = FrozenClock(T0)
    team = make_team(db_session, country="FR")
    ensure_platform(db_session, "x", channel="email", contact="tco-referrals@x.com")
    admin = make_actor(db_session, role="admin", operator=True)
    to = authority_email("IE")
    authorities.update(
        db_session, admin.principal, "IE", {"name": "IE", "contact_point": to, "confirmed": True}
    )
    urls = [i["url"] for i in sim.items(platform="x", alive=True)[5:6]]
    items = [make_assessed_item(db_session, team.analyst, url=u) for u in urls]
    [res] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[i.id for i in items],
        kind="removal_order", reasons=["a"], emergency=True, clock=clock,
        justification="Synthetic stand-in for official propaganda of a group.",
    )  # fmt: skip
    service.submit(db_session, team.analyst.principal, res.referral.id, clock=clock)
    service.approve(db_session, team.supervisor.principal, res.referral.id, clock=clock)
    channel = EmailChannel(
        f"smtp://127.0.0.1:{sim.smtp_port}?from=iru@agency.example", attach_pdf=False
    )
    with sim.control() as ctl:
        before = len(ctl.get("/inbox").json())  # the sim is shared by the module's tests
    for _ in range(2):  # the second round sends nothing
        rep = delivery.run_due(db_session, ChannelRegistry([channel]), clock=clock)
        clock.advance(dt.timedelta(hours=1))
    with sim.control() as ctl:
        inbox = ctl.get("/inbox").json()[before:]
    ref = res.referral.reference
    assert sorted(m["to"][0] for m in inbox) == ["tco-ie@authority.example", "tco-referrals@x.com"]
    [copy] = [m for m in inbox if m["authority"] == "IE"]
    assert copy["message_id"] == f"<{ref}.host-copy@agency.example>"
    assert copy["subject"].startswith(f"Copy under Art. 4(1) of removal order {ref}")
    assert set(urls) <= set(copy["urls"]) and copy["acks"] == []
    assert rep.copies_sent == 0  # the last round
    row = repository.delivery_for(db_session, res.referral.id, "host_copy")
    assert row is not None and row.status == "delivered" and row.attempts == 1
    assert res.referral.status == ReferralStatus.ACKNOWLEDGED.value  # the order's own ack
