"""Partner tokens sealed at rest (Fernet, with a key derived from TAKEDOWN_SECRET_KEY).

A token to a partner's server is a credential of another organisation: the database
holds it only sealed, and it is never shown again, logged or audited.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from takedown.kit.errors import InvalidInput, Unavailable


def _fernet(secret_key: str | None) -> Fernet:
    if not secret_key:
        raise InvalidInput("set TAKEDOWN_SECRET_KEY to store partner tokens (they are sealed)")
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"takedown sharing: partner secrets"
    ).derive(secret_key.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str | None, value: str) -> str:
    if not value:
        return ""
    return _fernet(secret_key).encrypt(value.encode("utf-8")).decode("ascii")


def unseal(secret_key: str | None, sealed: str) -> str:
    if not sealed:
        return ""
    try:
        return _fernet(secret_key).decrypt(sealed.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise Unavailable(
            "a partner token cannot be unsealed: TAKEDOWN_SECRET_KEY changed since it was stored"
        ) from None
