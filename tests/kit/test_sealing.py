"""Secrets sealed at rest: each use's own key, clear errors without or after changing it."""

from __future__ import annotations

import pytest

from takedown.kit import sealing
from takedown.kit.errors import InvalidInput, Unavailable
from takedown.monitoring import credentials
from takedown.sharing import secrets

KEY = "a synthetic secret key for the tests"


def test_a_sealed_value_opens_with_its_key_and_purpose_only() -> None:
    sealed = sealing.seal(KEY, "tok-123", purpose=b"one", missing="no key")
    assert "tok-123" not in sealed
    opened = sealing.unseal(KEY, sealed, purpose=b"one", missing="no key", changed="changed")
    assert opened == "tok-123"
    with pytest.raises(Unavailable, match="changed"):
        sealing.unseal(KEY, sealed, purpose=b"two", missing="no key", changed="changed")
    with pytest.raises(Unavailable, match="changed"):
        sealing.unseal(KEY + "!", sealed, purpose=b"one", missing="no key", changed="changed")
    with pytest.raises(InvalidInput, match="no key"):
        sealing.seal(None, "tok-123", purpose=b"one", missing="no key")


def test_partner_tokens_and_rocket_chat_credentials_never_open_each_other() -> None:
    partner = secrets.seal(KEY, "partner-token")
    server = credentials.seal(KEY, "server-token")
    assert secrets.unseal(KEY, partner) == "partner-token"
    assert credentials.unseal(KEY, server) == "server-token"
    with pytest.raises(Unavailable, match="partner token"):
        secrets.unseal(KEY, server)
    with pytest.raises(Unavailable, match=r"Rocket\.Chat"):
        credentials.unseal(KEY, partner)
    assert secrets.seal(None, "") == "" and secrets.unseal(None, "") == ""
    with pytest.raises(InvalidInput, match="TAKEDOWN_SECRET_KEY"):
        credentials.seal(None, "server-token")
