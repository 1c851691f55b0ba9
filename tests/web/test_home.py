"""The home page shows the user's work (#13.8): items awaiting assessment, batches waiting
on them, their agency's open holds and evidence holds ending soon, each recounted here
from the rows."""

from __future__ import annotations

import datetime as dt
import re

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.evidence import service as evidence
from takedown.items import service as items
from takedown.items.models import ItemStatus
from takedown.referrals import service as referrals
from tests.factories import make_actor
from tests.items.factories import make_item
from tests.referrals.factories import make_team, x_item
from tests.web.conftest import browser_login


def _panel(html: str, key: str) -> str:
    m = re.search(rf'data-panel="{key}">(.*?)</section>', html, re.S)
    assert m, f"no panel {key}"
    return m.group(1)


def test_the_home_page_lists_the_work_waiting(client: TestClient, db_session: Session) -> None:
    team = make_team(db_session)
    analyst, supervisor = team.analyst, team.supervisor
    new_items = [make_item(db_session, analyst) for _ in range(3)]
    assessed = x_item(db_session, analyst)
    [order] = referrals.create_batches(
        db_session,
        analyst.principal,
        item_ids=[assessed.id],
        kind="removal_order",
        reasons=["a"],
        justification="Synthetic justification for a test order.",
    )
    referrals.submit(db_session, analyst.principal, order.referral.id)
    [draft] = referrals.create_batches(
        db_session, analyst.principal, item_ids=[x_item(db_session, analyst).id], kind="tos"
    )
    items.place_hold(db_session, analyst.principal, new_items[0].id, reason="case 17")
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    evidence.place_hold(
        db_session, analyst.principal, assessed.id, kind="investigation", reason="court", until=soon
    )
    evidence.place_hold(
        db_session,
        analyst.principal,
        new_items[1].id,
        kind="investigation",
        reason="later",
        until=soon + dt.timedelta(days=60),
    )
    # Another agency's work never shows.
    other = make_actor(db_session)
    make_item(db_session, other)

    browser_login(client, supervisor.user.email)
    home = client.get("/").text
    rows, _ = items.list_items(
        db_session, supervisor.principal, items.ItemFilters(status=[ItemStatus.NEW.value])
    )
    waiting = _panel(home, "items-awaiting")
    assert f"<strong>{len(rows)}</strong> items awaiting assessment" in waiting
    assert all(f'href="/items/{i.id}#assess"' in waiting for i in new_items)
    batches = _panel(home, "referrals-batches")
    assert order.referral.reference in batches and "awaiting your approval" in batches
    assert draft.referral.reference not in batches  # the analyst's draft, not the supervisor's
    assert "<strong>1</strong> open hold" in _panel(home, "items-holds")
    ending = _panel(home, "evidence-holds-ending")
    assert f"item {assessed.id}" in ending and f"item {new_items[1].id}" not in ending

    client.cookies.clear()
    browser_login(client, analyst.user.email)
    home = client.get("/").text
    batches = _panel(home, "referrals-batches")
    assert draft.referral.reference in batches and "awaiting your approval" not in batches
