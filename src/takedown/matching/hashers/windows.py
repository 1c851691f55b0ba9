"""Inner-region signals and query windows: crops, small rotations, mirror plus crop.

PDQ moves by about 40 bits when the frame shifts by 1 % of a side, so a
re-upload cropped by 5-10 % per side, or rotated by a few degrees, is 60-110
bits from its original. Storing many crops of every original would multiply
the index; instead a bank stores **one** extra signal per image, the hash of
its centred inner region (signal type
``pdq_inner``, linked to the original), and the query side looks for that
region inside the query. An image's region is cut 10 % from the left and
right and 17 % from the top and bottom (``IMAGE_REGION``): a logo bar or a
caption stamped over the top or bottom (up to 15 % of the height) lies
outside it, so the same signal also matches those (the bank stored a second
"band" signal for them before). A video frame's region is 10 % from every
side (``FRAME_REGION``; frames keep a band of their own, see ``hashers.video``).
The query side searches:

* a grid of windows, each a pair of cuts per axis (``AXIS_CUTS`` for a 10 % cut,
  ``TALL_AXIS_CUTS`` for 17 %; ``axis_cuts``:
  an off-centre band for crops of 5-10 % in all, split any way between the two
  sides, dense along the shift that costs PDQ most; a centred line for crops of
  up to 10 % per side; and the uncropped axis), x and y combined freely;
* the query rotated back by ``ANGLES`` (2-5 degrees either way, the corners from
  outside the frame filled with the mean luma; black corners: the inner region;
  cropped to fill: the inner region scaled by the fill factor of that angle);
* every window also mirrored.

The hash is PDQ's: luma, 64 x 64 cells, the 16 x 16 lowest DCT coefficients
(without DC) thresholded at their median; on a 64 x 64 image it is bit-exact with
``pdqhash.compute`` (tested). It is computed here in numpy for all windows at
once: the resampling of a window to 64 cells is a matrix per axis, so the DCT
of every window is ``(D Ry) L (D Rx)^T``, with the (16 x H) products ``D Ry``
shared by every window with the same rows. A mirror negates the odd columns
of the coefficients, so it costs no DCT. Stored signals and query windows use
this same code and resampler; ``pdq_inner`` values are only ever compared
with each other (their own index).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image
from threadpoolctl import ThreadpoolController

#: Share of each side cut away for the stored inner region (an image's left and right, every
#: side of a video frame).
INNER_CUT = 0.10
#: Share of an image's height cut from its top and its bottom: more than the 10-15 % a logo bar
#: or caption covers, with a PDQ cell's resampling support (about 1 % of the height) to spare,
#: so the region holds none of it. (On bench/match_quality.py's photographs 0.155 and 0.17
#: miss nothing the old 10 % region caught; 0.16 misses one rotation cropped to fill, by 1 bit,
#: and 0.15 three edits: see docs/matching.md.)
TALL_CUT = 0.17
#: Long side of the luma copy every window is cut from.
SOURCE_SIDE = 128
#: Totals (cut before + cut after, as shares of the query's side) of the off-centre band. A
#: crop of f in all on one axis, split l + r = f, puts the inner region at
#: (a, b) = ((INNER_CUT - l) / (1 - f), (INNER_CUT - r) / (1 - f)) of the query: crops of 5-10 %
#: in all give a + b = (2 INNER_CUT - f) / (1 - f) in 0.111-0.158; two levels 0.025 apart
#: cover 0.1075-0.1575 (crops of 5.0-10.4 %; a crop of exactly 5 % is at 0.158): each edge is
#: at most 0.0065 off (a median 9 bits on photographs).
BAND_TOTALS = (0.12, 0.145)
#: Step of a - b along each band level. A window shifted by d (both edges the same way) is about
#: 2.5x as far from the stored hash as one with a single edge off by d (measured on the bench's
#: photographs: a shift of 1.25 % costs a median 36 bits, one edge 18), so the band is dense
#: along the shift: a step of 0.022 leaves at most 0.0055 of shift (a median 15 bits).
BAND_STEP = 0.022
#: Centred pairs: a crop of c per side (c = 5-10 %) puts the inner region at
#: (INNER_CUT - c) / (1 - 2c) = 0-0.056 per side; (0.1, 0.1) is an axis that was not cropped.
CENTRED_CUTS = (0.0, 0.015, 0.03, 0.045, 0.06, INNER_CUT)
#: The same for a cut of ``TALL_CUT``: crops of 5-10 % in all put the region's cuts at
#: (2 TALL_CUT - f) / (1 - f) = 0.267-0.305 in all, two levels 0.02 apart (each edge at most
#: 0.005 off); centred crops of 5-10 % per side at (TALL_CUT - c) / (1 - 2c) = 0.0875-0.133.
TALL_TOTALS = (0.276, 0.296)
TALL_CENTRED = (0.0875, 0.1025, 0.1175, 0.1325, TALL_CUT)


def axis_cuts(
    totals: Sequence[float] = BAND_TOTALS,
    step: float = BAND_STEP,
    centred: Sequence[float] = CENTRED_CUTS,
    inner: float = INNER_CUT,
) -> tuple[tuple[float, float], ...]:
    """Per-axis (cut before, cut after) pairs: the centred ones, then for each band total T
    the pairs with a - b a multiple of ``step``, as far as a crop can shift the inner region
    whose total this level stands for: |a - b| <= f / (1 - f), f = (2 inner - T') / (1 - T'),
    where T' is T less half the gap between levels (the smaller the total, the larger the crop
    and the farther it can shift), plus half a step."""
    out = [(round(c, 4), round(c, 4)) for c in centred]
    half = (totals[1] - totals[0]) / 2 if len(totals) > 1 else 0.0
    for total in totals:
        low = total - half
        f = (2 * inner - low) / (1 - low)
        reach = f / (1 - f)
        n = math.ceil(reach / step - 0.5 - 1e-9)
        for k in range(-n, n + 1):
            a, b = (total + k * step) / 2, (total - k * step) / 2
            if min(a, b) >= 0:
                out.append((round(a, 4), round(b, 4)))
    return tuple(dict.fromkeys(out))


#: Per-axis (cut before, cut after) pairs (``axis_cuts``) for a cut of ``INNER_CUT``, and of
#: ``TALL_CUT``; x and y pairs are combined freely.
AXIS_CUTS: tuple[tuple[float, float], ...] = axis_cuts()
TALL_AXIS_CUTS: tuple[tuple[float, float], ...] = axis_cuts(
    TALL_TOTALS, BAND_STEP, TALL_CENTRED, TALL_CUT
)
_AXIS_FOR = {INNER_CUT: AXIS_CUTS, TALL_CUT: TALL_AXIS_CUTS}


@dataclass(frozen=True, slots=True)
class Region:
    """The stored inner region: the share of the width cut from the left and from the right
    (``x``), and of the height from the top and from the bottom (``y``); each ``INNER_CUT`` or
    ``TALL_CUT``."""

    x: float
    y: float

    def cuts(self) -> tuple[tuple[tuple[float, float], ...], tuple[tuple[float, float], ...]]:
        """(y pairs, x pairs) of the query grid."""
        return _AXIS_FOR[self.y], _AXIS_FOR[self.x]


#: An image's region (``pdq_inner``): logo bars and captions over the top or bottom lie outside.
IMAGE_REGION = Region(INNER_CUT, TALL_CUT)
#: A video frame's region (``video_pdq_inner``).
FRAME_REGION = Region(INNER_CUT, INNER_CUT)
#: Angles (degrees) the query is rotated back by: 2-5 degrees either way, 1 degree apart (an
#: angle off by 0.5 degree costs about as much as the edit itself costs the exact angle).
ANGLES = (2.0, 3.0, 4.0, 5.0, -2.0, -3.0, -4.0, -5.0)
CELLS = 64
_F32 = npt.NDArray[np.float32]
_U8 = npt.NDArray[np.uint8]

#: The products here are tiny (16 x 128 x 128): BLAS threads cost far more than they
#: give (about 4x the CPU and 5x the wall time on 2 cores), so they run on one thread.
_BLAS = ThreadpoolController()

_j = np.arange(CELLS, dtype=np.float64)
_DCT: _F32 = (
    math.sqrt(2.0 / CELLS) * np.cos(np.pi / (2 * CELLS) * np.outer(np.arange(1, 17), 2 * _j + 1))
).astype(np.float32)
#: Mirroring the x axis negates the odd x frequencies (1, 3, ... in PDQ's 1-based count).
_MIRROR = np.where(np.arange(1, 17) % 2 == 1, -1.0, 1.0).astype(np.float32)


def luma(img: Image.Image) -> _F32:
    """PDQ's luma (0.299 R + 0.587 G + 0.114 B) of a copy at most SOURCE_SIDE long."""
    small = img
    if max(img.size) > SOURCE_SIDE:
        small = img.copy()
        small.thumbnail((SOURCE_SIDE, SOURCE_SIDE), Image.Resampling.BOX)
    rgb = np.asarray(small.convert("RGB"), dtype=np.float32)
    return np.ascontiguousarray(rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32))


