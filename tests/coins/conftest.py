from __future__ import annotations

from collections.abc import Iterator

import pytest

from takedown.coins import hooks


@pytest.fixture
def coins_hooks() -> Iterator[None]:
    """The items and evidence listeners, installed for one test."""
    was = bool(hooks._installed)
    hooks.install()
    yield
    if not was:
        hooks.uninstall()
