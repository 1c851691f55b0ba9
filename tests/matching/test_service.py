from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from takedown.audit.models import AuditEvent
from takedown.kit.errors import Forbidden, InvalidInput, NotFound
from takedown.matching import io as bank_io
from takedown.matching import service
from takedown.matching.engine import MatchingEngine
from takedown.matching.hashers.image import hash_image
from takedown.matching.models import STALE_VARIANT, Signal
from takedown.matching.schemas import Labels, SignalIn
from tests.factories import make_actor, make_agency
from tests.items.factories import make_item
from tests.matching import media
from tests.matching.factories import make_bank, make_supervisor

FIXTURES = Path(__file__).parent / "fixtures"
LABELS = Labels(
    group="Example Front", outlet="Example Media", content_type="poster", tco_category="c", tier=3
)


@pytest.fixture
def engine() -> MatchingEngine:
    return MatchingEngine(sync_interval=0.0)


def test_add_media_then_variants_match_with_labels(
    db_session: Session, engine: MatchingEngine
) -> None:
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    signals = service.add_media(
        db_session, sup.principal, bank.id, media.poster(31), labels=LABELS, engine=engine
    )
    assert {(s.signal_type, s.variant) for s in signals} == {
        ("sha256", "original"),
        ("md5", "original"),
        ("pdq", "original"),
        ("pdq_inner", "inner"),
    }
    inner = next(s for s in signals if s.signal_type == "pdq_inner")
    original = next(s for s in signals if (s.signal_type, s.variant) == ("pdq", "original"))
    assert inner.parent_id == original.id and inner.labels == original.labels
    exact = service.match_media(db_session, sup.principal, media.poster(31), engine=engine)
    assert {m.signal_type for m in exact.matches} >= {"sha256", "md5", "pdq"}
    for variant, expect in (("mirror", "mirror"), ("pad", "trimmed"), ("logo_bar", "inner")):
        report = service.match_media(
            db_session, sup.principal, media.poster(31, variant), engine=engine
        )
        pdq = [m for m in report.matches if m.signal_type == "pdq"]
        assert pdq, variant
        assert pdq[0].distance <= 31 and pdq[0].labels["group"] == "Example Front"
        assert expect in {m.variant for m in pdq}, (variant, [m.variant for m in pdq])
        assert report.attribution["tco_category"] == "c"
    other = service.match_media(db_session, sup.principal, media.poster(32), engine=engine)
    assert other.matches == []


def test_new_signal_is_matchable_at_once_and_disable_takes_effect(
    db_session: Session, engine: MatchingEngine
) -> None:
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    data = media.poster(40)
    value = hash_image(data)[0].value
    assert service.match_media(db_session, sup.principal, data, engine=engine).matches == []
    sig = service.add_signal(
        db_session, sup.principal, bank.id, SignalIn(signal_type="pdq", value=value), engine=engine
    )
    assert [
        m.signal_id
        for m in service.match_media(db_session, sup.principal, data, engine=engine).matches
    ] == [sig.id]
    service.set_signal_enabled(db_session, sup.principal, sig.id, False, engine=engine)
    assert service.match_media(db_session, sup.principal, data, engine=engine).matches == []
    assert db_session.get(Signal, sig.id) is not None  # disabled, not deleted
    service.set_signal_enabled(db_session, sup.principal, sig.id, True, engine=engine)
    assert service.match_media(db_session, sup.principal, data, engine=engine).matches


def test_another_process_sees_changes_through_sync(db_session: Session) -> None:
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    data = media.poster(41)
    reader = MatchingEngine(sync_interval=0.0)
    assert service.match_media(db_session, sup.principal, data, engine=reader).matches == []
    # Written with no engine at all (as another process would): the reader picks it up on sync.
    sig = service.add_signal(
        db_session,
        sup.principal,
        bank.id,
        SignalIn(signal_type="pdq", value=hash_image(data)[0].value),
    )
    assert [
        m.signal_id
        for m in service.match_media(db_session, sup.principal, data, engine=reader).matches
    ] == [sig.id]
    service.set_signal_enabled(db_session, sup.principal, sig.id, False)
    assert service.match_media(db_session, sup.principal, data, engine=reader).matches == []


