"""The query windows' geometry (``hashers.windows``, #17): which crops and rotations the grid
and the rotate-back angles reach, and how closely. Generated images only."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from takedown.matching.hashers import windows
from takedown.matching.hashers.image import hash_image, window_hashes
from takedown.sim.media import make_poster
from tests.matching import media

#: A window shifted by this much (both edges one way) is a median 15 bits off on photographs;
#: a scale error of this much per edge, about 9. The grid promises no worse (its comments).
SHIFT = 0.0055
SCALE = 0.0065


#: Each cut of a stored region with the query grid's pairs for it.
AXES = pytest.mark.parametrize(
    ("cut", "axis"),
    [(windows.INNER_CUT, windows.AXIS_CUTS), (windows.TALL_CUT, windows.TALL_AXIS_CUTS)],
    ids=["10%", "16%"],
)


def _where(f: float, left: float, c: float) -> tuple[float, float]:
    """(cut before, cut after) of a stored region cut ``c`` from each side in a query cropped
    by ``f`` in all on one axis, ``left`` of it before."""
    return (c - left) / (1 - f), (c - (f - left)) / (1 - f)


def _nearest(a: float, b: float, axis: tuple[tuple[float, float], ...]) -> tuple[float, float]:
    """(shift, scale) error of the grid pair closest to (a, b): half the difference and half
    the sum of the two edges' errors."""
    best = min(
        axis,
        key=lambda p: max(
            abs((a - p[0]) - (b - p[1])) / 2 / SHIFT, abs(a - p[0] + b - p[1]) / 2 / SCALE
        ),
    )
    da, db = a - best[0], b - best[1]
    return abs(da - db) / 2, abs(da + db) / 2


@AXES
def test_every_off_centre_crop_of_5_to_10_percent_has_a_close_window(
    cut: float, axis: tuple[tuple[float, float], ...]
) -> None:
    """The old grid (a in steps of 0.025 along each total) left shifts of up to 0.0125, which
    cost 30-50 bits on photographs: an off-centre crop then missed at 32 bits while the exact
    window was 6 bits from its original."""
    for f in np.linspace(0.05, 0.10, 21):
        for share in np.linspace(0.0, 1.0, 41):
            shift, scale = _nearest(*_where(float(f), float(f * share), cut), axis)
            assert shift <= SHIFT + 1e-9 and scale <= SCALE + 1e-9, (f, share, shift, scale)


@AXES
def test_every_centred_crop_and_an_uncropped_axis_have_a_close_window(
    cut: float, axis: tuple[tuple[float, float], ...]
) -> None:
    for c in np.linspace(0.05, 0.10, 26):
        a, b = _where(2 * float(c), float(c), cut)
        shift, scale = _nearest(a, b, axis)
        assert shift < 1e-9 and scale <= 0.0075 + 1e-9, c
    # An axis left alone (a crop of the other axis only) has the inner region itself.
    assert (cut, cut) in axis


def test_an_image_region_leaves_logo_bars_out_and_a_frame_region_is_cut_evenly() -> None:
    ycuts, xcuts = windows.IMAGE_REGION.cuts()
    assert (ycuts, xcuts) == (windows.TALL_AXIS_CUTS, windows.AXIS_CUTS)
    assert windows.FRAME_REGION.cuts() == (windows.AXIS_CUTS, windows.AXIS_CUTS)
    assert windows.TALL_CUT > 0.15  # the testbed's logo bars cover 10-15 % of the height


@pytest.mark.parametrize("top", [True, False], ids=["top", "bottom"])
def test_a_logo_bar_over_the_top_or_bottom_leaves_the_inner_signal_as_it_was(top: bool) -> None:
    """A bar of 10-15 % of the height stamped over the top or the bottom: the image's inner
    region holds none of it, so the query's inner hash is as close to the stored one as a
    re-encode's. With a region cut 10 % from the top and bottom, a 15 % bar covered a
    sixteenth of it (what the bank's separate "band" signal made up for)."""
    for seed in (1, 2, 3):
        img = media.photo_like(seed, (640, 480))
        stored = next(r for r in hash_image(media.jpeg(img)) if r.variant == "inner")
        w, h = img.size
        for share in (0.10, 0.15):
            barred = img.copy()
            bh = round(h * share)
            y0 = 0 if top else h - bh
            ImageDraw.Draw(barred).rectangle((0, y0, w, y0 + bh - 1), fill=(200, 30, 30))
            got = next(r for r in hash_image(media.jpeg(barred)) if r.variant == "inner")
            assert _distance(got.value, stored.value) <= 12, (seed, share)


