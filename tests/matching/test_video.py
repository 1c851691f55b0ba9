"""Video frames get the image pipeline's border and logo-bar recovery (#17).

A query video's uniform borders (letterbox, pillarbox, padding) are decided once per clip
from several frames and every frame is also hashed without them (``trimmed``); every
frame has a band (its middle rows), stored in the derived ``video_pdq_inner`` signal, so a
logo bar over the top or bottom matches. Synthetic clips only.
"""

from __future__ import annotations

import json

import numpy as np
import pdqhash
import pytest
from sqlalchemy.orm import Session

from takedown.kit.errors import InvalidInput
from takedown.matching import io as bank_io
from takedown.matching import service
from takedown.matching.engine import MatchingEngine, codes_for
from takedown.matching.hashers.image import bits_to_hex
from takedown.matching.hashers.video import (
    VideoOptions,
    VideoPdqHasher,
    decode_entries,
    decode_frames,
    encode_frames,
    hash_video,
    trim_boxes,
    video_borders,
)
from takedown.matching.schemas import Labels, SignalIn
from takedown.sim.media import encode_mp4, make_poster
from tests.matching import media
from tests.matching.factories import enrolled_videos, make_bank, make_supervisor, signal_of

# Seeds whose testbed ``pad`` is a letterbox (20) and a pillarbox (24, 64: its frames cut
# exactly at the bars are 32-38 bits away, one line further in 18-24); seeds whose
# ``logo_bar`` clip the frames' own PDQ and inner windows missed (5, 12).
PAD_SEEDS = (20, 24, 64)
LOGO_SEEDS = (5, 12)


def _distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _clip(frames: list[np.ndarray], fps: int = 8) -> bytes:
    return encode_mp4(frames, fps=fps, crf=18)


def test_borders_are_decided_once_per_video_by_the_median_of_frames() -> None:
    # A subtitle in one frame's bar (shallower), a dark scene running into the bar in
    # another (deeper): the median of the frames keeps the true 10 % bars.
    votes = [(0.1, 0.1, 0, 0), (0.1, 0.05, 0, 0), (0.2, 0.1, 0, 0), (0.1, 0.1, 0, 0)]
    assert video_borders(votes) == (0.1, 0.1, 0, 0)
    assert video_borders([]) == (0.0, 0.0, 0.0, 0.0)
    assert trim_boxes((0.1, 0.1, 0.0, 0.0)) == [("trimmed", (0.1, 0.1, 0.0, 0.0))]
    # Opposite borders that differ also give the even cut; tiny or overwhelming ones nothing.
    assert [n for n, _ in trim_boxes((0.1, 0.15, 0.0, 0.0))] == ["trimmed", "trimmed_even"]
    assert trim_boxes((0.01, 0.01, 0.0, 0.0)) == []
    assert trim_boxes((0.4, 0.4, 0.0, 0.0)) == []


def test_a_letterboxed_clip_is_trimmed_the_same_in_every_frame() -> None:
    """One frame has a subtitle in the bottom bar, one is black (a fade), one has a dark
    top edge that runs into the bar: every content frame is trimmed at the true bars."""
    content = np.asarray(make_poster(7, (320, 180)).convert("RGB"))
    seconds: list[np.ndarray] = []
    for k in range(5):
        frame = np.zeros((240, 320, 3), np.uint8)
        body = content.copy()
        if k == 3:
            body[:20] = 0  # the scene's dark top edge
        frame[30:210] = body
        if k == 1:
            frame[214:226, 80:240] = 255  # a subtitle in the bar
        if k == 2:
            frame[:] = 0  # a fade to black
        seconds.append(frame)
    clip = _clip([f for f in seconds for _ in range(8)])
    results = hash_video(clip, VideoOptions(trim=True))
    trimmed = {r.extra["t"]: r for r in results if r.variant == "trimmed"}
    assert not [r for r in results if r.variant == "trimmed_even"]
    for k, frame in enumerate(seconds):
        if k == 2:
            continue
        want = bits_to_hex(pdqhash.compute(np.ascontiguousarray(frame[30:210]))[0])
        got = trimmed[float(k)]
        assert _distance(got.value, want) <= 16, k


