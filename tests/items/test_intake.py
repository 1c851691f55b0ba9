from __future__ import annotations

import codecs
import datetime as dt
import io
import json
import tracemalloc
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from takedown.accounts.models import Role
from takedown.accounts.principal import Principal
from takedown.db import session_scope
from takedown.items import intake
from takedown.items.hooks import register_on_items_created, unregister_on_items_created
from takedown.items.models import ImportJob, Item, Sighting
from takedown.kit.clock import FrozenClock
from takedown.kit.errors import InvalidInput
from takedown.platforms.canon.parse import clear_authority_cache
from tests.factories import Actor, make_actor, make_agency

CLOCK = FrozenClock(dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC))


def run(
    session: Session, actor: Actor, data: bytes | str, filename: str = "day.csv", **kw: object
) -> ImportJob:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return intake.import_stream(
        session,
        actor.principal,
        io.BytesIO(raw),
        filename=filename,
        clock=CLOCK,
        **kw,  # type: ignore[arg-type]
    )


def count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def errors(job: ImportJob) -> dict[int, str]:
    return {e["line"]: e["reason"] for e in job.errors}


# --- CSV --------------------------------------------------------------------------------------


def test_csv_bad_rows_are_reported_by_line_and_good_rows_go_in(db_session: Session) -> None:
    a = make_actor(db_session)
    long_url = "https://example.org/" + "a" * 9000
    data = (
        "url,reported_at,note,kind\n"  # 1
        "https://twitter.com/syn_a/status/1,2026-05-01T10:00:00Z,first,post\n"  # 2
        "not a url,,,\n"  # 3
        "\n"  # 4 (empty, skipped)
        "https://youtu.be/SynthVid001,31/05/2026,,\n"  # 5
        "https://t.me/s/synth_chan/9,yesterday-ish,,\n"  # 6 bad date
        f"{long_url},,,\n"  # 7 over-long
        "https://t.me/synth_chan/10,,,\x00\n"  # 8 NUL
        ",2026-05-01,,\n"  # 9 empty url
        "https://x.com/syn_b,,,video\n"  # 10 unfamiliar kind label: only a hint, row kept
        "https://x.com/syn_c,,,account,extra\n"  # 11 too many fields
        '"https://pastebin.com/SynthPst","2026-05-01 08:00","quoted, with comma",\n'  # 12
        "https://x.com/syn_d,2999-01-01,,\n"  # 13 future
    )
    job = run(db_session, a, data)
    errs = errors(job)
    assert set(errs) == {3, 6, 7, 8, 9, 11, 13}
    assert errs[3].startswith("invalid URL")
    assert "bad date" in errs[6] and "bad date" in errs[13]
    assert "longer than 8 KiB" in errs[7]
    assert "NUL" in errs[8]
    assert errs[9] == "empty url"
    assert "5 fields but the header has 4" in errs[11]
    assert (job.rows_total, job.rows_ok, job.rows_bad) == (11, 4, 7)
    assert job.items_created == 4 and job.format == "csv"
    s = db_session.scalars(
        select(Sighting).where(Sighting.import_id == job.id).order_by(Sighting.line_no)
    ).all()
    assert [x.line_no for x in s] == [2, 5, 10, 12]
    assert s[0].reported_at == dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC)
    assert s[1].reported_at == dt.datetime(2026, 5, 31, tzinfo=dt.UTC)
    assert s[3].note == "quoted, with comma" and s[0].source == "day.csv"


def test_csv_without_url_column_fails_clearly(db_session: Session) -> None:
    a = make_actor(db_session)
    with pytest.raises(InvalidInput, match="no url column"):
        run(db_session, a, "link_text;date\nhttps://x.com/a;2026-01-01\n", format="csv")


