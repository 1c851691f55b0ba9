from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from takedown.kit.errors import Conflict, NotFound, PayloadTooLarge
from takedown.matching.base import DecompressionBomb, Hasher, MediaError
from takedown.matching.hashers.crypto import DigestHasher, digest
from takedown.matching.hashers.image import (
    DIHEDRAL_VARIANTS,
    MIN_QUALITY,
    PdqHasher,
    decode_image,
    find_borders,
    hash_image,
    hash_image_array,
)
from takedown.matching.hashers.video import VideoPdqHasher, decode_frames, encode_frames
from takedown.matching.registry import all_hashers, get_hasher, hashers, register
from tests.matching import media


def dist(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def by_variant(data: bytes) -> dict[str, str]:
    return {r.variant: r.value for r in hash_image(data)}


def test_registry_has_every_builtin_and_satisfies_the_protocol() -> None:
    names = [h.name for h in all_hashers()]
    assert names == sorted(["sha256", "md5", "pdq", "video_pdq", "text_simhash"])
    assert all(isinstance(h, Hasher) for h in all_hashers())
    with pytest.raises(NotFound):
        get_hasher("tmk")


def test_registry_refuses_a_duplicate_name_and_non_hashers() -> None:
    with pytest.raises(Conflict):
        register(DigestHasher("md5"))
    with pytest.raises(Conflict):
        hashers.register("not-a-hasher", object())


def test_digests_stream_files_and_bytes_alike(tmp_path: Path) -> None:
    data = b"x" * (3 << 20) + b"tail"
    f = tmp_path / "f.bin"
    f.write_bytes(data)
    assert digest(f, "sha256") == digest(data, "sha256")
    assert DigestHasher("md5").hash(f)[0].value == digest(data, "md5")
    assert len(DigestHasher("sha256").hash(b"")[0].value) == 64


def test_pdq_returns_dihedral_mirror_trim_and_band_variants() -> None:
    results = hash_image(media.poster(3))
    variants = [r.variant for r in results]
    assert variants[:8] == list(DIHEDRAL_VARIANTS)
    assert "band" in variants
    assert all(len(r.value) == 64 and r.usable and (r.quality or 0) >= MIN_QUALITY for r in results)


def test_dihedral_order_matches_the_transforms() -> None:
    img = Image.open(__import__("io").BytesIO(media.poster(5))).convert("RGB")
    base = by_variant(media.png(img))
    rot = by_variant(media.png(img.transpose(Image.Transpose.ROTATE_90)))
    flip = by_variant(media.png(img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    # The rotated image's original hash is close to the original's "rot90" variant, etc.
    assert dist(rot["original"], base["rot90"]) <= 31
    assert dist(flip["mirror"], base["original"]) <= 31
    assert dist(flip["original"], base["original"]) > 31


@pytest.mark.parametrize("size", [(640, 480), (1280, 960), (200, 150), (333, 517)])
def test_dihedral_hashes_equal_hashes_of_the_transformed_pixels(size: tuple[int, int]) -> None:
    # At HASH_SIDE, PDQ's filter and decimation are symmetric: compute_dihedral's flips are
    # (nearly) bit-exact, so no second PDQ pass is needed for mirrors (512 px: 16-32 bits off).
    arr = np.asarray(Image.open(__import__("io").BytesIO(media.poster(4))).convert("RGB"))
    arr = np.asarray(Image.fromarray(arr).resize(size))

    def hashes(a: np.ndarray) -> dict[str, str]:
        return {r.variant: r.value for r in hash_image_array(np.ascontiguousarray(a))}

    base = hashes(arr)
    assert dist(base["mirror"], hashes(arr[:, ::-1])["original"]) == 0
    assert dist(base["rot90"], hashes(np.rot90(arr))["original"]) == 0
    assert dist(base["flip_vertical"], hashes(arr[::-1])["original"]) <= 6
    assert dist(base["rot180"], hashes(arr[::-1, ::-1])["original"]) <= 6


def test_pdq_survives_reencode_resize_and_mirror_and_pad() -> None:
    orig = by_variant(media.poster(7))["original"]
    for variant in ("reencode", "resize", "mirror", "pad"):
        q = hash_image(media.poster(7, variant))
        assert min(dist(r.value, orig) for r in q) <= 31, variant


def test_unrelated_posters_do_not_match() -> None:
    a = by_variant(media.poster(11))["original"]
    b = by_variant(media.poster(12))["original"]
    assert dist(a, b) > 31


def test_flat_image_has_no_usable_hash() -> None:
    results = hash_image(media.flat_image())
    assert results and not any(r.usable for r in results)
    assert all((r.quality or 0) < MIN_QUALITY for r in results)


def test_borders_are_found_and_trimmed() -> None:
    img = Image.new("RGB", (400, 300), (0, 0, 0))
    img.paste(
        Image.open(__import__("io").BytesIO(media.poster(2))).convert("RGB").resize((400, 200)),
        (0, 50),
    )
    top, bottom, left, right = find_borders(np.asarray(img))
    assert 45 <= top <= 52 and 45 <= bottom <= 52 and left == right == 0
    assert "trimmed" in by_variant(media.png(img))


def test_large_images_are_resized_to_512() -> None:
    big = Image.new("RGB", (2000, 1000), (10, 200, 30))
    assert max(decode_image(media.png(big)).size) == 512
    assert max(decode_image(media.jpeg(big)).size) == 512


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = media.decompression_bomb()
    assert len(bomb) < 1_000_000
    with pytest.raises(DecompressionBomb) as err:
        hash_image(bomb)
    assert err.value.status == 413
    # Pillow's own limit (a warning up to 2x, an error above) is also turned into the typed error.
    with pytest.raises(DecompressionBomb):
        decode_image(bomb, max_pixels=10**12)


def test_truncated_jpeg_is_a_typed_error() -> None:
    with pytest.raises(MediaError, match="truncated or corrupt"):
        hash_image(media.truncated_jpeg())


def test_zero_byte_and_wrong_format() -> None:
    with pytest.raises(MediaError, match="empty"):
        hash_image(b"")
    with pytest.raises(MediaError, match="not an image"):
        hash_image(b"%PDF-1.4 not an image at all")
    with pytest.raises(MediaError):
        PdqHasher().hash(media.audio_only_mp4())


def test_size_limit_for_paths(tmp_path: Path) -> None:
    f = tmp_path / "p.jpg"
    f.write_bytes(media.poster(1))
    from takedown.matching.hashers.image import PdqOptions

    with pytest.raises(PayloadTooLarge):
        hash_image(f, PdqOptions(max_bytes=100))
    assert hash_image(f)[0].usable


def test_video_samples_one_frame_per_second_and_scene_changes() -> None:
    results = VideoPdqHasher().hash(media.video(4, seconds=4.0))
    times = [r.extra["t"] for r in results]
    assert times[0] == 0.0
    assert len(results) >= 4
    assert all(r.signal_type == "video_pdq" and len(r.value) == 64 for r in results)
    assert times == sorted(times)


def test_video_with_no_video_stream_is_a_typed_error() -> None:
    with pytest.raises(MediaError, match="no video stream"):
        VideoPdqHasher().hash(media.audio_only_mp4())


def test_video_garbage_and_empty() -> None:
    with pytest.raises(MediaError):
        VideoPdqHasher().hash(b"")
    with pytest.raises(MediaError):
        VideoPdqHasher().hash(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 100)


def test_video_signal_value_round_trips() -> None:
    frames = [(0.0, "a" * 64), (1.5, "b" * 64)]
    assert decode_frames(encode_frames(frames)) == frames
    with pytest.raises(MediaError):
        decode_frames("0:abc")
