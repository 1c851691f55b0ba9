"""PDQ for images, with the decode guarded and the usual edits undone before hashing.

Decoding is the dangerous part: a 40 kB PNG can expand to gigabytes
(decompression bomb), a file can be cut off mid-stream, or be something else
entirely. Each of those becomes a typed error, never a warning, a crash or a
half-hash. We never touch Pillow's process-wide ``Image.MAX_IMAGE_PIXELS``:
the pixel count is checked from the header before any decoding happens.

Hashing follows the PDQ reference practice of shrinking first, to a 320 x 320
square (``HASH_SIDE``): a third of the cost of hashing 640x480, the hash
moves by only a few bits, and at that size PDQ's filter and decimation are
mirror-symmetric, so ``pdqhash.compute_dihedral`` gives the 8
mirror/rotation hashes exactly for the price of one. It reports the
quality and calls anything under 50 "no usable hash". Uniform borders
(letterboxing, padding) are detected and trimmed, and the trimmed copy is
hashed too.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image, UnidentifiedImageError

from takedown.matching.base import (
    ORIGINAL,
    DecompressionBomb,
    HashResult,
    MediaError,
    MediaInput,
    read_input,
)
from takedown.matching.hashers import windows

SIGNAL_TYPE = "pdq"
#: Signal type of the derived "inner" signals (see ``inner_signal`` and ``window_hashes``).
INNER_SIGNAL_TYPE = "pdq_inner"
MIN_QUALITY = 50
MAX_SIDE = 512
#: Default ceiling on decoded pixels (about 8k x 8k). Posters and photos are far below it.
DEFAULT_MAX_PIXELS = 64_000_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
ALLOWED_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF")

#: Names of ``pdqhash.compute_dihedral``'s 8 outputs, in its order (checked in the tests).
DIHEDRAL_VARIANTS = (
    ORIGINAL,
    "rot90",
    "rot180",
    "rot270",
    "flip_vertical",
    "mirror",
    "transpose",
    "antitranspose",
)

U8Array = npt.NDArray[np.uint8]
#: Rows cut from the top and bottom for the "band" variant; logo bars cover up to ~15%. Banks
#: no longer store it (the inner region, ``windows.IMAGE_REGION``, leaves those rows out too);
#: a query still hashes it for the band signals banks stored before, and their exports.
BAND_MARGIN = 0.16
#: Every PDQ hash is made from a HASH_SIDE x HASH_SIDE resample. 320 = 64 * 5 with PDQ's
#: Jarosz window (320 + 127) // 128 = 3: both odd, so filtering and decimation are
#: symmetric and the dihedral hashes are exact (any 64 * k with k and the window odd is:
#: 64, 320, 576, 832...). 320 costs a third of hashing 640x480 and moves hashes by about
#: as many bits as 512 px did.
HASH_SIDE = 320
#: A border narrower than this share of the side is not trimmed.
TRIM_MIN_FRACTION = 0.02


def bits_to_hex(bits: npt.NDArray[np.integer]) -> str:
    """PDQ bit vector -> 64 hex chars, most significant bit first (python-threatexchange's form)."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def hex_to_bytes(value: str) -> bytes:
    """Parse and validate a 64-hex PDQ hash."""
    v = value.strip().lower()
    if len(v) != 64:
        raise MediaError(f"a PDQ hash is 64 hex characters, got {len(v)}")
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise MediaError("a PDQ hash is 64 hex characters") from None


def _open_guarded(
    data: MediaInput, *, max_pixels: int, max_bytes: int, draft_side: int
) -> Image.Image:
    """Decode to RGB, or raise a typed error. JPEGs decode at reduced scale when
    both sides stay at least ``draft_side``."""
    raw = read_input(data, max_bytes=max_bytes)
    if not raw:
        raise MediaError("the file is empty")
    try:
        with warnings.catch_warnings():
            # Pillow warns (rather than fails) between MAX_IMAGE_PIXELS and twice that;
            # a warning is not a decision, so make it an error we turn into a typed one.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img: Image.Image = Image.open(io.BytesIO(raw), formats=ALLOWED_FORMATS)
            w, h = img.size
            if w <= 0 or h <= 0:
                raise MediaError("the image has no pixels")
            if w * h > max_pixels:
                raise DecompressionBomb(
                    f"the image is {w}x{h} pixels; the limit is {max_pixels} pixels"
                )
            if img.format == "JPEG":
                # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: far faster, same PDQ.
                img.draft("RGB", (draft_side, draft_side))
            img.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise DecompressionBomb(f"decompression bomb refused: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise MediaError("not an image in a supported format") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Pillow reports truncated or corrupt data as OSError (and a few plug-ins as others).
        raise MediaError(f"the image is truncated or corrupt: {exc}") from exc
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img


def decode_image(
    data: MediaInput,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_side: int = MAX_SIDE,
) -> Image.Image:
    """Decode to an RGB image no larger than ``max_side``, or raise a typed error."""
    img = _open_guarded(data, max_pixels=max_pixels, max_bytes=max_bytes, draft_side=max_side)
    if max(img.size) > max_side:
        img.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return img


def find_borders(
    arr: U8Array, *, tolerance: int = 24, min_share: float = 0.97
) -> tuple[int, int, int, int]:
    """Rows/columns of uniform border on each side: (top, bottom, left, right).

    A row belongs to the border when at least ``min_share`` of its pixels are
    within ``tolerance`` of the corner colour, which survives JPEG ringing.
    Rows are checked in small blocks from the edge inwards and the scan stops
    at the first content row, so an image without borders costs almost nothing.
    """
    h, w = arr.shape[:2]
    if h < 16 or w < 16:
        return (0, 0, 0, 0)

    def run(view: U8Array, ref: U8Array) -> int:
        # view: (n, m, 3) lines in scan order (a view, not a copy).
        n = view.shape[0]
        r = ref.astype(np.int16)
        for start in range(0, n, 16):
            block = view[start : start + 16].astype(np.int16)
            close = (np.abs(block - r).max(axis=2) <= tolerance).mean(axis=1) >= min_share
            if not close.all():
                return start + int(np.argmin(close))
        return int(n)

    top = run(arr, arr[0, 0])
    bottom = run(arr[::-1], arr[-1, -1])
    cols = arr.transpose(1, 0, 2)
    left = run(cols, arr[0, 0])
    right = run(cols[::-1], arr[-1, -1])
    return (top, bottom, left, right)


def _result(bits: npt.NDArray[np.integer], quality: int, variant: str) -> HashResult:
    q = int(quality)
    return HashResult(SIGNAL_TYPE, bits_to_hex(bits), variant, q, q >= MIN_QUALITY)


def pdq_of_array(arr: U8Array, variant: str = ORIGINAL) -> HashResult:
    bits, quality = pdqhash.compute(np.ascontiguousarray(arr))
    return _result(bits, quality, variant)


@dataclass(frozen=True, slots=True)
class PdqOptions:
    dihedral: bool = True
    trim: bool = True
    band: bool = True
    #: The stored inner signal (``pdq_inner``, variant ``inner``).
    inner: bool = True
    #: The query windows (``pdq_inner``): only needed to match, not to store.
    windows: bool = True
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_bytes: int = DEFAULT_MAX_BYTES


def band(arr: U8Array, margin: float = BAND_MARGIN) -> U8Array:
    """The horizontal middle band: what survives a bar stamped over the top or bottom."""
    h = arr.shape[0]
    cut = round(h * margin)
    return np.ascontiguousarray(arr[cut : h - cut])


def to_square(img: Image.Image | U8Array, side: int = HASH_SIDE) -> U8Array:
    """The pixels resampled to ``side`` x ``side`` (PDQ decimates each axis to 64 cells anyway)."""
    if not isinstance(img, Image.Image):
        if img.shape[0] == side and img.shape[1] == side:
            return np.ascontiguousarray(img)
        img = Image.fromarray(np.ascontiguousarray(img))
    sq = img.resize((side, side), _resampling(img.size, side))
    return np.ascontiguousarray(np.asarray(sq, dtype=np.uint8))


def _resampling(size: tuple[int, int], side: int) -> Image.Resampling:
    """Box averaging to shrink (cheapest, and closest to PDQ's own box filter), bilinear to grow."""
    return Image.Resampling.BOX if min(size) >= side else Image.Resampling.BILINEAR


def _trimmed(img: Image.Image, sq: U8Array) -> list[tuple[str, U8Array]]:
    """The source without its uniform borders, as a square; borders are found on ``sq``.

    ``trimmed`` cuts every border found. When opposite borders differ (a letterbox bar
    that runs into a dark edge of the picture itself, so one side looks deeper than it
    is), ``trimmed_even`` also cuts only the shallower depth from both sides: padding
    is added evenly, so that is the pad, and the dark edge stays.
    """
    s = sq.shape[0]
    top, bottom, left, right = find_borders(sq)
    out: list[tuple[str, U8Array]] = []
    even = (min(top, bottom),) * 2 + (min(left, right),) * 2
    for name, (t, b, lft, r) in (("trimmed", (top, bottom, left, right)), ("trimmed_even", even)):
        if max(t, b) < s * TRIM_MIN_FRACTION and max(lft, r) < s * TRIM_MIN_FRACTION:
            continue
        if s - t - b < s * 0.3 or s - lft - r < s * 0.3:
            continue  # a mostly uniform image: trimming would keep noise
        if out and (t, b, lft, r) == (top, bottom, left, right):
            continue  # the borders are even already: the same crop
        w, h = img.size
        box = (lft * w / s, t * h / s, w - r * w / s, h - b * h / s)
        sub = img.resize((s, s), _resampling(img.size, s), box=box)
        out.append((name, np.ascontiguousarray(np.asarray(sub, dtype=np.uint8))))
    return out


# ---- inner signals and query windows (see hashers.windows) ---------------------------------


def inner_signal(img: Image.Image, lum: npt.NDArray[np.float32] | None = None) -> HashResult:
    """What a bank stores besides the original: the hash of the centred inner region.
    ``lum``: ``windows.luma(img)`` when the caller has it already."""
    code, q = windows.inner_code(img, lum)
    return HashResult(INNER_SIGNAL_TYPE, code.hex(), "inner", q, q >= MIN_QUALITY)


def window_hashes(
    img: Image.Image, quality: int = 100, lum: npt.NDArray[np.float32] | None = None
) -> list[HashResult]:
    """The query windows (``windows.windows``) as ``pdq_inner`` hashes; they carry the
    query's PDQ quality (and are unusable with it)."""
    usable = quality >= MIN_QUALITY
    codes, names = windows.window_codes(img, lum)
    # Hex of every code at once (a thousand windows: per-row bytes and hex add up).
    hexes = codes.tobytes().hex()
    return [
        HashResult(INNER_SIGNAL_TYPE, hexes[64 * i : 64 * i + 64], v, quality, usable, {k: x})
        for i, (v, k, x) in enumerate(names)
    ]


def hash_image_pixels(img: Image.Image, options: PdqOptions = PdqOptions()) -> list[HashResult]:
    """The full pipeline on a decoded RGB image of any size.

    Everything is hashed from one ``HASH_SIDE`` square resample of the
    pixels, made once. At that size PDQ's box filter and 64-cell decimation
    are mirror-symmetric, so the 8 hashes ``compute_dihedral`` derives from
    one DCT are bit-for-bit the hashes of the flipped and rotated pixels
    (checked in the tests): a mirrored re-upload matches without a second
    PDQ pass. Then the trimmed copy when there are uniform borders (found on
    the square, cropped from the source, resampled to the same square), and
    the middle band of the square (banks enrolled before the inner region left
    logo bars out stored it; see ``service.STORED_PDQ_VARIANTS``).
    """
    out: list[HashResult] = []
    sq = to_square(img)
    if options.dihedral:
        hashes, quality = pdqhash.compute_dihedral(sq)
        out.extend(_result(b, quality, v) for b, v in zip(hashes, DIHEDRAL_VARIANTS, strict=True))
    else:
        out.append(pdq_of_array(sq))
    if options.trim:
        out.extend(pdq_of_array(arr, name) for name, arr in _trimmed(img, sq))
    if options.band:
        out.append(pdq_of_array(band(sq), "band"))
    if options.inner or options.windows:
        lum = windows.luma(img)  # once, for the inner signal and the windows
        inner = inner_signal(img, lum)
        if options.inner:
            out.append(inner)
        if options.windows:
            # The windows lie inside the query: the better of the whole frame's quality and
            # its inner region's gates them (flat margins lower the frame's figure, not the
            # windows'; a stored inner signal is gated by its own region's quality too).
            quality = max(out[0].quality or 0, inner.quality or 0)
            out.extend(window_hashes(img, quality=quality, lum=lum))
    return out


def hash_image_array(arr: U8Array, options: PdqOptions = PdqOptions()) -> list[HashResult]:
    """``hash_image_pixels`` on an (h, w, 3) uint8 RGB array of any size."""
    return hash_image_pixels(Image.fromarray(np.ascontiguousarray(arr)), options)


def hash_image(data: MediaInput, options: PdqOptions = PdqOptions()) -> list[HashResult]:
    img = _open_guarded(
        data, max_pixels=options.max_pixels, max_bytes=options.max_bytes, draft_side=HASH_SIDE
    )
    return hash_image_pixels(img, options)


class PdqHasher:
    """Meta's PDQ perceptual hash, with dihedral and trimmed variants."""

    name = "pdq"
    signal_type = SIGNAL_TYPE

    def __init__(self, options: PdqOptions | None = None) -> None:
        # The registry's hasher returns ``pdq`` only; matching adds the derived
        # ``pdq_inner`` hashes itself (``service.hash_media``).
        self.options = options or PdqOptions(inner=False, windows=False)

    def accepts(self, media_type: str) -> bool:
        return media_type == "image"

    def hash(self, data: MediaInput) -> list[HashResult]:
        return hash_image(data, self.options)