def test_csv_semicolon_bom_crlf_and_aliases(db_session: Session) -> None:
    a = make_actor(db_session)
    data = codecs.BOM_UTF8 + (
        b"Link;Date;Comment;Source\r\n"
        b"https://www.youtube.com/watch?v=SynthVid002&utm_campaign=x;2026-05-02;ok;"
        b"tg monitor\r\n"
        b"https://m.youtube.com/shorts/SynthVid002;;;\r\n"
    )
    job = run(db_session, a, data, filename="export.csv")
    assert job.encoding == "utf-8-sig" and job.rows_ok == 2 and job.rows_bad == 0
    assert job.items_created == 1 and job.duplicates_folded == 1
    s = db_session.scalars(select(Sighting).where(Sighting.import_id == job.id)).all()
    assert {x.source for x in s} == {"tg monitor", "export.csv"}
    assert all(not x.reported_url.endswith("\r") for x in s)


def test_cp1252_file_is_read_with_a_warning(db_session: Session) -> None:
    a = make_actor(db_session)
    data = "url,note\nhttps://x.com/syn_e/status/5,café signalé\n".encode("cp1252")
    job = run(db_session, a, data)
    assert job.rows_ok == 1 and job.encoding == "cp1252"
    assert any("Windows-1252" in w and "line 2" in w for w in job.warnings)
    note = db_session.scalar(select(Sighting.note).where(Sighting.import_id == job.id))
    assert note == "café signalé"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be-bom", "utf-16-le-nobom"])
def test_utf16_files(db_session: Session, codec: str) -> None:
    a = make_actor(db_session)
    text = "url,note\r\nhttps://x.com/syn_f/status/6,تجربة\r\nbad url here,\r\n"
    if codec == "utf-16":
        data = text.encode("utf-16")  # BOM + native (little-endian here)
    elif codec == "utf-16-be-bom":
        data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
    else:
        data = text.encode("utf-16-le")
    job = run(db_session, a, data)
    assert job.encoding.startswith("utf-16")
    assert (job.rows_ok, job.rows_bad) == (1, 1) and errors(job).keys() == {3}
    note = db_session.scalar(select(Sighting.note).where(Sighting.import_id == job.id))
    assert note == "تجربة"


# --- URL lists and JSON lines -----------------------------------------------------------------


def test_url_list_with_comments(db_session: Session) -> None:
    a = make_actor(db_session)
    data = (
        "# exported from the synthetic monitor\n"
        "\n"
        "https://t.me/s/synth_list_chan   # the channel page\n"
        "https://t.me/synth_list_chan\n"
        "https://mega.nz/file/SynthMeg#SynthKey123abcdefghijklmnopqrstuvwxyz0123456\n"
        "   \n"
        "ftp//broken\n"
    )
    job = run(db_session, a, data, filename="links.txt")
    assert job.format == "urls"
    assert (job.rows_total, job.rows_ok, job.rows_bad) == (4, 3, 1)
    assert errors(job).keys() == {7}
    assert job.items_created == 2 and job.duplicates_folded == 1
    mega = db_session.scalar(select(Item).where(Item.platform == "mega"))
    assert mega is not None and "SynthKey123" in mega.fetch_url
    assert "SynthKey123" not in mega.identity


def test_jsonl_with_bad_lines(db_session: Session) -> None:
    a = make_actor(db_session)
    lines = [
        json.dumps({"url": "https://x.com/syn_g/status/7", "reported_at": 1780000000}),
        '{"url": "https://x.com/syn_g/status/8", ',
        json.dumps(["https://x.com/syn_g/status/9"]),
        json.dumps({"note": "no url"}),
        json.dumps({"url": 42}),
        json.dumps({"url": "https://x.com/syn_g/status/10", "title": "synthetic title"}),
    ]
    job = run(db_session, a, "\n".join(lines) + "\n", filename="feed.jsonl")
    errs = errors(job)
    assert job.format == "jsonl" and job.rows_ok == 2
    assert errs[2].startswith("invalid JSON") and "object" in errs[3]
    assert '"url"' in errs[4] and "text" in errs[5]
    titled = db_session.scalar(select(Item).where(Item.identity == "x:status/10"))
    assert titled is not None and titled.title == "synthetic title"


