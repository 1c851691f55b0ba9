"""A known platform's URL that names no content never becomes an item (issue 12.4).

``https://x.com`` (a testbed report's malformed line), ``https://www.youtube.com/`` and
``https://t.me/`` used to be accepted as "page" items, and one ended up in Section B of a
removal order. Every way in refuses them the same way, line by line with the reason: the
API's POST /items, the API's and the page's file import, pasted URLs, and the CLI (which
runs the same ``intake.import_stream``; ``tests/items/test_cli.py`` runs it end to end).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from takedown.items import intake
from takedown.items.models import ImportJob, Item
from takedown.sim.reports import export_reports
from takedown.sim.scenario import load_scenario, resolve_scenario_path
from takedown.sim.world import World
from tests.factories import make_actor
from tests.web.conftest import BROWSER_HEADERS, ensure_web

NO_CONTENT = [
    "https://x.com",
    "https://www.youtube.com/",
    "https://t.me/",
    "https://x.com/search?q=example",
    "https://www.instagram.com/accounts/login/",
    "https://www.facebook.com/help/",
]
CONTENT = "https://x.com/syn_nocontent/status/4242"
WEBSITE_HOME = "https://synthetic-site.example/"


@pytest.fixture
def web(app_factory: Any) -> Iterator[TestClient]:
    app = ensure_web(app_factory())
    with TestClient(app, raise_server_exceptions=False, headers=BROWSER_HEADERS) as c:
        yield c


def _items(db: Session) -> set[str]:
    return set(db.scalars(select(Item.canonical_url)).all())


def test_api_post_items_refuses_each_with_its_reason(db_session: Session, client: Any) -> None:
    a = make_actor(db_session)
    for url in NO_CONTENT:
        r = client.post("/api/v1/items", json={"url": url}, headers=a.headers)
        assert r.status_code == 422, (url, r.text)
        body = r.json()
        assert r.headers["content-type"] == "application/problem+json"
        assert body["type"].endswith("/no-content-url") and "no content" in body["detail"]
    assert _items(db_session) == set()
    ok = client.post("/api/v1/items", json={"url": WEBSITE_HOME}, headers=a.headers)
    assert ok.status_code == 201 and ok.json()["item"]["platform"] == "website"


def test_file_import_refuses_line_by_line(db_session: Session, client: Any) -> None:
    a = make_actor(db_session)
    body = "\n".join(["url", *NO_CONTENT, CONTENT, WEBSITE_HOME]) + "\n"
    r = client.post(
        "/api/v1/imports",
        files={"file": ("day.csv", body.encode(), "text/csv")},
        headers=a.headers,
    )
    assert r.status_code == 201, r.text
    job = r.json()
    assert (job["rows_ok"], job["rows_bad"]) == (2, len(NO_CONTENT))
    assert [e["line"] for e in job["errors"]] == list(range(2, 2 + len(NO_CONTENT)))
    assert all(e["reason"].startswith("not an item: ") for e in job["errors"])
    assert "X's home page" in job["errors"][0]["reason"]
    assert _items(db_session) == {CONTENT, "https://synthetic-site.example"}


def test_pasted_urls_on_the_intake_page(web: TestClient, db_session: Session) -> None:
    a = make_actor(db_session)
    r = web.post(
        "/intake",
        headers=a.headers,
        data={"urls": "\n".join([*NO_CONTENT, CONTENT])},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = web.get(r.headers["location"], headers=a.headers)
    errors = page.text.split('data-testid="import-errors"')[1].split("</table>")[0]
    assert "YouTube&#39;s home page" in errors or "YouTube's home page" in errors
    assert errors.count("not an item") == len(NO_CONTENT)
    assert _items(db_session) == {CONTENT}


def test_testbed_malformed_lines_never_become_items(tmp_path: Path, db_session: Session) -> None:
    """Every line the testbed's ground truth marks malformed ("x.com/", "t.me/s/", "N/A"...)
    is refused with its line number; none becomes an item."""
    world = World(load_scenario(resolve_scenario_path("small")))
    export_reports(world, tmp_path)
    truth = [
        json.loads(x)
        for x in (tmp_path / "ground-truth-reports.jsonl").read_text().splitlines()
        if x
    ]
    a = make_actor(db_session)
    refused: set[tuple[str, int]] = set()
    for f in sorted(tmp_path.glob("*-report.*")):
        job = intake.import_stream(
            db_session, a.principal, io.BytesIO(f.read_bytes()), filename=f.name
        )
        refused |= {(f.name, int(e["line"])) for e in job.errors}
    # A line of only a no-break space is a blank line in a URL list (skipped, like any
    # blank line); in a CSV or JSON line it is an empty url cell, refused.
    malformed = {
        (t["file"], t["line"])
        for t in truth
        if t["item_id"] is None and (t["url"].strip() or not t["file"].endswith(".txt"))
    }
    assert ("iru-de-report.jsonl", 57) in malformed  # "x.com/": X's home page
    assert malformed <= refused
    stored = db_session.scalar(select(func.count()).select_from(Item))
    assert stored and not any(
        u.rstrip("/") in {"https://x.com", "https://t.me", "https://t.me/s"}
        for u in _items(db_session)
    )
    assert db_session.scalar(select(func.count()).select_from(ImportJob)) == 3
