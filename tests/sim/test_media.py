"""Synthetic posters, videos and their variants."""

from __future__ import annotations

import io
import itertools
import random

import av
import numpy as np
import pdqhash
from PIL import Image

from takedown.sim.media import VARIANTS, apply_variant, make_poster, make_video, poster_jpeg


def _pdq(img: Image.Image) -> np.ndarray:
    h, _ = pdqhash.compute(np.asarray(img.convert("RGB")))
    return np.asarray(h, dtype=bool)


def test_poster_is_deterministic_and_sized() -> None:
    a, b = make_poster(42), make_poster(42)
    assert a.size == (640, 480) and a.mode == "RGB"
    assert a.tobytes() == b.tobytes()
    assert make_poster(42, (320, 200)).size == (320, 200)


def test_poster_is_not_noise() -> None:
    arr = np.asarray(make_poster(3))
    colours = len(np.unique(arr.reshape(-1, 3), axis=0))
    assert colours < 5000  # flat shapes and text, not random pixels
    assert pdqhash.compute(arr)[1] >= 50  # usable PDQ quality


def test_distinct_seeds_are_far_apart_in_pdq_space() -> None:
    hashes = [_pdq(make_poster(s)) for s in range(120)]
    closest = min(int((a != b).sum()) for a, b in itertools.combinations(hashes, 2))
    assert closest > 31


def test_variant_names_are_the_contract() -> None:
    assert set(VARIANTS) == {
        "reencode",
        "resize",
        "crop",
        "pad",
        "mirror",
        "logo_bar",
        "rotate",
        "overlay_text",
    }


def test_each_variant_changes_the_image() -> None:
    base = make_poster(11)
    for name, fn in VARIANTS.items():
        out = fn(base, random.Random(1))
        assert isinstance(out, Image.Image), name
        assert out.size != base.size or out.convert("RGB").tobytes() != base.tobytes(), name


def test_variant_geometry() -> None:
    base = make_poster(5)
    crop = VARIANTS["crop"](base, random.Random(3))
    assert 0.89 <= crop.width / base.width <= 0.951 and 0.89 <= crop.height / base.height <= 0.951
    pad = VARIANTS["pad"](base, random.Random(3))
    assert pad.width > base.width or pad.height > base.height
    assert VARIANTS["resize"](base, random.Random(3)).width < base.width
    mirrored = VARIANTS["mirror"](base, random.Random(0))
    assert np.array_equal(np.asarray(mirrored)[:, ::-1], np.asarray(base))


def test_reencode_stays_a_pdq_match_and_mirror_does_not() -> None:
    base = make_poster(8)
    h = _pdq(base)
    assert int((_pdq(apply_variant(base, "reencode", 8)) != h).sum()) <= 31
    assert int((_pdq(apply_variant(base, "mirror", 8)) != h).sum()) > 31


def test_poster_jpeg_is_a_jpeg() -> None:
    data = poster_jpeg(9, "logo_bar")
    assert data[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(data)).size == (640, 480)


def test_make_video_is_a_decodable_mp4() -> None:
    data = make_video(4, seconds=1.0, fps=10, size=(160, 120))
    assert data[4:8] == b"ftyp"
    with av.open(io.BytesIO(data), mode="r") as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 10
    assert (frames[0].width, frames[0].height) == (160, 120)
    assert make_video(4, seconds=1.0, size=(160, 120), variant="mirror") != data