def test_json_array_is_refused_with_a_hint(db_session: Session) -> None:
    a = make_actor(db_session)
    with pytest.raises(InvalidInput, match="JSON array"):
        run(db_session, a, '[{"url": "https://x.com/a"}]\n', filename="x.jsonl")


def test_format_detection_without_extension(db_session: Session) -> None:
    a = make_actor(db_session)
    assert run(db_session, a, "url\nhttps://x.com/syn_h\n", filename="upload").format == "csv"
    assert (
        run(db_session, a, '{"url":"https://x.com/syn_h"}\n', filename="upload").format == "jsonl"
    )
    assert run(db_session, a, "https://x.com/syn_h\n", filename="upload").format == "urls"
    with pytest.raises(InvalidInput, match="format"):
        run(db_session, a, "x", format="xml")


# --- folding ----------------------------------------------------------------------------------


def test_duplicates_across_agencies_and_chunks_fold(db_session: Session) -> None:
    a, b = make_actor(db_session), make_actor(db_session)
    ja = run(
        db_session,
        a,
        "url,reported_at\n"
        "https://twitter.com/syn_i/status/11,2026-05-03\n"
        "https://x.com/syn_i/status/11?s=20,2026-05-01\n"  # same item, same agency, same file
        "https://youtu.be/SynthVid003,2026-05-02\n",
        chunk_rows=1,  # forces the duplicate into another chunk
    )
    assert (ja.items_created, ja.duplicates_folded) == (2, 1)
    jb = run(
        db_session,
        b,
        "https://mobile.twitter.com/syn_i/status/11\nhttps://www.youtube.com/embed/SynthVid003\n",
        filename="b.txt",
    )
    assert (jb.items_created, jb.duplicates_folded) == (0, 2)
    item = db_session.scalar(select(Item).where(Item.identity == "x:status/11"))
    assert item is not None
    db_session.refresh(item)
    assert item.first_seen_at == dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    assert item.last_seen_at == CLOCK.now()
    agencies = db_session.scalars(select(Sighting.agency_id).where(Sighting.item_id == item.id))
    assert sorted(agencies) == sorted([a.agency.id, a.agency.id, b.agency.id])


def test_errors_are_capped_but_counted(db_session: Session) -> None:
    a = make_actor(db_session)
    data = "".join(f"bad url {i}\n" for i in range(1203)) + "https://x.com/syn_j\n"
    job = run(db_session, a, data, filename="l.txt")
    assert job.rows_bad == 1203 and job.rows_ok == 1 and len(job.errors) == intake.ERRORS_KEPT
    assert job.errors[0]["line"] == 1 and any("1203" in w for w in job.warnings)


def test_progress_reports_bytes(db_session: Session) -> None:
    a = make_actor(db_session)

    class Sink:
        total: int | None = None
        done = 0

        def advance(self, n: int = 1) -> None:
            self.done += n

        def set_total(self, total: int | None) -> None:
            self.total = total

    data = "".join(f"https://x.com/syn_k_{i}\n" for i in range(300)).encode()
    sink = Sink()
    run(db_session, a, data, filename="l.txt", progress=sink, chunk_rows=50)
    assert sink.total == len(data) and sink.done == len(data)


def test_items_created_hook_gets_each_chunk(db_session: Session) -> None:
    a = make_actor(db_session)
    got: list[int] = []

    def hook(_s: Session, ids: object) -> None:
        got.extend(ids)  # type: ignore[call-overload]

    register_on_items_created(hook)
    try:
        job = run(
            db_session,
            a,
            "".join(f"https://x.com/syn_l_{i}\n" for i in range(7)),
            "l.txt",
            chunk_rows=3,
        )
    finally:
        unregister_on_items_created(hook)
    ids = db_session.scalars(select(Sighting.item_id).where(Sighting.import_id == job.id))
    assert sorted(got) == sorted(ids) and len(got) == 7


# --- all or nothing ---------------------------------------------------------------------------


class Boom(Exception):
    pass


