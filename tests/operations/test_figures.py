"""One figure, one meaning: the dashboard, the report (JSON, HTML), its CSV, the API's metrics
and the intake pages show each figure under its one name and with the same value, and that
value is the one counted again by hand from the rows (``test_metrics.expected``).

Before ``operations.figures`` the intake pages said 14 + 21 + 26 duplicates folded while the
dashboard said 0 (it counted only another agency's), and the status chart drew a "confirmed
removed" segment from the platform's Annex II while the card of that name, which counts
the checks, said 0.
"""

from __future__ import annotations

import csv
import io
import random
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from takedown.items.intake import DUPLICATES_FOLDED
from takedown.kit.clock import SystemClock
from takedown.operations import figures, report, service
from tests.factories import make_actor, make_agency
from tests.operations.factories import make_operation, seed_operation
from tests.operations.test_metrics import approx_figures, expected

HTML = {"Accept": "text/html"}


def _cards(html: str) -> dict[str, tuple[str, str]]:
    """The dashboard's cards: key -> (label, value as printed)."""
    out = {}
    for key, label, value in re.findall(
        r'data-figure="([a-z0-9_]+)"[^>]*><dt>(.*?)</dt><dd>(.*?)</dd>', html, re.S
    ):
        out[key] = (unescape(label), unescape(value))
    return out


def test_every_place_shows_the_same_figures(ops_client: TestClient, db_session: Session) -> None:
    s = seed_operation(db_session, random.Random(7), n=60)
    db_session.flush()
    h = s.lead.headers
    op = s.op.id
    api = ops_client.get(f"/api/v1/operations/{op}/metrics", headers=h).json()
    rep = ops_client.get(f"/api/v1/operations/{op}/report", headers=h, params={"final": True})
    rep_json = rep.json()
    csv_text = ops_client.get(f"/operations/{op}/export/figures.csv", headers=h).text
    csv_rows = {r["key"]: r for r in csv.DictReader(io.StringIO(csv_text))}
    dash = ops_client.get(f"/operations/{op}", headers={**HTML, **h})
    assert dash.status_code == 200
    cards = _cards(dash.text)
    want = expected(db_session, op, SystemClock().now())["figures"]
    # the rows, counted again by hand, are what the API and the report say
    approx_figures(api["figures"], want)
    approx_figures(rep_json["figures"], want)
    assert [f.key for f in figures.FIGURES] == list(api["figures"]) == list(rep_json["figures"])
    for f in figures.FIGURES:
        value = api["figures"][f.key]
        assert rep_json["figures"][f.key] == value, f.key
        assert api["definitions"][f.key] == {
            "label": f.label, "unit": f.unit, "definition": f.definition,
        }  # fmt: skip
        assert rep_json["definitions"][f.key] == f.definition
        row = csv_rows[f.key]
        assert (row["label"], row["unit"], row["definition"]) == (f.label, f.unit, f.definition)
        assert row["value"] == ("" if value is None else str(value)), f.key
        if f.card:
            assert cards[f.key] == (f.label, report.display(value, f.unit)), f.key
    assert set(cards) == {f.key for f in figures.CARDS}
    # two figures that differ on purpose, both under their own names
    labels = {label for label, _ in cards.values()}
    assert {"Claimed removed (Annex II)", "Confirmed removed (checks)"} <= labels
    assert {"Duplicates folded (all)", "Reported by more than one agency"} <= labels
    # the state chart's segments are the states, with the report's labels
    chart = dash.text.split('aria-label="State by platform"', 1)[1].split("</figure>", 1)[0]
    assert "claimed removed (Annex II), not confirmed" in chart
    assert "confirmed removed (checks), still gone" in chart


def test_intake_pages_and_the_dashboard_agree_on_duplicates(
    ops_client: TestClient, db_session: Session
) -> None:
    a = make_actor(db_session, make_agency(db_session, country="NL"), role="supervisor")
    b = make_actor(db_session, make_agency(db_session, country="BE"), role="analyst")
    op = make_operation(db_session, a, participants=[b.agency])
    files = [
        (a, "url\nhttps://x.com/fold_a/status/1\nhttps://x.com/fold_a/status/2\n"
            "https://twitter.com/fold_a/status/1?s=20\n"),  # the same post twice in one file
        (b, "url\nhttps://mobile.x.com/fold_a/status/2\nhttps://x.com/fold_b/status/3\n"),
    ]  # fmt: skip  # and one post also reported by the other agency
    jobs = []
    for who, text in files:
        job, _ = service.import_into(
            db_session, who.principal, op.id, io.BytesIO(text.encode()), filename="r.csv"
        )
        jobs.append((who, job))
    db_session.flush()
    folded = 0
    for who, job in jobs:
        page = ops_client.get(f"/intake/{job.id}", headers={**HTML, **who.headers}).text
        m = re.search(r"<dt>Duplicates folded</dt><dd>(\d+) ", page)
        assert m is not None and int(m.group(1)) == job.duplicates_folded
        assert unescape(page).count(DUPLICATES_FOLDED) == 1  # the one definition, shown
        folded += job.duplicates_folded
    assert [j.duplicates_folded for _, j in jobs] == [1, 1]
    cards = _cards(ops_client.get(f"/operations/{op.id}", headers={**HTML, **a.headers}).text)
    assert cards["items"][1] == "3"
    assert cards["duplicates_folded"] == ("Duplicates folded (all)", str(folded))
    assert cards["reported_by_several"] == ("Reported by more than one agency", "1")
    assert DUPLICATES_FOLDED in figures.BY_KEY["duplicates_folded"].definition


@pytest.mark.parametrize("key", [f.key for f in figures.FIGURES])
def test_each_figure_is_defined_once(key: str) -> None:
    """A figure's name is its own: no two figures share a label, and a state named like a
    figure means exactly that figure."""
    f = figures.BY_KEY[key]
    labels = [g.label.lower() for g in figures.FIGURES]
    assert labels.count(f.label.lower()) == 1
    for st in figures.STATES:
        if st.label.lower() == f.label.lower():
            assert st.definition == f.definition
    assert f.unit in ("count", "share", "seconds") and len(f.definition) > 20
