"""Secrets sealed at rest: Fernet, with a key derived from TAKEDOWN_SECRET_KEY by HKDF.

Each use passes its own HKDF label (``purpose``), so a key derived for one use never
opens another's secrets. Used for partner tokens (sharing) and Rocket.Chat credentials
(monitoring): credentials of other organisations, never shown again, logged or audited.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from takedown.kit.errors import InvalidInput, Unavailable


def _fernet(secret_key: str | None, purpose: bytes, missing: str) -> Fernet:
    if not secret_key:
        raise InvalidInput(missing)
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(
        secret_key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str | None, value: str, *, purpose: bytes, missing: str) -> str:
    """``value`` sealed; ``missing`` is the error when no secret key is set."""
    return _fernet(secret_key, purpose, missing).encrypt(value.encode("utf-8")).decode("ascii")


def unseal(
    secret_key: str | None, sealed: str, *, purpose: bytes, missing: str, changed: str
) -> str:
    """The value sealed by ``seal``; ``changed`` is the error when the key no longer opens it."""
    try:
        f = _fernet(secret_key, purpose, missing)
        return f.decrypt(sealed.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise Unavailable(changed) from None
