"""Crops, small rotations and mirror plus crop match through the inner-region signal (#17).

The bank stores, besides an image's PDQ and band, the PDQ of its centred inner region
(``pdq_inner``, linked to the original); the query side searches windows of the query
for that region. Generated images only: testbed posters and photo-like colour fields.
"""

from __future__ import annotations

from PIL import Image
from sqlalchemy.orm import Session

from takedown.matching import service
from takedown.matching.engine import MatchingEngine
from takedown.matching.hashers.image import hash_image
from takedown.matching.schemas import Labels
from takedown.sim.media import apply_variant, make_poster
from tests.matching import media
from tests.matching.factories import enrolled_videos, make_bank, make_supervisor, signal_of

RECOVERED = ("crop", "rotate", "crop_centred", "rotate_fill", "mirror_crop", "mirror_crop_offset")


def _images() -> dict[str, Image.Image]:
    out = {f"poster-{s}": make_poster(s, (640, 480)) for s in (3, 4, 5)}
    out.update({f"photo-{s}": media.photo_like(s) for s in (1, 2, 3)})
    return out


def test_plain_pdq_misses_these_edits() -> None:
    """The edits are hard: the unaltered PDQ of each edited image is far from the original."""
    img = make_poster(3, (640, 480))
    want = next(r for r in hash_image(media.jpeg(img)) if r.variant == "original")
    for variant in RECOVERED:
        got = next(r for r in hash_image(media.jpeg(apply_variant(img, variant, 3))))
        a, b = int(want.value, 16), int(got.value, 16)
        assert (a ^ b).bit_count() > 31, variant


def test_crops_and_rotations_match_their_original_and_nothing_else(
    sqlite_session: Session,
) -> None:
    db_session = sqlite_session
    engine = MatchingEngine(sync_interval=0.0)
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    originals: dict[int, str] = {}
    images = _images()
    for name, img in images.items():
        signals = service.add_media(
            db_session,
            sup.principal,
            bank.id,
            media.jpeg(img),
            labels=Labels(group=name),
            engine=engine,
        )
        pdq = next(s for s in signals if (s.signal_type, s.variant) == ("pdq", "original"))
        originals[pdq.id] = name
    for seed, (name, img) in enumerate(images.items()):
        for variant in RECOVERED:
            edited = media.jpeg(apply_variant(img, variant, seed))
            report = service.match_media(db_session, sup.principal, edited, engine=engine)
            hits = {originals.get(m.signal_id) for m in report.matches if m.signal_type == "pdq"}
            assert hits == {name}, (name, variant, [m.variant for m in report.matches])
            inner = [m for m in report.matches if m.variant.endswith("/inner")]
            assert inner and inner[0].signal_type == "pdq" and inner[0].distance <= 31
    # Unrelated images (other posters, other photo-like fields, and their crops): no match.
    for seed in range(40, 52):
        for img in (make_poster(seed, (640, 480)), media.photo_like(seed)):
            for variant in (None, "crop_centred"):
                data = media.jpeg(apply_variant(img, variant, seed))
                report = service.match_media(db_session, sup.principal, data, engine=engine)
                assert not [m for m in report.matches if m.signal_type != "sha256"], seed


def test_disabling_the_original_disables_its_inner_signal(db_session: Session) -> None:
    engine = MatchingEngine(sync_interval=0.0)
    sup = make_supervisor(db_session)
    bank = make_bank(db_session, sup)
    signals = service.add_media(db_session, sup.principal, bank.id, media.poster(7), engine=engine)
    original = next(s for s in signals if (s.signal_type, s.variant) == ("pdq", "original"))
    inner = next(s for s in signals if s.signal_type == "pdq_inner")
    cropped = media.jpeg(apply_variant(make_poster(7, (640, 480)), "crop_centred", 7))
    assert service.match_media(db_session, sup.principal, cropped, engine=engine).matches
    service.set_signal_enabled(db_session, sup.principal, original.id, False, engine=engine)
    assert not inner.enabled
    assert not service.match_media(db_session, sup.principal, cropped, engine=engine).matches
    service.set_signal_enabled(db_session, sup.principal, original.id, True, engine=engine)
    assert inner.enabled
    assert service.match_media(db_session, sup.principal, cropped, engine=engine).matches


def test_a_derived_signal_cannot_be_imported(sqlite_session: Session) -> None:
    from takedown.matching import io as bank_io

    sup = make_supervisor(sqlite_session)
    bank = make_bank(sqlite_session, sup)
    data = b"signal_type,value\npdq_inner," + b"ab" * 32 + b"\nmd5," + b"a" * 32 + b"\n"
    report = bank_io.import_signals(sqlite_session, sup.principal, bank.id, data, "csv")
    assert report.added == 1 and len(report.errors) == 1
    assert report.errors[0]["row"] == 2 and "add the image instead" in report.errors[0]["error"]


