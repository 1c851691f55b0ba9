"""Synthetic stand-ins for propaganda media: posters, banners and short videos.

Why generated and not files: no real material may enter the repository, and a
seed reproduces any item on demand, so 26,000 items cost no disk. Posters
have large shapes, panels and text blocks (not noise), so perceptual hashes
behave as on real graphics, and each seed differs in layout, palette and
shapes so that unrelated posters stay far apart in PDQ space. Every item
carries an invented "outlet mark" in a corner, like the stand-in outlets in
the scenarios.

Contract used by other capabilities: ``make_poster``, ``VARIANTS`` and
``make_video``.
"""

from __future__ import annotations

import functools
import io
import math
import random
from collections.abc import Callable, Iterable, Iterator
from fractions import Fraction

import av
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont, ImageOps

Color = tuple[int, int, int]
Variant = Callable[[Image.Image, random.Random], Image.Image]

_SYLLABLES = ["ka", "lo", "mi", "ra", "su", "te", "vo", "na", "di", "ze", "ba", "qu", "ri", "xo"]
_WORDS = [
    "river",
    "market",
    "morning",
    "bridge",
    "harbor",
    "valley",
    "garden",
    "signal",
    "station",
    "summit",
    "lantern",
    "meadow",
    "archive",
    "compass",
    "horizon",
    "orchard",
    "weather",
]


@functools.lru_cache(maxsize=64)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _palette(rng: random.Random) -> list[Color]:
    """A harmonious but seed-specific palette (HSV around a random base hue)."""
    base = rng.random()
    out: list[Color] = []
    for i in range(5):
        h = (base + i * rng.uniform(0.08, 0.45)) % 1.0
        s = rng.uniform(0.35, 1.0)
        v = rng.uniform(0.2, 1.0) if i else rng.uniform(0.05, 0.9)
        out.append(_hsv(h, s, v))
    return out


def _hsv(h: float, s: float, v: float) -> Color:
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return int(r * 255), int(g * 255), int(b * 255)


def _background(rng: random.Random, full_w: int, full_h: int, pal: list[Color]) -> Image.Image:
    # computed at quarter size and scaled up: 16x less numpy work, same look
    w, h = max(8, full_w // 4), max(8, full_h // 4)
    layout = rng.choice(["gradient", "split_v", "split_h", "diagonal", "bands", "radial", "grid"])
    a = np.array(pal[0], dtype=np.float32)
    b = np.array(pal[1], dtype=np.float32)
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    if layout == "gradient":
        ang = rng.uniform(0, 2 * math.pi)
        t = (xx / w) * math.cos(ang) + (yy / h) * math.sin(ang)
    elif layout == "split_v":
        t = (xx > w * rng.uniform(0.25, 0.75)).astype(np.float32)
    elif layout == "split_h":
        t = (yy > h * rng.uniform(0.25, 0.75)).astype(np.float32)
    elif layout == "diagonal":
        k = rng.uniform(-1.5, 1.5)
        t = (yy - h / 2 > k * (xx - w / 2) + rng.uniform(-h / 4, h / 4)).astype(np.float32)
    elif layout == "bands":
        n = rng.randint(2, 6)
        t = ((yy / h * n).astype(np.int32) % 2).astype(np.float32)
    elif layout == "radial":
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        t = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / math.hypot(w, h)
    else:
        n = rng.randint(2, 4)
        t = (((xx / w * n).astype(np.int32) + (yy / h * n).astype(np.int32)) % 2).astype(np.float32)
    t = np.broadcast_to(t, (h, w)).astype(np.float32)
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    arr = a + t[..., None] * (b - a)
    small = Image.fromarray(arr.clip(0, 255).astype(np.uint8), "RGB")
    return small.resize((full_w, full_h), Image.Resampling.BILINEAR)


def outlet_mark(seed: int) -> str:
    """The invented outlet's initials for a seed (two or three letters)."""
    rng = random.Random(f"outlet:{seed % 97}")
    return "".join(rng.choice("ABDEFHKLMNRSTVZ") for _ in range(rng.randint(2, 3)))


def make_poster(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """A poster/banner-like synthetic image for ``seed`` (deterministic)."""
    rng = random.Random(f"poster:{seed}")
    w, h = size
    pal = _palette(rng)
    img = _background(rng, w, h, pal)
    d = ImageDraw.Draw(img)
    for _ in range(rng.randint(3, 7)):
        kind = rng.choice(["ellipse", "rect", "poly", "bar"])
        c = rng.choice([*pal[2:], (255, 255, 255), (0, 0, 0)])
        x0, y0 = rng.uniform(-0.2, 0.9) * w, rng.uniform(-0.2, 0.9) * h
        sw, sh = rng.uniform(0.15, 0.6) * w, rng.uniform(0.15, 0.6) * h
        box = (x0, y0, x0 + sw, y0 + sh)
        if kind == "ellipse":
            d.ellipse(box, fill=c)
        elif kind == "rect":
            d.rectangle(box, fill=c)
        elif kind == "bar":
            if rng.random() < 0.5:
                d.rectangle((0, y0, w, y0 + sh / 4), fill=c)
            else:
                d.rectangle((x0, 0, x0 + sw / 4, h), fill=c)
        else:
            pts = [(rng.uniform(0, w), rng.uniform(0, h)) for _ in range(rng.randint(3, 5))]
            d.polygon(pts, fill=c)
    # text block: a headline and a few lines, on a panel
    tx, ty = rng.uniform(0.05, 0.45) * w, rng.uniform(0.05, 0.6) * h
    tw = rng.uniform(0.4, 0.55) * w
    lines = rng.randint(2, 4)
    fs = max(10, int(h * rng.uniform(0.05, 0.08)))
    panel = rng.choice(pal)
    d.rectangle((tx - 6, ty - 6, tx + tw, ty + lines * fs * 1.3 + 6), fill=panel)
    ink = (255, 255, 255) if sum(panel) < 380 else (10, 10, 10)
    font = _font(fs)
    for i in range(lines):
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(2, 3)))
        d.text((tx, ty + i * fs * 1.3), words.upper() if i == 0 else words, fill=ink, font=font)
    _draw_mark(d, w, h, seed, rng)
    return img