def test_a_clip_without_borders_gets_no_trimmed_frames_and_enrolment_none() -> None:
    clip = media.video(3, seconds=2.0)
    assert not [r for r in hash_video(clip, VideoOptions(trim=True)) if r.variant != "frame"]
    padded = media.video(PAD_SEEDS[0], seconds=2.0, variant="pad")
    assert [r for r in hash_video(padded, VideoOptions(trim=True)) if r.variant == "trimmed"]
    _, stored = service.hash_media(padded, "video", query=False)
    assert not [r for r in stored if r.variant.startswith("trimmed")]


def test_every_frame_gets_a_band_stored_in_the_inner_signal() -> None:
    results = hash_video(media.video(4, seconds=3.0), VideoOptions(inner=True, band=True))
    frames = [r for r in results if r.variant == "frame"]
    bands = [r for r in results if r.variant == "band"]
    assert [r.extra["t"] for r in bands] == [r.extra["t"] for r in frames]
    assert all(r.signal_type == "video_pdq_inner" for r in bands)
    stored = dict((t, (v, var)) for t, v, var in service.signals_from_media(results))
    inner_value, variant = stored["video_pdq_inner"]
    assert variant == "inner"
    got_frames, got_bands = decode_entries(inner_value)
    assert [h for _, h in got_bands] == [r.value for r in bands if r.usable]
    assert len(got_frames) == len(frames)
    # The frame list (video_pdq) is unchanged: no band entries in it.
    assert decode_entries(stored["video_pdq"][0])[1] == []


def test_band_entries_round_trip_and_old_values_still_read() -> None:
    frames = [(0.0, "a" * 64), (1.5, "b" * 64)]
    bands = [(0.0, "c" * 64), (1.5, "d" * 64)]
    value = encode_frames(frames, bands)
    assert value.endswith("b1.5:" + "d" * 64)
    assert decode_entries(value) == (frames, bands)
    # The index holds every code of the value, frames then bands.
    assert decode_frames(value) == frames + bands
    assert len(codes_for("video_pdq_inner", value)) == 4
    # A value stored before bands reads as before.
    assert decode_entries(encode_frames(frames)) == (frames, [])
    assert service.normalise_value("video_pdq_inner", value) == value
    with pytest.raises(InvalidInput, match="video_pdq_inner"):
        service.normalise_value("video_pdq", value)


def test_padded_clips_match_through_their_trimmed_frames(sqlite_session: Session) -> None:
    engine, sup, enrolled = enrolled_videos(sqlite_session, PAD_SEEDS)
    ids = {seed: signal_of(sigs, "video_pdq").id for seed, sigs in enrolled.items()}
    for seed in PAD_SEEDS:
        clip = media.video(seed, seconds=3.0, variant="pad")
        report = service.match_media(sqlite_session, sup.principal, clip, engine=engine)
        hits = {m.signal_id: m for m in report.matches if m.signal_type == "video_pdq"}
        assert set(hits) == {ids[seed]}, seed
        assert hits[ids[seed]].variant.startswith("trimmed")
        assert (hits[ids[seed]].fraction or 0) >= 0.5


def test_logo_bar_clips_match_through_the_band(sqlite_session: Session) -> None:
    engine, sup, enrolled = enrolled_videos(sqlite_session, LOGO_SEEDS)
    ids = {seed: signal_of(sigs, "video_pdq").id for seed, sigs in enrolled.items()}
    for seed in LOGO_SEEDS:
        clip = media.video(seed, seconds=3.0, variant="logo_bar")
        report = service.match_media(sqlite_session, sup.principal, clip, engine=engine)
        hits = {m.signal_id: m for m in report.matches if m.signal_type == "video_pdq"}
        assert set(hits) == {ids[seed]}, seed
        hit = hits[ids[seed]]
        assert hit.variant == "band/inner"
        # The signal's frames are counted by time: a frame covered through its band
        # counts once (not as half of its inner + band codes).
        assert hit.fraction == 1.0 and hit.signal_fraction == 1.0
    other = media.video(40, seconds=3.0, variant="logo_bar")
    report = service.match_media(sqlite_session, sup.principal, other, engine=engine)
    assert not [m for m in report.matches if m.signal_type == "video_pdq"]


