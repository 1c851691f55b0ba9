"""The Art. 4(1) copy on the batch page and in the API: warned before the order goes, "not
sent" with the reason and a "Send copy" button after, sent once the contact point is set."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.platforms import authorities
from takedown.referrals import delivery, service
from takedown.referrals.channels.registry import ChannelRegistry
from tests.factories import Actor, make_actor
from tests.referrals.factories import ensure_platform, make_team, x_item
from tests.referrals.test_host_copy import AUTHORITY, JUST, FakeChannel

HTML = {"Accept": "text/html"}


@pytest.fixture
def web(app_factory: Any) -> Iterator[TestClient]:
    with TestClient(app_factory(), raise_server_exceptions=False) as c:
        yield c


def _h(actor: Actor) -> dict[str, str]:
    return {**HTML, **actor.headers}


def _block(page: str) -> str:
    m = re.search(r'<div data-testid="host-copy" data-status="(\w+)">(.*?)</div>', page, re.S)
    assert m is not None, "no host-copy block on the page"
    return f"{m.group(1)}: {re.sub(r'<[^>]+>', '', m.group(2)).strip()}"


def test_the_batch_page_and_the_api_show_the_copy_and_send_copy_sends_it(
    web: TestClient, db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = make_team(db_session, country="FR")
    admin = make_actor(db_session, role="admin", operator=True)
    unset = {"name": "Coimisiún na Meán", "contact_point": None, "confirmed": False}
    authorities.update(db_session, admin.principal, "IE", unset)
    ensure_platform(db_session, "x", country="IE")
    [res] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[x_item(db_session, team.analyst).id],
        kind="removal_order", reasons=["a"], justification=JUST, emergency=True,
        channel="portal",
    )  # fmt: skip
    rid = res.referral.id
    service.submit(db_session, team.analyst.principal, rid)
    service.approve(db_session, team.supervisor.principal, rid)
    db_session.commit()
    # Before it goes: a warning that the copy cannot go with the order.
    page = web.get(f"/referrals/{rid}", headers=_h(team.analyst)).text
    assert _block(page).startswith(
        "waiting: Warning: Copy to host state (Art. 4): will not be sent with the order — "
        "no confirmed contact point for Coimisiún na Meán (IE)"
    )
    assert f'action="/referrals/{rid}/host-copy"' not in page
    portal, mail = FakeChannel("portal"), FakeChannel("email")
    reg = ChannelRegistry([portal, mail])
    delivery.run_due(db_session, reg)
    db_session.commit()
    # Sent: the order went, the copy did not, and the page says why and what to do.
    page = web.get(f"/referrals/{rid}", headers=_h(team.analyst)).text
    assert _block(page).startswith(
        "not_sent: Warning: Copy to host state (Art. 4): not sent — no confirmed contact "
        "point for Coimisiún na Meán (IE); set it in Administration → TCO authorities: the "
        "next delivery round sends it (or Send copy)"
    )
    assert f'action="/referrals/{rid}/host-copy"' in page
    api = web.get(f"/api/v1/referrals/{rid}", headers=team.analyst.headers).json()
    assert api["status"] == "sent" and api["host_copy"]["status"] == "not_sent"
    assert api["host_copy"]["can_send"] is True
    monkeypatch.setattr(delivery, "default_channels", lambda *a, **k: reg)
    r = web.post(f"/referrals/{rid}/host-copy", headers=_h(team.analyst), follow_redirects=False)
    assert r.status_code == 303 and mail.sent == []  # still no contact point: refused
    assert (
        "no confirmed contact point"
        in web.get(r.headers["location"], headers=_h(team.analyst)).text
    )
    authorities.update(db_session, admin.principal, "IE",
                       {"contact_point": AUTHORITY, "confirmed": True})  # fmt: skip
    db_session.commit()
    r = web.post(f"/referrals/{rid}/host-copy", headers=_h(team.analyst), follow_redirects=False)
    assert r.status_code == 303
    page = web.get(r.headers["location"], headers=_h(team.analyst)).text
    assert "Copy sent to the host state" in page
    assert re.match(
        r"sent: Info: Copy to host state \(Art\. 4\): sent at \d{4}-\d\d-\d\d \d\d:\d\d UTC to "
        r"Coimisiún na Meán \(IE\) &lt;tco-ie@authority\.example&gt;",
        _block(page),
    )
    assert f'action="/referrals/{rid}/host-copy"' not in page
    assert [e.copy_to for e in mail.sent] == [AUTHORITY]
    # The API's Send copy: already sent, so 409; nothing more goes out.
    r = web.post(f"/api/v1/referrals/{rid}/host-copy", headers=team.analyst.headers)
    assert r.status_code == 409 and "sent at" in r.json()["detail"]
    api = web.get(f"/api/v1/referrals/{rid}", headers=team.analyst.headers).json()
    assert api["host_copy"]["status"] == "sent" and api["host_copy"]["recipient"] == AUTHORITY
    assert len(mail.sent) == 1 and len(portal.sent) == 1


def test_a_tos_referral_shows_no_copy(web: TestClient, db_session: Session) -> None:
    team = make_team(db_session, country="FR")
    ensure_platform(db_session, "x", country="IE")
    [res] = service.create_batches(
        db_session, team.analyst.principal, item_ids=[x_item(db_session, team.analyst).id],
        kind="tos", channel="portal",
    )  # fmt: skip
    db_session.commit()
    page = web.get(f"/referrals/{res.referral.id}", headers=_h(team.analyst)).text
    assert 'data-testid="host-copy"' not in page
    api = web.get(f"/api/v1/referrals/{res.referral.id}", headers=team.analyst.headers).json()
    assert api["host_copy"]["status"] == "not_applicable"
