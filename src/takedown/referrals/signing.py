"""HMAC-SHA256 request signatures for API deliveries, and their verification.

Header: ``X-Takedown-Signature: t=<unix seconds>,v1=<hex>`` where the MAC is
over ``"<t>." + body``. The timestamp bounds replays; the platform also sees
an ``Idempotency-Key`` so a retried delivery is recognised, not re-processed.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Takedown-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(key: bytes, body: bytes, timestamp: int) -> str:
    mac = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(key: bytes, header: str, body: bytes, now: int, tolerance: int = 300) -> bool:
    """True if ``header`` signs ``body`` with ``key`` within ``tolerance`` seconds of ``now``."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    t, mac = parts.get("t", ""), parts.get("v1", "")
    if not t.isdigit() or not mac:
        return False
    if abs(now - int(t)) > tolerance:
        return False
    expected = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, mac)
