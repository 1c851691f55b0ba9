"""ISO 3166-1 alpha-2 country codes with their English short names, plus "EU".

The one list every form and service uses (agencies, platforms). It comes from
pycountry, which tracks ISO 3166-1 through Debian's iso-codes, so it is not
copied here. "EU" is exceptionally reserved in ISO 3166-1 for the European
Union; Union bodies such as Europol's EU IRU use it, hosting platforms do not.

Forms offer these as a ``<select>`` (``choices``) rather than a text field: a
two-letter box turned "Ireland" into "IR", a valid code for another country.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import pycountry

EU = "EU"


@cache
def _names() -> dict[str, str]:
    # common_name where ISO's short name reads oddly in a list ("Iran", not "Iran, Islamic
    # Republic of"); the code is shown beside it, so nothing is ambiguous.
    names = {c.alpha_2: getattr(c, "common_name", None) or c.name for c in pycountry.countries}
    names[EU] = "European Union"
    return names


COUNTRIES: frozenset[str] = frozenset(_names())


def is_country(code: str) -> bool:
    return code in COUNTRIES


def country_name(code: str) -> str:
    """The English short name, or the code itself for anything unknown (old data)."""
    return _names().get(code, code)


def _sort_key(text: str) -> str:
    """Åland Islands beside Albania, not after Zimbabwe."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


@cache
def _choices(include_eu: bool) -> tuple[tuple[str, str], ...]:
    rows = sorted(
        ((code, f"{name} ({code})") for code, name in _names().items() if include_eu or code != EU),
        key=lambda row: _sort_key(row[1]),
    )
    return tuple(rows)


def choices(*, include_eu: bool = True) -> list[tuple[str, str]]:
    """(code, "Name (CODE)") pairs sorted by name, for ``m.select``."""
    return list(_choices(include_eu))
