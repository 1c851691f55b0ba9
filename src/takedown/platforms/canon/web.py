"""Generic websites and ``.onion`` hosts: the item is the page.

The key is host (``www.`` off, non-default port kept) + path + the sorted
meaningful query. ``canonical_url`` is ``https://`` + key (identity folds
``http`` into ``https``), except for ``.onion`` services and IP hosts, which are
usually plain HTTP: their ``canonical_url`` keeps the scheme given (``http://``
when none is). The key holds no scheme, so ``http://`` and ``https://`` of one
page are still one item. ``fetch_url`` keeps the scheme and host as given,
because plenty of sites, and nearly every onion service, answer only on
``http`` or only on ``www.``.

Onion: only v3 addresses (56 base32 characters with a valid checksum and
version 3) are accepted. v2 addresses (16 characters) are refused with a
clear reason: Tor dropped them in 0.4.6 (2021), so such an item could never
be verified or captured.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from takedown.platforms.canon.common import make
from takedown.platforms.canon.parse import Parsed, build_query, plain_http_host, strip_www
from takedown.platforms.canon.types import InvalidURL, ItemIdentity, ItemKind

_B32 = frozenset("abcdefghijklmnopqrstuvwxyz234567")


@lru_cache(maxsize=4096)
def onion_v3_valid(label: str) -> bool:
    if len(label) != 56 or not _B32.issuperset(label):
        return False
    raw = base64.b32decode(label.upper())
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34:]
    if version != b"\x03":
        return False
    digest = hashlib.sha3_256(b".onion checksum" + pubkey + version).digest()
    return digest[:2] == checksum


def check_onion(host: str) -> None:
    labels = host.split(".")
    if len(labels) < 2:
        raise InvalidURL("'.onion' without an address")
    label = labels[-2]
    if len(label) == 16 and _B32.issuperset(label):
        raise InvalidURL(
            f"v2 onion address {label}.onion: v2 services are unreachable since Tor 0.4.6; "
            "only v3 (56-character) addresses are accepted"
        )
    if len(label) != 56:
        raise InvalidURL(f"{label}.onion is not a v3 onion address (needs 56 characters)")
    if not onion_v3_valid(label):
        raise InvalidURL(f"{label}.onion fails the v3 onion checksum")


def page_item(platform: str, u: Parsed) -> ItemIdentity:
    host = u.host
    key_host = strip_www(host)
    port = "" if u.port is None else f":{u.port}"
    rest = u.path + build_query(u.query)
    key = f"{key_host}{port}{rest}"
    scheme = u.scheme if plain_http_host(host) else "https"
    return make(
        platform, ItemKind.PAGE, key, f"{scheme}://{key}", f"{u.scheme}://{host}{port}{rest}"
    )


def website(u: Parsed) -> ItemIdentity:
    return page_item("website", u)


def onion(u: Parsed) -> ItemIdentity:
    check_onion(u.host)
    return page_item("onion", u)
