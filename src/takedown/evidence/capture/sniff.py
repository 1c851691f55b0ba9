"""What a body really is, whatever its Content-Type says."""

from __future__ import annotations

MAGIC: list[tuple[bytes, int, str, str]] = [
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "PNG image"),
    (b"\xff\xd8\xff", 0, "image/jpeg", "JPEG image"),
    (b"GIF87a", 0, "image/gif", "GIF image"),
    (b"GIF89a", 0, "image/gif", "GIF image"),
    (b"%PDF-", 0, "application/pdf", "PDF document"),
    (b"PK\x03\x04", 0, "application/zip", "ZIP archive"),
    (b"MZ", 0, "application/x-msdownload", "Windows executable"),
    (b"\x7fELF", 0, "application/x-executable", "ELF executable"),
    (b"\x1f\x8b", 0, "application/gzip", "gzip data"),
    (b"ftyp", 4, "video/mp4", "MP4 video"),
    (b"\x1a\x45\xdf\xa3", 0, "video/webm", "WebM/Matroska video"),
    (b"OggS", 0, "audio/ogg", "Ogg media"),
]
TEXTUAL = ("text/", "application/json", "application/xml", "application/xhtml+xml")


def magic(body: bytes) -> tuple[str, str] | None:
    for sig, offset, mtype, label in MAGIC:
        if body[offset : offset + len(sig)] == sig:
            if mtype == "application/zip" and body[:4] == b"RIFF":
                continue
            return mtype, label
    if body[:4] == b"RIFF" and body[8:12] == b"WEBP":
        return "image/webp", "WebP image"
    return None


def looks_binary(body: bytes) -> str | None:
    """A label when the body is binary (a known signature, or NULs / control bytes)."""
    hit = magic(body)
    if hit is not None:
        return hit[1]
    head = body[:2048]
    if not head:
        return None
    if b"\x00" in head:
        return "binary data (NUL bytes)"
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    if control / len(head) > 0.1:
        return "binary data (control bytes)"
    return None


def looks_html(body: bytes) -> bool:
    head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or (
        b"<html" in head or b"<body" in head
    )


def main_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def charset(content_type: str) -> str:
    for part in content_type.split(";")[1:]:
        k, _, v = part.strip().partition("=")
        if k.lower() == "charset" and v:
            return v.strip("\"' ")
    return "utf-8"


def check_declared(url: str, content_type: str, body: bytes) -> tuple[str, str] | None:
    """(code, reason) when the declared type and the body disagree in a way that matters."""
    declared = main_type(content_type)
    if declared in ("text/html", "application/xhtml+xml", "text/plain"):
        label = looks_binary(body)
        if label is not None:
            return (
                "binary_disguised",
                f"{url}: declared {declared} but the body is {label}; not treated as a page",
            )
    elif declared.startswith(("image/", "video/", "audio/")) and body and looks_html(body):
        return (
            "wrong_content_type",
            f"{url}: declared {declared} but the body is an HTML document",
        )
    return None