def _draw_mark(d: ImageDraw.ImageDraw, w: int, h: int, seed: int, rng: random.Random) -> None:
    s = int(min(w, h) * 0.16)
    corner = rng.randrange(4)
    x = 8 if corner in (0, 2) else w - s - 8
    y = 8 if corner in (0, 1) else h - s - 8
    mrng = random.Random(f"outlet:{seed % 97}")
    col = _hsv(mrng.random(), 0.8, 0.9)
    if mrng.random() < 0.5:
        d.ellipse((x, y, x + s, y + s), fill=col, outline=(255, 255, 255), width=3)
    else:
        d.rectangle((x, y, x + s, y + s), fill=col, outline=(255, 255, 255), width=3)
    d.text(
        (x + s / 2, y + s / 2),
        outlet_mark(seed),
        fill=(255, 255, 255),
        font=_font(s // 3),
        anchor="mm",
    )


# --- variants ---------------------------------------------------------------------------


def _reencode(img: Image.Image, rng: random.Random) -> Image.Image:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=rng.randint(30, 60))
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out.convert("RGB")


def _resize(img: Image.Image, rng: random.Random) -> Image.Image:
    f = rng.uniform(0.45, 0.8)
    return img.resize(
        (max(8, int(img.width * f)), max(8, int(img.height * f))), Image.Resampling.LANCZOS
    )


def _crop(img: Image.Image, rng: random.Random) -> Image.Image:
    w, h = img.size
    fx, fy = rng.uniform(0.05, 0.10), rng.uniform(0.05, 0.10)
    left = int(w * fx * rng.random())
    top = int(h * fy * rng.random())
    right = w - (int(w * fx) - left)
    bottom = h - (int(h * fy) - top)
    return img.crop((left, top, right, bottom))


def _pad(img: Image.Image, rng: random.Random) -> Image.Image:
    w, h = img.size
    if rng.random() < 0.5:  # letterbox (bars top and bottom)
        p = int(h * rng.uniform(0.1, 0.2))
        border: tuple[int, int, int, int] = (0, p, 0, p)
    else:  # pillarbox
        p = int(w * rng.uniform(0.1, 0.2))
        border = (p, 0, p, 0)
    return ImageOps.expand(img.convert("RGB"), border=border, fill=(0, 0, 0))


def _mirror(img: Image.Image, rng: random.Random) -> Image.Image:
    return ImageOps.mirror(img)


