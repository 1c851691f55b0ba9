"""Rocket.Chat credentials sealed at rest (Fernet, with a key derived from TAKEDOWN_SECRET_KEY).

The same scheme as ``sharing.secrets`` (partner tokens), with its own HKDF
label so a key derived for one use never opens the other's secrets. A server's
token is shown once, when it is entered, and never logged or audited.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from takedown.kit.errors import InvalidInput, Unavailable

_INFO = b"takedown monitoring: rocket.chat credentials"


def _fernet(secret_key: str | None) -> Fernet:
    if not secret_key:
        raise InvalidInput(
            "set TAKEDOWN_SECRET_KEY to store Rocket.Chat credentials (they are sealed)"
        )
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret_key: str | None, value: str) -> str:
    return _fernet(secret_key).encrypt(value.encode("utf-8")).decode("ascii")


def unseal(secret_key: str | None, sealed: str) -> str:
    try:
        return _fernet(secret_key).decrypt(sealed.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise Unavailable(
            "Rocket.Chat credentials cannot be unsealed: TAKEDOWN_SECRET_KEY changed since "
            "they were stored; enter them again with `takedown watch server add`"
        ) from None