class ExplodingStream(io.RawIOBase):
    """Serves ``data`` and then fails, as a dropped upload or a full disk would."""

    def __init__(self, data: bytes, fail_after: int) -> None:
        self._data = io.BytesIO(data)
        self._left = fail_after

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        if self._left <= 0:
            raise Boom("connection lost")
        chunk = self._data.read(min(len(b), self._left))
        self._left -= len(chunk)
        b[: len(chunk)] = chunk
        return len(chunk)


def test_crash_mid_file_leaves_nothing(session_factory: sessionmaker[Session]) -> None:
    with session_scope(session_factory) as s:
        a = make_actor(s)
        before = (count(s, Item), count(s, Sighting), count(s, ImportJob))
    data = "".join(f"https://x.com/syn_crash_{i}/status/{i}\n" for i in range(6_000)).encode()
    stream = io.BufferedReader(ExplodingStream(data, fail_after=len(data) // 2), 4096)
    created: list[int] = []

    def hook(_s: Session, ids: object) -> None:
        created.extend(ids)  # type: ignore[call-overload]

    register_on_items_created(hook)
    try:
        with pytest.raises(Boom), session_scope(session_factory) as s:
            intake.import_stream(s, a.principal, stream, filename="l.txt", chunk_rows=500)
    finally:
        unregister_on_items_created(hook)
    assert len(created) >= 500  # at least one chunk was already written when it failed
    with session_scope(session_factory) as s:
        assert (count(s, Item), count(s, Sighting), count(s, ImportJob)) == before


def test_failing_hook_rolls_back_everything(session_factory: sessionmaker[Session]) -> None:
    with session_scope(session_factory) as s:
        a = make_actor(s)
        before = (count(s, Item), count(s, Sighting))
    calls = 0

    def hook(_s: Session, _ids: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise Boom("matcher down")

    register_on_items_created(hook)
    try:
        with pytest.raises(Boom), session_scope(session_factory) as s:
            run(
                s,
                a,
                "".join(f"https://x.com/syn_m_{i}\n" for i in range(100)),
                "l.txt",
                chunk_rows=10,
            )
    finally:
        unregister_on_items_created(hook)
    with session_scope(session_factory) as s:
        assert (count(s, Item), count(s, Sighting)) == before


# --- memory -----------------------------------------------------------------------------------


class LazyFile(io.RawIOBase):
    """A file generated on the fly, so the test itself holds no copy of it."""

    def __init__(self, rows: int, tag: str) -> None:
        self._lines: Iterator[bytes] = (
            f"https://x.com/syn_{tag}_{i}/status/{i},synthetic note {i}\n".encode()
            for i in range(rows)
        )
        self._buf = b"url,note\n"

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray) -> int:  # type: ignore[override]
        while len(self._buf) < len(b):
            nxt = next(self._lines, None)
            if nxt is None:
                break
            self._buf += nxt
        n = min(len(b), len(self._buf))
        b[:n], self._buf = self._buf[:n], self._buf[n:]
        return n


def _peak(session: Session, actor: Actor, rows: int, tag: str) -> int:
    # The canonicaliser's bounded host cache empties itself when full, so its size at the
    # peak depends on earlier tests; every measurement starts it empty.
    clear_authority_cache()
    tracemalloc.start()
    try:
        job = intake.import_stream(
            session,
            actor.principal,
            io.BufferedReader(LazyFile(rows, tag)),
            filename="big.csv",
            chunk_rows=1000,
        )
        _cur, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert job.rows_ok == rows
    return peak


def test_memory_stays_flat(sqlite_session: Session) -> None:
    """Four times the rows must not need noticeably more memory (streamed, chunked)."""
    a = make_actor(sqlite_session)
    # Both sizes are past the point where the chunk pipeline is full (several chunks in
    # flight); below it, peak memory still rises with the first chunks, by design.
    small = _peak(sqlite_session, a, 8_000, "mem_s")
    large = _peak(sqlite_session, a, 32_000, "mem_l")
    # 32k rows of this file are ~2.2 MB of text and tens of MB as row objects.
    assert large < small * 1.5, (small, large)


# --- property: re-importing never creates items -----------------------------------------------

URL_FORMS = st.sampled_from(
    [
        "https://twitter.com/syn_p{n}/status/{n}",
        "https://x.com/syn_p{n}/status/{n}?utm_source=t",
        "https://youtu.be/SyP{n:08d}",
        "https://www.youtube.com/watch?v=SyP{n:08d}",
        "https://t.me/s/syn_chan_p{n}",
        "https://t.me/syn_chan_p{n}/{n}",
        "https://m.facebook.com/profile.php?id=10000{n}",
        "https://example.org/p/{n}#frag",
        "not a url {n}",
        "",
    ]
)
ROWS = st.lists(st.tuples(URL_FORMS, st.integers(0, 30)), min_size=1, max_size=40)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=ROWS, fmt=st.sampled_from(["urls", "csv", "jsonl"]))
def test_reimport_never_creates_items(
    sqlite_session: Session, rows: list[tuple[str, int]], fmt: str
) -> None:
    # An agency acting without a user: no password hashing per example.
    ag = make_agency(sqlite_session)
    a = Actor(None, ag, "", Principal(user_id=0, agency_id=ag.id, role=Role.ANALYST, via="cli"))  # type: ignore[arg-type]
    urls = [form.format(n=n) for form, n in rows]
    if fmt == "urls":
        data = "\n".join(urls) + "\n"
    elif fmt == "csv":
        data = "url\n" + "\n".join(f'"{u}"' for u in urls) + "\n"
    else:
        data = "\n".join(json.dumps({"url": u}) for u in urls) + "\n"
    first = run(sqlite_session, a, data, filename=f"f.{fmt}", format=fmt)
    items = count(sqlite_session, Item)
    second = run(sqlite_session, a, data, filename=f"f.{fmt}", format=fmt)
    assert second.items_created == 0
    assert count(sqlite_session, Item) == items
    assert second.rows_ok == first.rows_ok and second.duplicates_folded == second.rows_ok


def test_imported_times_compare_like_orm_written_ones(db_session: Session) -> None:
    """The bulk path stores datetimes exactly as the ORM does (SQLite compares text)."""
    from takedown.items import service
    from takedown.items.repository import ItemFilters

    a = make_actor(db_session)
    run(
        db_session,
        a,
        "url,reported_at\n"
        "https://x.com/syn_t1/status/1,2026-05-01T10:00:00Z\n"
        "https://x.com/syn_t2/status/2,2026-05-01T14:00:00+02:00\n"
        "https://x.com/syn_t3/status/3,2026-05-03T00:00:00Z\n",
    )
    orm, _ = service.report_url(
        db_session,
        a.principal,
        "https://x.com/syn_t4/status/4",
        reported_at=dt.datetime(2026, 5, 1, 11, tzinfo=dt.UTC),
    )

    def identities(**kw: dt.datetime) -> list[str]:
        rows, _ = service.list_items(db_session, a.principal, ItemFilters(**kw))  # type: ignore[arg-type]
        return sorted(r.identity for r in rows)

    noon = dt.datetime(2026, 5, 1, 12, 30, tzinfo=dt.UTC)
    assert identities(first_seen_to=noon) == ["x:status/1", "x:status/2", "x:status/4"]
    assert identities(first_seen_from=noon) == ["x:status/3"]
    item = db_session.scalar(select(Item).where(Item.identity == "x:status/2"))
    assert item is not None and item.first_seen_at == dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)
    assert orm.first_seen_at < noon
    if db_session.get_bind().dialect.name == "sqlite":
        import re

        raw = db_session.connection().exec_driver_sql(
            "SELECT first_seen_at, last_seen_at, created_at FROM items"
            " WHERE identity IN ('x:status/1', 'x:status/4')"
        )
        stored = [v for row in raw for v in row]
        assert len(stored) == 6
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", v) for v in stored)