def test_video_signals_stored_before_bands_still_match(sqlite_session: Session) -> None:
    """An old ``video_pdq`` (frames only, no inner signal) and an old inner signal without
    band entries still index and match."""
    engine = MatchingEngine(sync_interval=0.0)
    sup = make_supervisor(sqlite_session)
    bank = make_bank(sqlite_session, sup)
    clip = media.video(30, seconds=3.0)
    frames = [(float(r.extra["t"]), r.value) for r in VideoPdqHasher().hash(clip) if r.usable]
    sig = service.add_signal(
        sqlite_session,
        sup.principal,
        bank.id,
        SignalIn(signal_type="video_pdq", value=encode_frames(frames)),
        engine=engine,
    )
    report = service.match_media(
        sqlite_session,
        sup.principal,
        media.video(30, seconds=3.0, variant="reencode"),
        engine=engine,
    )
    hit = next(m for m in report.matches if m.signal_id == sig.id)
    assert hit.variant == "frame" and (hit.fraction or 0) >= 0.5
    inner = [
        (float(r.extra["t"]), r.value)
        for r in hash_video(clip, VideoOptions(inner=True))
        if r.variant == "inner" and r.usable
    ]
    assert len(codes_for("video_pdq_inner", encode_frames(inner))) == len(inner)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_video_bands_never_leave_the_instance(sqlite_session: Session, fmt: str) -> None:
    """The bands live in the derived inner signal: bank exports and sharing (STIX file
    objects, MISP) carry the frame list only."""
    from takedown.sharing import gather

    sup = make_supervisor(sqlite_session)
    bank = make_bank(sqlite_session, sup, tlp="GREEN")
    signals = service.add_media(
        sqlite_session,
        sup.principal,
        bank.id,
        media.video(31, seconds=2.0),
        labels=Labels(group="g"),
    )
    inner = next(s for s in signals if s.signal_type == "video_pdq_inner")
    _, bands = decode_entries(inner.value)
    assert bands
    data, _ = bank_io.export_signals(sqlite_session, sup.principal, bank.id, fmt)
    assert b"video_pdq_inner" not in data
    assert not [h for _, h in bands if h.encode() in data]
    assert b"video_pdq" in data
    facts = list(gather.bank_media(sqlite_session, sup.principal, bank.id))
    dumped = json.dumps([[(s.signal_type, s.value) for s in f.signals] for f in facts])
    assert "video_pdq_inner" not in dumped and "video_pdq" in dumped
    assert not [h for _, h in bands if h in dumped]


def test_a_clip_matching_partly_through_frames_and_partly_through_inner_hashes_matches(
    sqlite_session: Session,
) -> None:
    """Testbed overlay_text on seed 10: of 3 sampled frames, two match through their frame
    PDQ (24 and 10 bits) and one of those closer through its inner region (8 bits). The
    video's frames count once whichever of its signals they matched: 2 of 3. Judging only
    the closest signal (the inner one: 1 of 3 frames) missed it."""
    engine, sup, enrolled = enrolled_videos(sqlite_session, (10,))
    video = signal_of(enrolled[10], "video_pdq")
    clip = media.video(10, seconds=3.0, variant="overlay_text")
    report = service.match_media(sqlite_session, sup.principal, clip, engine=engine)
    hit = next(m for m in report.matches if m.signal_id == video.id)
    assert hit.fraction is not None and 0.5 <= hit.fraction < 1.0
    assert hit.ranges and hit.ranges[-1][1] == 2.0
