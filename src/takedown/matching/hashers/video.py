"""Frame-PDQ for video: one frame per second plus every scene change.

A re-uploaded video is usually re-encoded, trimmed at either end or cut
into a compilation, so the unit of matching is the frame, not the file. We
sample one frame per second and every hard cut (mean luminance change on a
32x32 thumbnail), PDQ-hash each, and let the matcher decide a video matches
when enough of its sampled frames match, reporting the fraction and the
time ranges.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import av
import numpy as np
import pdqhash
from PIL import Image

from takedown.matching.base import HashResult, MediaError, MediaInput, read_input
from takedown.matching.hashers import windows as win
from takedown.matching.hashers.image import MAX_SIDE, MIN_QUALITY, bits_to_hex

SIGNAL_TYPE = "video_pdq"
INNER_SIGNAL_TYPE = "video_pdq_inner"
DEFAULT_MAX_BYTES = 512 * 1024 * 1024


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


def _scaled(width: int, height: int) -> tuple[int, int]:
    scale = min(1.0, MAX_SIDE / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def hash_video(data: MediaInput, options: VideoOptions = VideoOptions()) -> list[HashResult]:
    raw = read_input(data, max_bytes=options.max_bytes)
    if not raw:
        raise MediaError("the file is empty")
    try:
        container = av.open(io.BytesIO(raw), mode="r")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise MediaError(f"not a readable video: {exc}") from exc
    out: list[HashResult] = []
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
            rgb = frame.reformat(width=sw, height=sh, format="rgb24").to_ndarray()
            bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
            q = int(quality)
            out.append(
                HashResult(
                    SIGNAL_TYPE,
                    bits_to_hex(bits),
                    "frame",
                    q,
                    q >= MIN_QUALITY,
                    {"t": round(t, 3), "scene": bool(scene)},
                )
            )
            if options.inner or options.windows:
                img = Image.fromarray(rgb)
                if options.inner:
                    code, iq = win.inner_code(img)
                    out.append(
                        HashResult(
                            INNER_SIGNAL_TYPE,
                            code.hex(),
                            "inner",
                            iq,
                            iq >= MIN_QUALITY,
                            {"t": round(t, 3)},
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
                            {"t": round(t, 3), **w.extra},
                        )
                        for w in win.windows(img)
                    )
            frames += 1
            if frames >= options.max_frames:
                break
    except av.FFmpegError as exc:
        raise MediaError(f"the video is truncated or corrupt: {exc}") from exc
    finally:
        container.close()
    if not out:
        raise MediaError("the video has no decodable frames")
    return out


def encode_frames(frames: list[tuple[float, str]]) -> str:
    """A video signal's stored value: ``t:hex;t:hex;...`` (seconds, PDQ hex)."""
    return ";".join(f"{t:g}:{h}" for t, h in frames)


def decode_frames(value: str) -> list[tuple[float, str]]:
    out: list[tuple[float, str]] = []
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        t, sep, h = part.partition(":")
        if not sep or len(h) != 64:
            raise MediaError("a video signal is 't:pdqhex;t:pdqhex;...'")
        try:
            bytes.fromhex(h)
            out.append((float(t), h.lower()))
        except ValueError:
            raise MediaError("a video signal is 't:pdqhex;t:pdqhex;...'") from None
    if not out:
        raise MediaError("a video signal needs at least one frame")
    return out


class VideoPdqHasher:
    name = "video_pdq"
    signal_type = SIGNAL_TYPE

    def __init__(self, options: VideoOptions | None = None) -> None:
        self.options = options or VideoOptions()

    def accepts(self, media_type: str) -> bool:
        return media_type == "video"

    def hash(self, data: MediaInput) -> list[HashResult]:
        return hash_video(data, self.options)