@functools.lru_cache(maxsize=256)
def _dct_resample(n: int, pairs: tuple[tuple[float, float], ...]) -> _F32:
    """(k, 16, n): the DCT rows times the resampling of n pixels to 64 cells, per pair."""
    out: _F32 = (_DCT @ _resample(n, np.asarray(pairs, dtype=np.float64))).astype(np.float32)
    out.flags.writeable = False
    return out


def _resample(n: int, cuts: npt.NDArray[np.float64]) -> _F32:
    """(k, 64, n) weights taking n source pixels to 64 cells for k (cut before, cut after)
    pairs: a tent filter as wide as a cell (antialiased), normalised per cell."""
    start = cuts[:, 0] * n
    end = n - cuts[:, 1] * n
    scale = (end - start) / CELLS
    centres = start[:, None] + (np.arange(CELLS) + 0.5)[None, :] * scale[:, None]
    support = np.maximum(scale, 1.0)[:, None, None]
    x = (np.arange(n) + 0.5)[None, None, :]
    w = np.clip(1.0 - np.abs(x - centres[:, :, None]) / support, 0.0, None)
    w /= np.maximum(w.sum(axis=2, keepdims=True), 1e-9)
    return w.astype(np.float32)


def _pairs(cuts: Sequence[tuple[float, float]]) -> tuple[tuple[float, float], ...]:
    return tuple((round(float(a), 6), round(float(b), 6)) for a, b in cuts)