def test_a_crop_of_one_axis_only_matches() -> None:
    """Top and bottom cropped (10 % in all), the sides untouched: the x axis needs the
    (0.1, 0.1) pair, which the grid of crops alone lacked (its nearest centred pair was 0.04
    off)."""
    for seed in (1, 2, 3):
        img = make_poster(seed, (640, 480))
        stored = next(r for r in hash_image(media.jpeg(img)) if r.variant == "inner")
        w, h = img.size
        cropped = img.crop((0, round(h * 0.07), w, h - round(h * 0.03)))
        got = [r for r in hash_image(media.jpeg(cropped)) if r.signal_type == "pdq_inner"]
        best = min(_distance(r.value, stored.value) for r in got)
        assert best <= 31, (seed, best)


def test_every_rotation_of_2_to_5_degrees_is_within_half_a_degree_of_an_angle() -> None:
    """The old angles (2.5 and 4) left 5 degrees a whole degree away: rotations cropped to
    fill at 4.9 degrees missed at 34 bits while the exact angle was 28."""
    for angle in np.linspace(2.0, 5.0, 31):
        for sign in (1, -1):
            near = min(abs(sign * angle - a) for a in windows.ANGLES)
            assert near <= 0.5 + 1e-9, angle


def test_rotating_back_fills_the_corners_with_the_mean_not_black() -> None:
    """Corners that come from outside the frame would be black: a dark wedge in the corners of
    the inner region after a rotation cropped to fill, an edge the original never had."""
    rng = np.random.default_rng(0)
    lum = (100 + 20 * rng.random((96, 128))).astype(np.float32)
    back = windows.rotated_back(lum, 5.0)
    assert back.min() > 90  # no black corner
    assert abs(float(back[0, 0]) - float(lum.mean())) < 1e-3


def test_rotation_cropped_to_fill_at_5_degrees_matches_a_wide_picture() -> None:
    for seed in (1, 2, 3):
        img = media.photo_like(seed, (800, 450))
        stored = next(r for r in hash_image(media.jpeg(img)) if r.variant == "inner")
        angle = 4.9 * (1 if seed % 2 else -1)
        w, h = img.size
        cut = windows.fill_cut(angle, w, h)
        edited = img.rotate(angle, resample=Image.Resampling.BICUBIC).crop(
            (round(w * cut), round(h * cut), w - round(w * cut), h - round(h * cut))
        )
        got = [r for r in hash_image(media.jpeg(edited)) if r.signal_type == "pdq_inner"]
        assert min(_distance(r.value, stored.value) for r in got) <= 31, seed


def test_the_grid_coefficients_are_those_of_each_window_alone() -> None:
    """One product for the whole grid gives each window's own coefficients."""
    lum = windows.luma(make_poster(5, (640, 480)))
    cuts = windows.AXIS_CUTS[:7]
    grid = windows.coefficients(lum, cuts, cuts)
    for i in (0, 3, 6):
        for j in (1, 5):
            one = windows.coefficients(lum, [cuts[i]], [cuts[j]])[0, 0]
            np.testing.assert_allclose(grid[i, j], one, rtol=1e-4, atol=1e-2)


def test_window_hashes_are_the_windows_in_order() -> None:
    img = media.photo_like(4)
    hashes = window_hashes(img)
    wins = windows.windows(img)
    assert len(hashes) == len(wins) == len(windows.layout())
    assert [h.value for h in hashes] == [w.code.hex() for w in wins]
    assert [(h.variant, h.extra) for h in hashes] == [(w.variant, w.extra) for w in wins]
    assert {h.variant for h in hashes} == {
        f"{m}{v}" for m in ("", "mirror_") for v in ("window", "rotate", "rotate_fill")
    }
    ycuts, xcuts = windows.IMAGE_REGION.cuts()
    assert hashes[0].extra == {"cut": (*xcuts[0], *ycuts[0])} == {"cut": (0.0, 0.0, 0.0875, 0.0875)}


def _distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def test_fill_cut_is_the_largest_centred_rectangle() -> None:
    # A square at 45 degrees: the largest inscribed square of the same aspect is 1 / sqrt(2).
    assert math.isclose(windows.fill_cut(45.0, 100, 100), (1 - 1 / math.sqrt(2)) / 2)