def test_allow_list_suppresses_matches(db_session: Session, engine: MatchingEngine) -> None:
    sup = make_supervisor(db_session)
    known = make_bank(db_session, sup)
    allow = make_bank(db_session, sup, kind="allow")
    data = media.poster(50)
    service.add_media(db_session, sup.principal, known.id, data, engine=engine)
    assert service.match_media(db_session, sup.principal, data, engine=engine).matches
    value = hash_image(data)[0].value
    service.add_signal(
        db_session, sup.principal, allow.id, SignalIn(signal_type="pdq", value=value), engine=engine
    )
    report = service.match_media(db_session, sup.principal, data, engine=engine)
    assert report.matches == []
    assert report.suppressed and report.allowed_by[0].bank_id == allow.id


def test_per_bank_threshold(db_session: Session, engine: MatchingEngine) -> None:
    sup = make_supervisor(db_session)
    strict = make_bank(db_session, sup, thresholds={"pdq": 0})
    value = hash_image(media.poster(60))[0].value
    service.add_signal(
        db_session,
        sup.principal,
        strict.id,
        SignalIn(signal_type="pdq", value=value),
        engine=engine,
    )
    resized = media.poster(60, "resize")
    q = hash_image(resized)[0].value
    assert q != value
    assert service.match_media(db_session, sup.principal, resized, engine=engine).matches == []
    assert service.match_value(db_session, sup.principal, "pdq", value, engine=engine).matches


def test_quality_below_50_never_matches(db_session: Session, engine: MatchingEngine) -> None:
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    flat = media.flat_image()
    signals = service.add_media(db_session, sup.principal, bank.id, flat, engine=engine)
    assert {s.signal_type for s in signals} == {"sha256", "md5"}
    report = service.match_media(
        db_session, sup.principal, media.flat_image((129, 128, 128)), engine=engine
    )
    assert report.no_usable_hash and report.matches == []


def test_tenancy_red_banks_stay_home(db_session: Session, engine: MatchingEngine) -> None:
    a = make_supervisor(db_session)
    b = make_supervisor(db_session)
    red = make_bank(db_session, a, tlp="RED", shared=True)
    amber_private = make_bank(db_session, a, tlp="AMBER")
    green = make_bank(db_session, a, tlp="GREEN")
    for bank, seed in ((red, 70), (amber_private, 71), (green, 72)):
        service.add_media(db_session, a.principal, bank.id, media.poster(seed), engine=engine)
    visible_to_b = {x.id for x in service.list_banks(db_session, b.principal)}
    assert (
        green.id in visible_to_b
        and red.id not in visible_to_b
        and amber_private.id not in visible_to_b
    )
    assert (
        service.match_media(db_session, b.principal, media.poster(70), engine=engine).matches == []
    )
    assert (
        service.match_media(db_session, b.principal, media.poster(71), engine=engine).matches == []
    )
    assert service.match_media(db_session, b.principal, media.poster(72), engine=engine).matches
    assert service.match_media(db_session, a.principal, media.poster(70), engine=engine).matches
    with pytest.raises(NotFound):
        service.get_bank(db_session, b.principal, red.id)
    with pytest.raises(Forbidden):
        service.add_signal(
            db_session, b.principal, green.id, SignalIn(signal_type="md5", value="0" * 32)
        )
    with pytest.raises(NotFound):
        bank_io.export_signals(db_session, b.principal, red.id, "json")


def test_red_signal_in_shared_bank_is_hidden(db_session: Session, engine: MatchingEngine) -> None:
    a = make_supervisor(db_session)
    b = make_actor(db_session)
    shared = make_bank(db_session, a, tlp="AMBER", shared=True)
    value = hash_image(media.poster(75))[0].value
    service.add_signal(
        db_session,
        a.principal,
        shared.id,
        SignalIn(signal_type="pdq", value=value, tlp="RED"),
        engine=engine,
    )
    assert service.match_value(db_session, b.principal, "pdq", value, engine=engine).matches == []
    assert service.match_value(db_session, a.principal, "pdq", value, engine=engine).matches
    data, _ = bank_io.export_signals(db_session, b.principal, shared.id, "json")
    assert json.loads(data)["signals"] == []


def test_analyst_cannot_create_bank_and_liaison_cannot_write(db_session: Session) -> None:
    analyst = make_actor(db_session)
    with pytest.raises(Forbidden):
        make_bank(db_session, analyst)
    sup = make_supervisor(db_session, analyst.agency)
    bank = make_bank(db_session, sup, tlp="GREEN")
    liaison = make_actor(
        db_session,
        make_agency(db_session, kind="platform", platform_slug="example-video"),
        role="liaison",
    )
    with pytest.raises(Forbidden):
        service.add_signal(
            db_session, liaison.principal, bank.id, SignalIn(signal_type="md5", value="1" * 32)
        )
    # An analyst of the owning agency may add signals.
    service.add_signal(
        db_session, analyst.principal, bank.id, SignalIn(signal_type="md5", value="1" * 32)
    )


