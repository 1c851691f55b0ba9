"""The value types of URL identity (re-exported by :mod:`takedown.platforms.identity`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from takedown.kit.errors import InvalidInput


class ItemKind(StrEnum):
    ACCOUNT = "account"
    POST = "post"
    CHANNEL = "channel"
    MESSAGE = "message"
    FILE = "file"
    PAGE = "page"


@dataclass(frozen=True, slots=True)
class ItemIdentity:
    """What a reported URL points at, independent of how it was written.

    ``key`` is unique within ``platform``; ``identity`` is unique globally and is
    what intake de-duplicates on. ``canonical_url`` carries no secrets, while
    ``fetch_url`` keeps what fetching needs (a Mega key, a Dropbox ``rlkey``, a
    Drive ``resourcekey``, the original ``http`` scheme of an onion site).
    """

    platform: str
    kind: ItemKind
    key: str
    canonical_url: str
    fetch_url: str
    parent_kind: ItemKind | None = None
    parent_key: str | None = None

    @property
    def identity(self) -> str:
        return f"{self.platform}:{self.key}"

    @property
    def parent_identity(self) -> str | None:
        return None if self.parent_key is None else f"{self.platform}:{self.parent_key}"


class InvalidURL(InvalidInput):
    title = "Invalid URL"
    type_slug = "invalid-url"


class NoContentURL(InvalidURL):
    """A well-formed URL of a known platform that names no content: its home page, a
    login, search, help, settings or explore page. Nothing there can be assessed, referred
    or removed, so no way into the items accepts it (``canon.nocontent`` has the rules)."""

    title = "URL names no content"
    type_slug = "no-content-url"

    def __init__(self, detail: str, platform: str) -> None:
        super().__init__(detail)
        self.platform = platform
