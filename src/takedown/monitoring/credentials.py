"""Rocket.Chat credentials sealed at rest (``kit.sealing``: Fernet, a key derived from
TAKEDOWN_SECRET_KEY under this use's own HKDF label, so a key derived for partner tokens
never opens these). A server's token is shown once, when it is entered, and never logged
or audited.
"""

from __future__ import annotations

from takedown.kit import sealing

_PURPOSE = b"takedown monitoring: rocket.chat credentials"
_MISSING = "set TAKEDOWN_SECRET_KEY to store Rocket.Chat credentials (they are sealed)"
_CHANGED = (
    "Rocket.Chat credentials cannot be unsealed: TAKEDOWN_SECRET_KEY changed since "
    "they were stored; enter them again with `takedown watch server add`"
)


def seal(secret_key: str | None, value: str) -> str:
    return sealing.seal(secret_key, value, purpose=_PURPOSE, missing=_MISSING)


def unseal(secret_key: str | None, sealed: str) -> str:
    return sealing.unseal(secret_key, sealed, purpose=_PURPOSE, missing=_MISSING, changed=_CHANGED)