def test_item_hook_records_results_and_removed_content_bank(
    db_session: Session, engine: MatchingEngine
) -> None:
    sup = make_supervisor(db_session)
    first, second, third = (make_item(db_session, sup).id for _ in range(3))
    data = media.poster(80)
    assert service.match_item_media(db_session, first, data, engine=engine).matches == []
    signals = service.add_removed_media(db_session, first, data, labels=LABELS, engine=engine)
    assert all(s.item_id == first for s in signals)
    report = service.match_item_media(
        db_session, second, media.poster(80, "reencode"), engine=engine
    )
    assert report.matches and report.matches[0].bank_name == "removed-content"
    assert report.matches[0].item_id == first
    rows = service.results_for_item(db_session, second)
    assert (
        rows and rows[0].status == "new" and rows[0].details["labels"]["group"] == "Example Front"
    )
    # Same bank on the second call.
    again = service.add_removed_media(db_session, third, media.poster(81), engine=engine)
    assert {s.bank_id for s in again} == {signals[0].bank_id}


def test_video_matches_by_frame_fraction_with_ranges(
    db_session: Session, engine: MatchingEngine
) -> None:
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    clip = media.video(90, seconds=4.0)
    signals = service.add_media(
        db_session, sup.principal, bank.id, clip, labels=LABELS, engine=engine
    )
    assert "video_pdq" in {s.signal_type for s in signals}
    report = service.match_media(
        db_session, sup.principal, media.video(90, seconds=4.0, variant="reencode"), engine=engine
    )
    hit = next(m for m in report.matches if m.signal_type == "video_pdq")
    assert hit.fraction is not None and hit.fraction >= 0.5
    assert hit.ranges and hit.ranges[0][0] == 0.0
    other = service.match_media(
        db_session, sup.principal, media.video(91, seconds=3.0), engine=engine
    )
    assert not [m for m in other.matches if m.signal_type == "video_pdq"]


def test_text_near_duplicates(db_session: Session, engine: MatchingEngine) -> None:
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    text = "يفتح سوق النهر عند الفجر، وتضاء كل الفوانيس على جسر الميناء لموكب الصباح والمساء."
    service.add_media(db_session, sup.principal, bank.id, text.encode(), engine=engine)
    edited = text.replace("ا", "أ", 2).replace("سوق", "سُوق") + " !!"
    report = service.match_media(db_session, sup.principal, edited.encode(), engine=engine)
    assert [m.signal_type for m in report.matches] == ["text_simhash"]


def test_invalid_values_are_refused(db_session: Session) -> None:
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    with pytest.raises(InvalidInput):
        service.add_signal(
            db_session, sup.principal, bank.id, SignalIn(signal_type="pdq", value="xyz")
        )
    with pytest.raises(InvalidInput):
        service.add_signal(
            db_session, sup.principal, bank.id, SignalIn(signal_type="md5", value="g" * 32)
        )