def _logo_bar(img: Image.Image, rng: random.Random) -> Image.Image:
    out = img.convert("RGB").copy()
    w, h = out.size
    bh = int(h * rng.uniform(0.10, 0.15))
    d = ImageDraw.Draw(out)
    top = rng.random() < 0.5
    y0 = 0 if top else h - bh
    d.rectangle((0, y0, w, y0 + bh), fill=_hsv(rng.random(), 0.6, 0.4))
    d.text(
        (10, y0 + bh / 2),
        "REPOST " + rng.choice(_WORDS).upper(),
        fill=(255, 255, 255),
        font=_font(max(8, bh // 2)),
        anchor="lm",
    )
    return out


def _rotate(img: Image.Image, rng: random.Random) -> Image.Image:
    angle = rng.uniform(2.0, 5.0) * rng.choice([-1, 1])
    return img.convert("RGB").rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=(0, 0, 0))


def _overlay_text(img: Image.Image, rng: random.Random) -> Image.Image:
    out = img.convert("RGB").copy()
    w, h = out.size
    d = ImageDraw.Draw(out)
    text = " ".join(rng.choice(_WORDS) for _ in range(2))
    d.text(
        (w / 2, h * rng.uniform(0.4, 0.7)),
        text,
        fill=(255, 255, 255),
        font=_font(max(8, h // 14)),
        anchor="mm",
        stroke_width=2,
        stroke_fill=(0, 0, 0),
    )
    return out


VARIANTS: dict[str, Variant] = {
    "reencode": _reencode,
    "resize": _resize,
    "crop": _crop,
    "pad": _pad,
    "mirror": _mirror,
    "logo_bar": _logo_bar,
    "rotate": _rotate,
    "overlay_text": _overlay_text,
}


def _crop_by(img: Image.Image, left: float, top: float, right: float, bottom: float) -> Image.Image:
    w, h = img.size
    return img.crop((round(w * left), round(h * top), w - round(w * right), h - round(h * bottom)))


def _crop_centred(img: Image.Image, rng: random.Random) -> Image.Image:
    fx, fy = rng.uniform(0.05, 0.10), rng.uniform(0.05, 0.10)
    return _crop_by(img, fx, fy, fx, fy)


def _rotate_fill(img: Image.Image, rng: random.Random) -> Image.Image:
    """Rotated by 2-5 degrees, then cropped to the largest centred rectangle of the same
    aspect that has no black corner."""
    angle = rng.uniform(2.0, 5.0) * rng.choice([-1, 1])
    w, h = img.size
    a = math.radians(abs(angle))
    k = 1.0 / (math.cos(a) + math.sin(a) * max(w / h, h / w))
    out = img.convert("RGB").rotate(angle, resample=Image.Resampling.BICUBIC)
    return _crop_by(out, (1 - k) / 2, (1 - k) / 2, (1 - k) / 2, (1 - k) / 2)


def _mirror_crop(img: Image.Image, rng: random.Random) -> Image.Image:
    return ImageOps.mirror(_crop_centred(img, rng))


def _mirror_crop_offset(img: Image.Image, rng: random.Random) -> Image.Image:
    return ImageOps.mirror(_crop(img, rng))


#: Harder edits, beyond what the adversary uses (``VARIANTS``): matching's crop, rotation and
#: mirror recovery is measured on them (bench/match_quality.py, tests/matching).
EXTRA_VARIANTS: dict[str, Variant] = {
    "crop_centred": _crop_centred,
    "rotate_fill": _rotate_fill,
    "mirror_crop": _mirror_crop,
    "mirror_crop_offset": _mirror_crop_offset,
}


def apply_variant(img: Image.Image, variant: str | None, seed: int) -> Image.Image:
    """``img`` edited by one of ``VARIANTS`` or ``EXTRA_VARIANTS`` (deterministic per seed)."""
    if not variant:
        return img
    fn = VARIANTS.get(variant) or EXTRA_VARIANTS[variant]
    return fn(img, random.Random(f"variant:{seed}:{variant}"))


def poster_jpeg(seed: int, variant: str | None = None, size: tuple[int, int] = (640, 480)) -> bytes:
    img = apply_variant(make_poster(seed, size), variant, seed)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=88)
    return buf.getvalue()


def make_video(
    seed: int,
    seconds: float = 3.0,
    fps: int = 10,
    size: tuple[int, int] = (320, 240),
    variant: str | None = None,
) -> bytes:
    """An MP4 (H.264) clip: the seed's poster with a moving shape and a changing caption bar."""
    w, h = size
    base = make_poster(seed, (w, h))
    rng = random.Random(f"video:{seed}")
    col = _hsv(rng.random(), 0.9, 1.0)
    r = int(min(w, h) * rng.uniform(0.08, 0.15))
    vx, vy = rng.uniform(-1, 1), rng.uniform(-1, 1)
    n = max(1, int(seconds * fps))

    def frames() -> Iterator[npt.NDArray[np.uint8]]:
        for i in range(n):
            frame = base.copy()
            d = ImageDraw.Draw(frame)
            t = i / n
            cx = (w / 2 + vx * t * w / 2) % w
            cy = (h / 2 + vy * t * h / 2) % h
            d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=col)
            d.rectangle((0, h - h // 10, int(w * (i + 1) / n), h), fill=(255, 255, 255))
            frame = apply_variant(frame, variant, seed)
            if frame.size != (w, h):
                frame = frame.resize((w, h))
            yield np.asarray(frame.convert("RGB"))

    return encode_mp4(frames(), fps=fps, crf=28)


def encode_mp4(frames: Iterable[npt.NDArray[np.uint8]], *, fps: int, crf: int = 28) -> bytes:
    """An MP4 (H.264, yuv420p) of RGB frames, all of the first frame's size."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": str(crf), "threads": "1"}
        for k, arr in enumerate(frames):
            if k == 0:
                stream.height, stream.width = arr.shape[:2]
            for packet in stream.encode(av.VideoFrame.from_ndarray(arr, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buf.getvalue()