def test_bulk_path_stores_every_column_as_given(db_session: Session) -> None:
    """Every column the bulk writer sends (COPY on PostgreSQL) lands in its own place."""
    a = make_actor(db_session)
    job = run(
        db_session,
        a,
        "url,reported_at,note,source,title\n"
        "https://x.com/syn_v/status/1?s=20,2026-05-01T10:00:00+02:00,a note,tip line,\n"
        "https://youtu.be/SynthVid009,,,,a title\n"
        "https://twitter.com/syn_v/status/1,2026-04-30,second,,\n",
        filename="cols.csv",
    )
    assert (job.rows_ok, job.items_created, job.duplicates_folded) == (3, 2, 1)
    post = db_session.scalar(select(Item).where(Item.identity == "x:status/1"))
    video = db_session.scalar(select(Item).where(Item.identity == "youtube:video/SynthVid009"))
    assert post is not None and video is not None
    db_session.refresh(post)
    db_session.refresh(video)
    assert (post.platform, post.kind, post.key, post.parent_identity) == (
        "x",
        "post",
        "status/1",
        "x:account/syn_v",
    )
    assert (post.canonical_url, post.status, post.title) == (
        "https://x.com/syn_v/status/1",
        "new",
        None,
    )
    assert (post.first_seen_at, post.last_seen_at) == (
        dt.datetime(2026, 4, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 5, 1, 8, tzinfo=dt.UTC),
    )
    assert post.created_at == post.status_changed_at == CLOCK.now()
    assert post.first_referred_at is None and post.language is None
    assert (video.title, video.parent_identity, video.first_seen_at) == (
        "a title",
        None,
        CLOCK.now(),
    )
    rows = db_session.execute(
        select(
            Sighting.line_no,
            Sighting.item_id,
            Sighting.agency_id,
            Sighting.reported_url,
            Sighting.reported_at,
            Sighting.reported_by,
            Sighting.source,
            Sighting.note,
        )
        .where(Sighting.import_id == job.id)
        .order_by(Sighting.line_no)
    ).all()
    ag, user = a.agency.id, a.principal.user_id
    assert [tuple(r) for r in rows] == [
        (
            2,
            post.id,
            ag,
            "https://x.com/syn_v/status/1?s=20",
            dt.datetime(2026, 5, 1, 8, tzinfo=dt.UTC),
            user,
            "tip line",
            "a note",
        ),
        (3, video.id, ag, "https://youtu.be/SynthVid009", CLOCK.now(), user, "cols.csv", ""),
        (
            4,
            post.id,
            ag,
            "https://twitter.com/syn_v/status/1",
            dt.datetime(2026, 4, 30, tzinfo=dt.UTC),
            user,
            "cols.csv",
            "second",
        ),
    ]
    assert all(r.reported_at.tzinfo is dt.UTC for r in rows)