def coefficients(
    lum: _F32, ycuts: Sequence[tuple[float, float]], xcuts: Sequence[tuple[float, float]]
) -> _F32:
    """(ny, nx, 16, 16) DCT coefficients of every window (rows ycuts[i], columns xcuts[j]).

    Two plain matrix products, (16 ny x h) (h x w) (w x 16 nx), rather than ny x nx small
    ones: half the time for a grid of a thousand windows."""
    h, w = lum.shape
    dry = _dct_resample(h, _pairs(ycuts))  # (ny, 16, h)
    drx = _dct_resample(w, _pairs(xcuts))  # (nx, 16, w)
    ny, nx = len(dry), len(drx)
    t = dry.reshape(ny * 16, h) @ lum  # (16 ny, w)
    out = (t @ drx.reshape(nx * 16, w).T).reshape(ny, 16, nx, 16).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(out, dtype=np.float32)


def bits(coef: _F32) -> _U8:
    """Packed 256-bit codes (…, 32) from (…, 16, 16) coefficients: above the median is 1."""
    flat = coef.reshape(-1, 256)
    # The median of 256 values: the mean of the 128th and 129th smallest.
    part = np.sort(flat, axis=1)  # (vectorised sort beats a two-point partition here)
    med = (part[:, 127:128] + part[:, 128:129]) / 2
    # PDQ's bit order: the last coefficient (row-major) is the first bit.
    return np.packbits(flat[:, ::-1] > med, axis=1).reshape(*coef.shape[:-2], 32)


def mirrored(coef: _F32) -> _F32:
    out: _F32 = coef * _MIRROR[None, :]
    return out


def quality(lum: _F32, region: Region) -> int:
    """PDQ's quality figure (gradient sum of the 64 x 64 cells, 0-100) of the region."""
    h, w = lum.shape
    ycut, xcut = np.array([[region.y, region.y]]), np.array([[region.x, region.x]])
    cells = _resample(h, ycut)[0] @ lum @ _resample(w, xcut)[0].T
    grad = np.abs(np.diff(cells, axis=0)).sum() + np.abs(np.diff(cells, axis=1)).sum()
    return int(min(100.0, grad * 100 / 255 / 90))


