"""Every CSV the app writes is safe to open in a spreadsheet (issue 19.7), and our own
importers read back exactly what was exported."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

import takedown
from takedown.kit import csvfile
from takedown.kit.csvfile import neutralise, restore

FORMULAS = ['=HYPERLINK("http://evil.invalid","x")', "+1+2", "@SUM(1)", "-2+3", "\t=1", "\r=1"]
SRC = Path(takedown.__file__).parent
# The testbed writes the *agencies'* report files, raw as other tools write them (with the
# mess intake must survive): they are the app's input, not its exports.
EXEMPT = {SRC / "kit" / "csvfile.py", SRC / "sim"}


def test_formulas_are_marked_as_text() -> None:
    for text in FORMULAS:
        cell = neutralise(text)
        assert cell == "'" + text and cell[0] not in csvfile.TRIGGERS
    assert neutralise("https://x.com/a") == "https://x.com/a"
    assert neutralise(-3) == -3 and neutralise(2.5) == 2.5  # numbers stay numbers
    assert neutralise(None) == "" and neutralise(True) == "True"


@given(st.text(max_size=30))
def test_restore_undoes_neutralise(text: str) -> None:
    cell = neutralise(text)
    assert not cell or cell[0] not in csvfile.TRIGGERS
    assert restore(cell) == text


@given(st.lists(st.lists(st.text(max_size=12), min_size=1, max_size=4), max_size=5))
def test_written_rows_read_back(rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csvfile.writer(buf, lineterminator="\n").writerows(rows)
    back = list(csv.reader(io.StringIO(buf.getvalue(), newline="")))
    assert [[restore(c) for c in r] for r in back] == rows
    for r in back:
        assert all(not c or c[0] not in csvfile.TRIGGERS for c in r)


def _exempt(path: Path) -> bool:
    return any(path == e or e in path.parents for e in EXEMPT)


def test_no_csv_writer_outside_kit() -> None:
    """A new CSV export cannot bypass the safe writer: ``csv.writer``/``csv.DictWriter`` (or
    ``from csv import writer``) anywhere in ``src`` but ``kit/csvfile.py`` fails here."""
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if _exempt(path):
            continue
        tree = ast.parse(path.read_text("utf-8"), str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("writer", "DictWriter")
                and isinstance(node.value, ast.Name)
                and node.value.id == "csv"
            ):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module == "csv":
                names = {a.name for a in node.names}
                if names & {"writer", "DictWriter"}:
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == [], f"use takedown.kit.csvfile instead: {offenders}"


def test_the_guard_sees_a_bypass(tmp_path: Path) -> None:
    """The scan above is not vacuous: it finds the writers the app used before."""
    code = "import csv, io\nw = csv.writer(io.StringIO())\nd = csv.DictWriter(io.StringIO(), [])\n"
    tree = ast.parse(code)
    hits = [
        n for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and n.attr in ("writer", "DictWriter")
    ]  # fmt: skip
    assert len(hits) == 2


def test_every_csv_export_neutralises(db_session: Session) -> None:
    """The CSV-producing paths of the app: bank export, a referral's CSV, an operation
    report's tables and figures. Each is fed a formula and must write it marked."""
    from takedown.operations.report import Table, table_csv
    from takedown.referrals import render, service
    from tests.referrals.factories import ensure_platform, make_team, x_item

    table = Table("t", "t", (("label", "Label", ""),), [{"label": "=1+1", "n": -2}], "")
    assert table_csv(table).splitlines() == ["label,n", "'=1+1,-2"]
    team = make_team(db_session)
    ensure_platform(db_session, "x")
    item = x_item(db_session, team.analyst)
    [res] = service.create_batches(
        db_session,
        team.analyst.principal,
        item_ids=[item.id],
        kind="tos",
        locations={item.id: '@SUM(1)+HYPERLINK("http://evil.invalid")'},
    )
    rows = list(csv.DictReader(io.StringIO(render.as_csv(db_session, res.referral))))
    assert rows[0]["location"] == '\'@SUM(1)+HYPERLINK("http://evil.invalid")'


def test_bank_export_and_import_round_trip(db_session: Session, client: Any) -> None:
    """GET /api/v1/banks/{id}/export?format=csv wrote ``=HYPERLINK(...)`` as is."""
    from takedown.matching import io as bank_io
    from takedown.matching import service
    from takedown.matching.schemas import Labels, SignalIn
    from tests.matching.factories import make_bank, make_supervisor

    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    groups = [*FORMULAS[:4], "'quoted", "plain"]
    for n, group in enumerate(groups):
        service.add_signal(
            db_session,
            sup.principal,
            bank.id,
            SignalIn(signal_type="md5", value=f"{n:032x}", labels=Labels(group=group)),
        )
    r = client.get(f"/api/v1/banks/{bank.id}/export?format=csv", headers=sup.headers)
    assert r.status_code == 200, r.text
    cells = [row["group"] for row in csv.DictReader(io.StringIO(r.text))]
    assert sorted(cells) == sorted(neutralise(g) for g in groups)
    assert not any(c[:1] in csvfile.TRIGGERS for c in cells)
    # `bank import` of our own export restores every label exactly.
    dst = make_bank(db_session, sup)
    report = bank_io.import_signals(db_session, sup.principal, dst.id, r.content, "csv")
    assert report.errors == [] and report.added == len(groups)
    from takedown.matching.models import Signal

    got = {
        (s.labels or {}).get("group")
        for s in db_session.query(Signal).filter(Signal.bank_id == dst.id)
    }
    assert got == set(groups)