def test_window_hash_is_pdq() -> None:
    """On a 64 x 64 image the numpy window hash is bit-exact with pdqhash, and the mirror
    derived from the coefficients is the hash of the mirrored pixels."""
    import numpy as np
    import pdqhash
    from PIL import ImageOps

    from takedown.matching.hashers import windows

    for seed in (1, 2):
        img = make_poster(seed, (640, 480)).resize((64, 64), Image.Resampling.BOX)
        coef = windows.coefficients(windows.luma(img), [(0.0, 0.0)], [(0.0, 0.0)])
        want = np.packbits(pdqhash.compute(np.asarray(img))[0])
        assert bytes(windows.bits(coef)[0, 0]) == want.tobytes()
        flipped = np.packbits(pdqhash.compute(np.asarray(ImageOps.mirror(img)))[0])
        got = windows.bits(windows.mirrored(coef))[0, 0]
        assert int(np.unpackbits(got ^ flipped).sum()) <= 2


def test_video_frames_get_the_same_crop_rotation_and_mirror_recovery(
    sqlite_session: Session,
) -> None:
    engine, sup, enrolled = enrolled_videos(sqlite_session, (21,))
    video = signal_of(enrolled[21], "video_pdq")
    inner = signal_of(enrolled[21], "video_pdq_inner")
    assert inner.parent_id == video.id
    for variant in ("crop_centred", "mirror", "mirror_crop", "rotate"):
        clip = media.video(21, seconds=3.0, variant=variant)
        report = service.match_media(sqlite_session, sup.principal, clip, engine=engine)
        hits = [m for m in report.matches if m.signal_id == video.id]
        assert hits and (hits[0].fraction or 0) >= 0.5, variant
        assert hits[0].signal_type == "video_pdq" and hits[0].variant.endswith("/inner")
    other = media.video(22, seconds=3.0, variant="crop_centred")
    report = service.match_media(sqlite_session, sup.principal, other, engine=engine)
    assert not [m for m in report.matches if m.signal_type == "video_pdq"]


def _distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def test_letterbox_on_a_picture_with_a_dark_edge_matches_by_the_even_trim() -> None:
    """A letterbox bar that runs into the picture's own dark edge makes that border look
    deeper than the opposite one; trimming both by the shallower depth undoes the pad."""
    import numpy as np
    from PIL import ImageOps

    for seed in (1, 2, 3):
        arr = np.asarray(media.photo_like(seed)).copy()
        arr[int(arr.shape[0] * 0.8) :] = 0  # a night sky: black along the bottom
        img = Image.fromarray(arr)
        want = next(r for r in hash_image(media.jpeg(img)) if r.variant == "original")
        padded = ImageOps.expand(img, border=(0, 60, 0, 60), fill=(0, 0, 0))
        got = {r.variant: r for r in hash_image(media.jpeg(padded)) if r.signal_type == "pdq"}
        assert _distance(got["trimmed"].value, want.value) > 31  # the uneven trim misses
        assert _distance(got["trimmed_even"].value, want.value) <= 31, seed


def _flat_margined(seed: int) -> Image.Image:
    """A low-contrast field inside flat grey margins: the whole frame's PDQ quality is under
    50 (the margins have no gradient), its inner region's is over 50."""
    import numpy as np
    from PIL import ImageOps

    arr = np.asarray(media.photo_like(seed)).astype(np.float32)
    low = Image.fromarray((128 + (arr - 128) * 0.35).astype(np.uint8))
    return ImageOps.expand(low, border=(64, 48, 64, 48), fill=(128, 128, 128))


def test_windows_are_gated_by_the_inner_region_quality_not_the_frame() -> None:
    """A query whose whole frame has a poor PDQ quality but whose inner region is fine still
    searches its windows (they lie inside), so its crop matches the stored inner signal."""
    for seed in (1, 2, 3):
        img = _flat_margined(seed)
        stored = next(r for r in hash_image(media.jpeg(img)) if r.variant == "inner")
        assert stored.usable
        query = hash_image(media.jpeg(apply_variant(img, "crop_centred", seed)))
        assert not query[0].usable  # the frame's own PDQ does not count
        windows = [r for r in query if r.signal_type == "pdq_inner" and r.usable]
        assert windows, seed
        assert min(_distance(w.value, stored.value) for w in windows) <= 31, seed