def test_import_tat_fixture(db_session: Session, engine: MatchingEngine) -> None:
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    data = (FIXTURES / "tat_hash_list.json").read_bytes()
    report = bank_io.import_signals(db_session, sup.principal, bank.id, data, "tat", engine=engine)
    assert (report.added, report.unchanged) == (3, 1)
    assert sorted(e["row"] for e in report.errors) == [5, 6]
    again = bank_io.import_signals(db_session, sup.principal, bank.id, data, "tat", engine=engine)
    assert again.added == 0 and again.unchanged == 4
    # The PDQ entry is the fixture's hash of poster 21: a re-encode of it matches.
    m = service.match_media(
        db_session, sup.principal, media.poster(21, "reencode"), engine=engine
    ).matches
    assert m and m[0].source == "tat" and m[0].labels["ideology"] == "islamist"
    # A later list marks an entry deleted: the signal is disabled.
    doc = json.loads(data)
    doc["results"][2]["deleted"] = True
    gone = bank_io.import_signals(
        db_session, sup.principal, bank.id, json.dumps(doc).encode(), "tat", engine=engine
    )
    assert gone.disabled == 1
    assert (
        service.match_media(
            db_session, sup.principal, media.poster(21, "reencode"), engine=engine
        ).matches
        == []
    )


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_import_round_trip(db_session: Session, fmt: str) -> None:
    sup = make_supervisor(db_session)
    src = make_bank(db_session, sup)
    service.add_media(db_session, sup.principal, src.id, media.poster(95), labels=LABELS)
    service.add_signal(
        db_session,
        sup.principal,
        src.id,
        SignalIn(signal_type="md5", value="a" * 32, enabled=False),
    )
    data, _ = bank_io.export_signals(db_session, sup.principal, src.id, fmt)
    dst = make_bank(db_session, sup)
    report = bank_io.import_signals(db_session, sup.principal, dst.id, data, fmt)
    assert report.errors == [] and report.added == 3 and report.unchanged == 1

    def snapshot(bank_id: int) -> set[tuple[str, str, str, str | None, bool]]:
        rows = db_session.query(Signal).filter(Signal.bank_id == bank_id).all()
        return {
            (s.signal_type, s.value, s.variant, (s.labels or {}).get("group"), s.enabled)
            for s in rows
        }

    # The derived inner-region signal stays behind: it is never exported.
    assert b"pdq_inner" not in data
    assert {r for r in snapshot(src.id) if r[4] and r[0] != "pdq_inner"} == snapshot(dst.id)


def test_import_keeps_good_rows_beside_bad_ones(db_session: Session) -> None:
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    csv_data = (
        "signal_type,value,group,tier,tco_category\n"
        f"md5,{'b' * 32},Example Front,2,a\n"
        "md5,nothex,,,\n"
        f"sha256,{'c' * 64},,9,\n"
        f"pdq,{'d' * 64},,,(e)\n"
    ).encode()
    report = bank_io.import_signals(db_session, sup.principal, bank.id, csv_data, "csv")
    assert report.added == 2
    assert [e["row"] for e in report.errors] == [3, 4]
    with pytest.raises(InvalidInput):
        bank_io.import_signals(db_session, sup.principal, bank.id, b"{not json", "json")


def test_engine_snapshot_persists_and_catches_up(db_session: Session, tmp_path: Path) -> None:
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    first = MatchingEngine(tmp_path / "idx", sync_interval=0.0)
    service.add_media(db_session, sup.principal, bank.id, media.poster(97), engine=first)
    first.sync(db_session, force=True)
    first.save()
    assert (tmp_path / "idx" / "pdq" / "meta.json").exists()
    later = service.add_signal(
        db_session,
        sup.principal,
        bank.id,
        SignalIn(signal_type="pdq", value=hash_image(media.poster(98))[0].value),
    )
    second = MatchingEngine(tmp_path / "idx", sync_interval=0.0)
    assert service.match_media(db_session, sup.principal, media.poster(97), engine=second).matches
    assert [
        m.signal_id
        for m in service.match_media(
            db_session, sup.principal, media.poster(98), engine=second
        ).matches
    ] == [later.id]


def test_sniff_media_type() -> None:
    assert service.sniff_media_type(media.poster(1)) == "image"
    assert service.sniff_media_type(media.video(1, seconds=1.0)) == "video"
    assert service.sniff_media_type("نص عربي".encode()) == "text"
    assert service.sniff_media_type(b"\x00\xff\xfe\x00") == "file"


