"""Partner tokens sealed at rest (``kit.sealing``: Fernet, a key derived from
TAKEDOWN_SECRET_KEY under this use's own HKDF label).

A token to a partner's server is a credential of another organisation: the database
holds it only sealed, and it is never shown again, logged or audited. An empty token
stays empty.
"""

from __future__ import annotations

from takedown.kit import sealing

_PURPOSE = b"takedown sharing: partner secrets"
_MISSING = "set TAKEDOWN_SECRET_KEY to store partner tokens (they are sealed)"
_CHANGED = "a partner token cannot be unsealed: TAKEDOWN_SECRET_KEY changed since it was stored"


def seal(secret_key: str | None, value: str) -> str:
    if not value:
        return ""
    return sealing.seal(secret_key, value, purpose=_PURPOSE, missing=_MISSING)


def unseal(secret_key: str | None, sealed: str) -> str:
    if not sealed:
        return ""
    return sealing.unseal(secret_key, sealed, purpose=_PURPOSE, missing=_MISSING, changed=_CHANGED)
