"""Frame-PDQ for video: one frame per second plus every scene change.

A re-uploaded video is usually re-encoded, trimmed at either end or cut
into a compilation, so the unit of matching is the frame, not the file. We
sample one frame per second and every hard cut (mean luminance change on a
32x32 thumbnail), PDQ-hash each, and let the matcher decide a video matches
when enough of its sampled frames match, reporting the fraction and the
time ranges.

Besides each frame's PDQ (``video_pdq``, variant ``frame``) and the inner-region
hash (``video_pdq_inner``, see ``windows``), every sampled frame gets a **band**
hash, the PDQ of its middle rows (``video_pdq_inner``, variant ``band``): stored
in the derived inner signal (``b<t>:hex`` entries) and made on the query side
too, it lets a clip with a logo bar over its top or bottom match. On the query
side, uniform borders (letterbox, pillarbox, padding) are decided **once per
video** from several sampled frames (the median of each side over the frames
that are not almost uniform), and every frame is hashed without them too
(``video_pdq``, variant ``trimmed``, and ``trimmed_even`` when opposite borders
differ).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import av
import numpy as np
import pdqhash
from PIL import Image

from takedown.matching.base import HashResult, MediaError, MediaInput, read_input
from takedown.matching.hashers import windows as win
from takedown.matching.hashers.image import (
    MAX_SIDE,
    MIN_QUALITY,
    TRIM_MIN_FRACTION,
    U8Array,
    band,
    bits_to_hex,
    find_borders,
)

SIGNAL_TYPE = "video_pdq"
INNER_SIGNAL_TYPE = "video_pdq_inner"
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
#: Borders are decided from this many sampled frames that are not almost uniform...
BORDER_FRAMES = 5
#: ...or from the frames seen when this many sampled frames are waiting for the decision.
BORDER_MAX_PENDING = 16
#: A frame whose content (what is left inside its borders) is less than this share of a
#: side is almost uniform (a fade, a title card): it does not vote on the borders.
BORDER_MIN_CONTENT = 0.3


@dataclass(frozen=True, slots=True)
class VideoOptions:
    interval: float = 1.0
    scene_threshold: float = 28.0
    max_frames: int = 3600
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = 8192 * 8192
    #: Per sampled frame, the hash of its inner region (``video_pdq_inner``, stored).
    inner: bool = False
    #: Query windows (crops, small rotations, mirrors: see ``windows``) of up to
    #: ``window_frames`` sampled frames spread over the video.
    windows: bool = False
    window_frames: int = 8
    #: Per sampled frame, the hash of its middle rows (``video_pdq_inner``, variant ``band``,
    #: stored in the inner signal): what survives a logo bar over the top or bottom.
    band: bool = False
    #: Query frames without the video's uniform borders (``video_pdq``, ``trimmed``).
    trim: bool = False


def _scaled(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _frame_borders(rgb: U8Array) -> tuple[float, float, float, float] | None:
    """A frame's uniform borders as shares of its sides (top, bottom, left, right), or
    ``None`` when the frame is almost uniform (a fade, a title card): it does not vote."""
    h, w = rgb.shape[:2]
    top, bottom, left, right = find_borders(rgb)
    if h - top - bottom < h * BORDER_MIN_CONTENT or w - left - right < w * BORDER_MIN_CONTENT:
        return None
    return (top / h, bottom / h, left / w, right / w)


def video_borders(
    votes: Sequence[tuple[float, float, float, float]],
) -> tuple[float, float, float, float]:
    """The video's borders from its frames' votes: per side, the lower median.

    Borders are constant over a clip while the picture is not, so one frame whose dark
    scene runs into the letterbox bar (deeper), or whose subtitle sits in the bar
    (shallower), does not move the decision.
    """
    if not votes:
        return (0.0, 0.0, 0.0, 0.0)
    k = (len(votes) - 1) // 2
    top, bottom, left, right = (sorted(v[i] for v in votes)[k] for i in range(4))
    return (top, bottom, left, right)


def trim_boxes(
    borders: tuple[float, float, float, float],
) -> list[tuple[str, tuple[float, float, float, float]]]:
    """The query crops for the video's borders: ``trimmed`` (every border), and
    ``trimmed_even`` (opposite borders cut by the shallower one, as padding is added
    evenly) when that is a different crop. Borders under ``TRIM_MIN_FRACTION`` give none."""
    top, bottom, left, right = borders
    even = (min(top, bottom), min(top, bottom), min(left, right), min(left, right))
    out: list[tuple[str, tuple[float, float, float, float]]] = []
    for name, (t, b, lft, r) in (("trimmed", borders), ("trimmed_even", even)):
        if max(t, b) < TRIM_MIN_FRACTION and max(lft, r) < TRIM_MIN_FRACTION:
            continue
        if t + b > 1 - BORDER_MIN_CONTENT or lft + r > 1 - BORDER_MIN_CONTENT:
            continue
        if out and (t, b, lft, r) == out[0][1]:
            continue
        out.append((name, (t, b, lft, r)))
    return out


def _trimmed_hashes(
    frames: Sequence[tuple[float, U8Array]],
    boxes: Sequence[tuple[str, tuple[float, float, float, float]]],
) -> list[HashResult]:
    """The frames cut to each box. A side that has a border loses one more line: where the
    bar meets the picture, scaling and chroma subsampling blend the two into a line that
    is neither (on the testbed's padded clips, cutting it took the median frame from 12
    to 10 bits and one clip in 80 from 32-38 to 18-24)."""

    def cut(share: float, n: int) -> int:
        px = round(n * share)
        return px + 1 if px else 0

    out: list[HashResult] = []
    for t, rgb in frames:
        h, w = rgb.shape[:2]
        for name, (top, bottom, left, right) in boxes:
            sub = rgb[cut(top, h) : h - cut(bottom, h), cut(left, w) : w - cut(right, w)]
            if sub.shape[0] < 16 or sub.shape[1] < 16:
                continue
            bits, quality = pdqhash.compute(np.ascontiguousarray(sub))
            q = int(quality)
            out.append(
                HashResult(SIGNAL_TYPE, bits_to_hex(bits), name, q, q >= MIN_QUALITY, {"t": t})
            )
    return out


def hash_video(data: MediaInput, options: VideoOptions = VideoOptions()) -> list[HashResult]:
    raw = read_input(data, max_bytes=options.max_bytes)
    if not raw:
        raise MediaError("the file is empty")
    try:
        container = av.open(io.BytesIO(raw), mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise MediaError(f"not a readable video: {exc}") from exc
    out: list[HashResult] = []
    # Trim (query side): frames wait here until the video's borders are decided.
    pending: list[tuple[float, U8Array]] = []
    votes: list[tuple[float, float, float, float]] = []
    boxes: list[tuple[str, tuple[float, float, float, float]]] | None = None if options.trim else []
    try:
        if not container.streams.video:
            raise MediaError("the file has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        w, h = stream.codec_context.width, stream.codec_context.height
        if w and h and w * h > options.max_pixels:
            raise MediaError(f"video frames of {w}x{h} are larger than allowed")
        next_t = 0.0
        duration = float(container.duration) / 1e6 if container.duration else 0.0
        window_step = duration / options.window_frames if duration > 0 else 0.0
        next_window_t = 0.0
        windowed = frames = 0
        last_thumb: np.ndarray | None = None
        for frame in container.decode(stream):
            t = float(frame.time) if frame.time is not None else 0.0
            thumb = frame.reformat(width=32, height=32, format="gray").to_ndarray().astype(np.int16)
            scene = (
                last_thumb is not None
                and float(np.abs(thumb - last_thumb).mean()) > options.scene_threshold
            )
            last_thumb = thumb
            if t + 1e-6 < next_t and not scene:
                continue
            if t + 1e-6 >= next_t:
                next_t = (int(t / options.interval) + 1) * options.interval
            sw, sh = _scaled(frame.width, frame.height)
            rgb: U8Array = np.asarray(
                frame.reformat(width=sw, height=sh, format="rgb24").to_ndarray(), dtype=np.uint8
            )
            bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
            q = int(quality)
            tr = round(t, 3)
            out.append(
                HashResult(
                    SIGNAL_TYPE,
                    bits_to_hex(bits),
                    "frame",
                    q,
                    q >= MIN_QUALITY,
                    {"t": tr, "scene": bool(scene)},
                )
            )
            if options.band:
                bbits, bquality = pdqhash.compute(band(rgb))
                bq = int(bquality)
                out.append(
                    HashResult(
                        INNER_SIGNAL_TYPE,
                        bits_to_hex(bbits),
                        "band",
                        bq,
                        bq >= MIN_QUALITY,
                        {"t": tr},
                    )
                )
            if boxes is None:
                vote = _frame_borders(rgb)
                if vote is not None:
                    votes.append(vote)
                pending.append((tr, rgb))
                if len(votes) >= BORDER_FRAMES or len(pending) >= BORDER_MAX_PENDING:
                    boxes = trim_boxes(video_borders(votes))
                    out.extend(_trimmed_hashes(pending, boxes))
                    pending = []
            elif boxes:
                out.extend(_trimmed_hashes([(tr, rgb)], boxes))
            if options.inner or options.windows:
                img = Image.fromarray(rgb)
                if options.inner:
                    code, iq = win.inner_code(img, region=win.FRAME_REGION)
                    out.append(
                        HashResult(
                            INNER_SIGNAL_TYPE,
                            code.hex(),
                            "inner",
                            iq,
                            iq >= MIN_QUALITY,
                            {"t": tr},
                        )
                    )
                if (
                    options.windows
                    and windowed < options.window_frames
                    and t + 1e-6 >= next_window_t
                ):
                    windowed += 1
                    next_window_t = t + window_step
                    out.extend(
                        HashResult(
                            INNER_SIGNAL_TYPE,
                            w.code.hex(),
                            w.variant,
                            q,
                            q >= MIN_QUALITY,
                            {"t": tr, **w.extra},
                        )
                        for w in win.windows(img, win.FRAME_REGION)
                    )
            frames += 1
            if frames >= options.max_frames:
                break
        if boxes is None and pending:
            # A short video: decide from the frames it has.
            out.extend(_trimmed_hashes(pending, trim_boxes(video_borders(votes))))
    except av.FFmpegError as exc:
        raise MediaError(f"the video is truncated or corrupt: {exc}") from exc
    finally:
        container.close()
    if not out:
        raise MediaError("the video has no decodable frames")
    return out


#: Marks a band entry in a stored ``video_pdq_inner`` value (``b<t>:hex``).
BAND_MARK = "b"
_FORMAT = "a video signal is 't:pdqhex;t:pdqhex;...'"


def encode_frames(
    frames: Sequence[tuple[float, str]], bands: Sequence[tuple[float, str]] = ()
) -> str:
    """A video signal's stored value: ``t:hex;t:hex;...`` (seconds, PDQ hex).

    A ``video_pdq_inner`` value also carries its frames' bands, as ``b<t>:hex`` entries
    after the frames (values stored before bands have none and read as before).
    """
    parts = [f"{t:g}:{h}" for t, h in frames]
    parts += [f"{BAND_MARK}{t:g}:{h}" for t, h in bands]
    return ";".join(parts)


def decode_entries(value: str) -> tuple[list[tuple[float, str]], list[tuple[float, str]]]:
    """(frames, bands) of a stored video value; ``bands`` is empty for ``video_pdq``."""
    frames: list[tuple[float, str]] = []
    bands: list[tuple[float, str]] = []
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        t, sep, h = part.partition(":")
        if not sep or len(h) != 64:
            raise MediaError(_FORMAT)
        into = frames
        if t.startswith(BAND_MARK):
            t, into = t[len(BAND_MARK) :], bands
        try:
            bytes.fromhex(h)
            into.append((float(t), h.lower()))
        except ValueError:
            raise MediaError(_FORMAT) from None
    if not frames and not bands:
        raise MediaError("a video signal needs at least one frame")
    return frames, bands


def decode_frames(value: str) -> list[tuple[float, str]]:
    """Every code of a stored video value with its time: the frames, then any bands (the
    index holds both; ``decode_entries`` tells them apart)."""
    frames, bands = decode_entries(value)
    return frames + bands


class VideoPdqHasher:
    name = "video_pdq"
    signal_type = SIGNAL_TYPE

    def __init__(self, options: VideoOptions | None = None) -> None:
        self.options = options or VideoOptions()

    def accepts(self, media_type: str) -> bool:
        return media_type == "video"

    def hash(self, data: MediaInput) -> list[HashResult]:
        return hash_video(data, self.options)