def test_import_reads_the_bank_a_chunk_at_a_time_and_finds_repeats_across_chunks(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hash list is looked up by digest a chunk at a time (the bank is never loaded
    whole); a value repeated in a later chunk, or already in the bank, is not added twice,
    and a bad row in one chunk does not stop the next."""
    from takedown.matching import repository as repo

    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    other = make_bank(db_session, sup, name="other bank")
    pre = f"md5,{'0' * 31}9,,,\n"  # already in the bank before the import
    bank_io.import_signals(
        db_session, sup.principal, bank.id, ("signal_type,value\n" + pre).encode(), "csv"
    )
    bank_io.import_signals(
        db_session, sup.principal, other.id, f"signal_type,value\nmd5,{'1' * 32}\n".encode(), "csv"
    )
    asked: list[int] = []
    real = repo.bank_signals_by_key

    def spy(
        session: Session, bank_id: int, keys: set[tuple[str, str]]
    ) -> dict[tuple[str, str], Signal]:
        asked.append(len(keys))
        return real(session, bank_id, keys)

    monkeypatch.setattr(repo, "bank_signals_by_key", spy)
    monkeypatch.setattr(bank_io, "IMPORT_CHUNK", 3)
    rows = [f"md5,{i:032x}" for i in range(1, 8)]  # 7 distinct values
    rows.insert(4, "md5,nothex")  # a bad row in the second chunk
    rows.append(f"md5,{1:032x}")  # row 1's value again, in the last chunk
    rows.append(f"md5,{'0' * 31}9")  # the value already in the bank
    rows.append(f"md5,{'1' * 32}")  # in the other bank only: new here
    data = ("signal_type,value\n" + "\n".join(rows) + "\n").encode()
    report = bank_io.import_signals(db_session, sup.principal, bank.id, data, "csv")
    assert (report.added, report.unchanged) == (8, 2)
    assert [e["row"] for e in report.errors] == [6]  # the header is row 1
    assert asked and max(asked) <= 3 and len(asked) == 4  # 11 rows in chunks of 3
    values = db_session.scalars(
        select(Signal.value).where(Signal.bank_id == bank.id, Signal.signal_type == "md5")
    ).all()
    assert len(values) == len(set(values)) == 9


def test_adding_media_again_renews_a_stale_inner_signal_in_place(
    db_session: Session, engine: MatchingEngine
) -> None:
    """A bank enrolled before the image region left logo bars out holds ``stale`` inner signals
    (migration ``matching_0200``): still searched, counted per bank, and renewed in place (same
    id, audited) when the media is added again."""
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    first = service.add_media(db_session, sup.principal, bank.id, media.poster(61), engine=engine)
    inner = next(s for s in first if s.signal_type == "pdq_inner")
    fresh = inner.value
    # What an older version stored: another region's hash, marked by the migration.
    inner.value, inner.digest, inner.variant = "0f" * 32, "0f" * 32, STALE_VARIANT
    db_session.flush()
    engine.apply_one(inner.id, inner.signal_type, inner.value, inner.enabled)
    assert service.stale_counts(db_session, [bank]) == {bank.id: 1}
    cropped = media.poster(61, "crop")

    def via_inner() -> list[str]:
        report = service.match_media(db_session, sup.principal, cropped, engine=engine)
        return [m.variant for m in report.matches if m.variant.endswith("inner")]

    assert via_inner() == []
    again = service.add_media(db_session, sup.principal, bank.id, media.poster(61), engine=engine)
    renewed = next(s for s in again if s.signal_type == "pdq_inner")
    assert (renewed.id, renewed.value, renewed.variant) == (inner.id, fresh, "inner")
    assert service.stale_counts(db_session, [bank]) == {}
    assert via_inner()
    events = db_session.query(AuditEvent).filter_by(action="matching.signal.renew").all()
    assert [(e.subject_type, e.subject_id) for e in events] == [("signal", str(inner.id))]
    assert events[0].actor_user_id == sup.principal.user_id  # who added the media again
    assert db_session.query(Signal).filter_by(bank_id=bank.id, signal_type="pdq_inner").count() == 1


def test_migration_marks_the_old_image_inner_signals_stale(db_session: Session) -> None:
    """``matching_0200`` marks every image inner signal of the old region ``stale`` and leaves
    video inner signals and other variants alone; its downgrade undoes exactly that."""
    import importlib.util

    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    import takedown.migrations

    versions = Path(takedown.migrations.__file__).parent / "versions"
    spec = importlib.util.spec_from_file_location("matching_0200", versions / "matching_0200.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    rows = {
        ("pdq_inner", "inner"): "a" * 64,
        ("video_pdq_inner", "inner"): "0:" + "b" * 64,
        ("pdq", "original"): "c" * 64,
    }
    for (t, v), value in rows.items():
        db_session.add(
            Signal(bank_id=bank.id, signal_type=t, value=value, digest=value[-64:], variant=v)
        )
    db_session.flush()

    def variants() -> dict[str, str]:
        db_session.expire_all()
        got = db_session.query(Signal).filter_by(bank_id=bank.id).all()
        return {s.signal_type: s.variant for s in got}

    with Operations.context(MigrationContext.configure(db_session.connection())):
        mod.upgrade()
        assert variants() == {"pdq_inner": "stale", "video_pdq_inner": "inner", "pdq": "original"}
        mod.downgrade()
        assert variants() == {"pdq_inner": "inner", "video_pdq_inner": "inner", "pdq": "original"}
