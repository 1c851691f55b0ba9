"""Signed values for the browser: the login form's CSRF token and one-shot notices.

Why signed: before login there is no session to hold a CSRF token, so the login
form uses a double-submit cookie whose value the server signs with the secret
key (a forged cookie without the key is useless). Notices ("agency added")
travel in a signed cookie across the redirect after a POST.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import time
from typing import Any

from fastapi import Request

from takedown.config import Settings

log = logging.getLogger("takedown.web")

LOGIN_CSRF_COOKIE = "takedown_login_csrf"
FLASH_COOKIE = "takedown_flash"
LOGIN_CSRF_MAX_AGE = 2 * 3600


def resolve_secret(settings: Settings) -> bytes:
    """The key from ``TAKEDOWN_SECRET_KEY``, or a per-process random one (with a warning)."""
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    log.warning(
        "TAKEDOWN_SECRET_KEY is not set: using a random per-process key for login forms and "
        "notices. Set it when running more than one web process, or logins will fail "
        "across processes and restarts."
    )
    return secrets.token_bytes(32)


def secret_of(request: Request) -> bytes:
    key: bytes = request.app.state.web_secret
    return key


def _mac(key: bytes, purpose: str, value: str) -> str:
    digest = hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


# --- the login form's CSRF (double-submit cookie, signed) -----------------------------------


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def login_csrf_token(key: bytes, nonce: str) -> str:
    """The form field that goes with the cookie ``nonce``: ``<issued>.<mac>``."""
    issued = str(int(time.time()))
    return f"{issued}.{_mac(key, 'login-csrf', nonce + '|' + issued)}"


def check_login_csrf(key: bytes, nonce: str | None, token: str | None) -> bool:
    if not nonce or not token or "." not in token:
        return False
    issued, _, mac = token.partition(".")
    if not issued.isdigit() or time.time() - int(issued) > LOGIN_CSRF_MAX_AGE:
        return False
    return hmac.compare_digest(mac, _mac(key, "login-csrf", nonce + "|" + issued))


# --- notices (flash messages) ----------------------------------------------------------------

LEVELS = frozenset({"success", "info", "warning", "error"})


def encode_flash(key: bytes, messages: list[tuple[str, str]]) -> str:
    body = base64.urlsafe_b64encode(
        json.dumps(messages, ensure_ascii=True, separators=(",", ":")).encode()
    ).decode("ascii")
    return f"{body}.{_mac(key, 'flash', body)}"


def decode_flash(key: bytes, raw: str | None) -> list[tuple[str, str]]:
    if not raw or "." not in raw:
        return []
    body, _, mac = raw.rpartition(".")
    if not hmac.compare_digest(mac, _mac(key, "flash", body)):
        return []
    try:
        data: Any = json.loads(base64.urlsafe_b64decode(body.encode("ascii")))
    except ValueError:
        return []
    out: list[tuple[str, str]] = []
    if isinstance(data, list):
        for item in data[:10]:
            if isinstance(item, list) and len(item) == 2 and item[0] in LEVELS:
                out.append((str(item[0]), str(item[1])[:500]))
    return out


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 0x20 for c in target):
        return default
    return target


# The app's Content-Security-Policy (app.py sets it on every answer that has none).
# Scripts only from our own origin; styles too (no inline). Captured evidence is served
# elsewhere with its own, stricter "sandbox" policy.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; "
    "frame-src 'self'"
)


def csp_with_style_nonce(nonce: str) -> str:
    """The same policy, plus style elements carrying this page's nonce (ReDoc's styled
    components insert ``<style>`` elements; scripts stay our own origin's only)."""
    return CSP.replace("style-src 'self'", f"style-src 'self' 'nonce-{nonce}'", 1)