def fill_cut(angle: float, width: int, height: int) -> float:
    """Cut per side (share of the side) of the largest centred rectangle of the same aspect
    inside a ``width`` x ``height`` image rotated by ``angle`` degrees."""
    a = math.radians(abs(angle))
    k = 1.0 / (math.cos(a) + math.sin(a) * max(width / height, height / width))
    return (1.0 - k) / 2


@dataclass(frozen=True, slots=True)
class Window:
    code: bytes
    variant: str
    extra: dict[str, object]


def inner_code(
    img: Image.Image, lum: _F32 | None = None, region: Region = IMAGE_REGION
) -> tuple[bytes, int]:
    """(code, quality) of the image's centred inner region: what a bank stores. ``lum``:
    ``luma(img)`` when the caller has it already."""
    with _BLAS.limit(limits=1, user_api="blas"):
        return _inner_code(luma(img) if lum is None else lum, region)


def _inner_code(lum: _F32, region: Region) -> tuple[bytes, int]:
    y, x = [(region.y, region.y)], [(region.x, region.x)]
    return bytes(bits(coefficients(lum, y, x))[0, 0]), quality(lum, region)


#: One window's name: (variant, key of its ``extra``, value: a cut tuple or an angle).
Layout = tuple[tuple[str, str, tuple[float, ...] | float], ...]


@functools.lru_cache(maxsize=4)
def layout(region: Region = IMAGE_REGION, angles: tuple[float, ...] = ANGLES) -> Layout:
    """The names of ``window_codes``' rows, in order: the grid (y outer, x inner), then per
    angle ``rotate`` and ``rotate_fill``; then all of them again mirrored."""
    ycuts, xcuts = region.cuts()
    plain: list[tuple[str, str, tuple[float, ...] | float]] = [
        ("window", "cut", (x0, x1, y0, y1)) for y0, y1 in ycuts for x0, x1 in xcuts
    ]
    for angle in angles:
        plain += [("rotate", "angle", angle), ("rotate_fill", "angle", angle)]
    return (*plain, *(("mirror_" + v, k, x) for v, k, x in plain))


def windows(img: Image.Image, region: Region = IMAGE_REGION) -> list[Window]:
    """Query windows that line up with a stored inner region after a crop, a small
    rotation (black corners or cropped to fill), or a mirror plus either.

    Variants: ``window`` (``extra["cut"]``: (x before, x after, y before, y after)),
    ``rotate`` and ``rotate_fill`` (``extra["angle"]``), each also ``mirror_…``.
    """
    codes, names = window_codes(img, region=region)
    return [Window(codes[i].tobytes(), v, {k: x}) for i, (v, k, x) in enumerate(names)]


def window_codes(
    img: Image.Image, lum: _F32 | None = None, region: Region = IMAGE_REGION
) -> tuple[_U8, Layout]:
    """(n, 32) packed codes of every window and their names (``layout``): the same windows as
    ``windows``, without a Python object per window (the caller makes the ones it needs).
    ``lum``: ``luma(img)`` when the caller has it already."""
    with _BLAS.limit(limits=1, user_api="blas"):
        return _window_codes(luma(img) if lum is None else lum, region), layout(region)


def rotated_back(lum: _F32, angle: float) -> _F32:
    """``lum`` rotated by ``-angle`` degrees about its centre. Corners that come from outside
    the frame are filled with the mean luma, not black: a flat fill adds no low-frequency
    edge of its own where a rotation cropped to fill brings them into the inner region."""
    src = Image.fromarray(lum, mode="F")
    return np.asarray(
        src.rotate(-angle, resample=Image.Resampling.BILINEAR, fillcolor=float(lum.mean())),
        dtype=np.float32,
    )


def _window_codes(lum: _F32, region: Region) -> _U8:
    h, w = lum.shape
    ycuts, xcuts = region.cuts()
    coefs = [coefficients(lum, ycuts, xcuts).reshape(-1, 16, 16)]
    for angle in ANGLES:
        back = rotated_back(lum, angle)
        k = 1 - 2 * fill_cut(angle, w, h)
        fy, fx = ((c - (1 - k) / 2) / k for c in (region.y, region.x))
        coef = coefficients(
            back, [(region.y, region.y), (fy, fy)], [(region.x, region.x), (fx, fx)]
        )
        coefs.append(np.stack([coef[0, 0], coef[1, 1]]))
    allc = np.concatenate(coefs)
    return bits(np.concatenate([allc, mirrored(allc)]))
