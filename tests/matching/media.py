"""Media for the matching tests, made on the fly: posters, hostile files, videos."""

from __future__ import annotations

import io
import zlib
from fractions import Fraction

import av
import numpy as np
from PIL import Image

from takedown.sim.media import apply_variant, make_poster


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def poster(seed: int, variant: str | None = None) -> bytes:
    return jpeg(apply_variant(make_poster(seed, (640, 480)), variant, seed))


def flat_image(color: tuple[int, int, int] = (128, 128, 128)) -> bytes:
    return png(Image.new("RGB", (300, 200), color))


def decompression_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A tiny PNG whose header promises ``width*height`` pixels (built by hand, never decoded)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
        )

    ihdr = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    row = b"\x00" + b"\x00" * width
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(64)) + comp.flush()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def truncated_jpeg(seed: int = 1) -> bytes:
    data = poster(seed)
    return data[: len(data) // 2]


def video(seed: int, seconds: float = 4.0, variant: str | None = None) -> bytes:
    from takedown.sim.media import make_video

    return make_video(seed, seconds=seconds, fps=8, size=(320, 240), variant=variant)


def audio_only_mp4(seconds: float = 1.0) -> bytes:
    """An MP4 with one AAC audio stream and no video stream."""
    buf = io.BytesIO()
    rate = 16_000
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("aac", rate=rate)
        stream.layout = "mono"
        samples = int(rate * seconds)
        t = np.arange(samples, dtype=np.float32) / rate
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        step = 1024
        for i in range(0, samples, step):
            chunk = tone[i : i + step]
            frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.time_base = Fraction(1, rate)
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()


def photo_like(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A generated stand-in for a photograph: smooth colour fields at several scales (1/f-like
    noise) with soft shapes, no text and no flat areas, unlike the testbed's posters."""
    rng = np.random.default_rng(seed)
    w, h = size
    acc = np.zeros((h, w, 3), dtype=np.float32)
    for octave in range(1, 8):
        cells = 2**octave
        grid = rng.random((cells + 1, cells + 1, 3)).astype(np.float32)
        layer = Image.fromarray((grid * 255).astype(np.uint8), "RGB").resize(
            (w, h), Image.Resampling.BICUBIC
        )
        acc += np.asarray(layer, dtype=np.float32) / (octave**0.7)
    acc -= acc.min()
    acc *= 255.0 / max(1e-6, float(acc.max()))
    return Image.fromarray(acc.astype(np.uint8), "RGB")