@given(
    st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.sampled_from(
            [
                dt.UTC,
                dt.timezone(dt.timedelta(hours=2)),
                dt.timezone(dt.timedelta(hours=-9, minutes=-30)),
            ]
        ),
    )
)
def test_bulk_sqlite_times_are_the_orms_text(value: dt.datetime) -> None:
    """intake writes SQLite datetimes with isoformat; the ORM's processor must agree exactly."""
    from sqlalchemy.dialects import sqlite

    from takedown.db import UTCDateTime
    from takedown.items.intake_repository import sqlite_utc_text

    dialect = sqlite.dialect()
    orm = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert orm is not None
    assert sqlite_utc_text(value) == orm(value)


def test_parse_when_accepts_what_it_did() -> None:
    now = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    want = dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC)
    for raw in (
        "2026-05-01T10:00:00Z",
        " 2026-05-01T12:00:00+02:00 ",
        "2026-05-01 10:00",
        "01/05/2026 10:00",
        "01.05.2026 10:00:00",
        int(want.timestamp()),
        float(want.timestamp()),
        str(int(want.timestamp() * 1000)),
    ):
        got = intake.parse_when(raw, now)
        assert got == want and got.tzinfo is dt.UTC, raw
    for bad in (True, None, "yesterday", "2026-13-01", "1999-12-31T00:00:00Z", "2026-06-03"):
        with pytest.raises(ValueError):
            intake.parse_when(bad, now)
