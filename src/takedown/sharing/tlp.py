"""TLP 2.0: the markings, and the one rule every way out of the instance asks.

Every exit (TAXII collections, MISP events and feeds, STIX bundle exports, the API)
describes its recipients as an :class:`Audience` and asks :func:`may_leave` for each
object. The rule, from FIRST's TLP 2.0:

- RED never leaves the instance (it is for the people in the room);
- AMBER+STRICT goes only to the recipient's organisation: an exit read by exactly one
  partner organisation;
- AMBER also to the recipient's clients: an exit read by one partner and the
  organisations it serves;
- GREEN to the community: an exit read by several partners (a sharing group);
- CLEAR to anyone, a public feed included.

What came *from* a partner was given to this instance as the recipient: it may be passed
on only as far as its marking lets a recipient pass it (``may_reshare``): AMBER+STRICT
and AMBER stay here (this instance's clients are not other partners), GREEN goes to the
community, CLEAR anywhere; it never goes back to the partner it came from.

The marking-definition objects are the fixed ones of OASIS's TLP 2.0 extension
(``extension-definition--60a3c5c5-…``), so every STIX consumer recognises them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from takedown.kit.errors import InvalidInput
from takedown.matching.models import Tlp

__all__ = [
    "AUDIENCE_CEILING",
    "MARKING_IDS",
    "TLP_EXTENSION_ID",
    "Audience",
    "Tlp",
    "marking_definition",
    "may_leave",
    "may_reshare",
    "parse_tlp",
    "strictest",
    "tlp_of_marking",
]

TLP_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
#: The fixed marking-definition ids of the OASIS TLP 2.0 extension.
MARKING_IDS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_BY_MARKING = {v: k for k, v in MARKING_IDS.items()}
#: TLP 1.0 markings of STIX 2.1 itself (``stix2.TLP_WHITE``...), read on import only.
_TLP1 = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,  # TLP:WHITE
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}
#: Strictness order: a higher rank reaches fewer people.
RANK: dict[Tlp, int] = {
    Tlp.CLEAR: 0,
    Tlp.GREEN: 1,
    Tlp.AMBER: 2,
    Tlp.AMBER_STRICT: 3,
    Tlp.RED: 4,
}
MARKING_CREATED = "2022-10-01T00:00:00.000Z"


class Audience(StrEnum):
    """Who is on the other side of an exit."""

    ORGANISATION = "organisation"  # exactly one partner organisation
    CLIENTS = "clients"  # one partner organisation and its clients
    COMMUNITY = "community"  # a sharing group of partners
    PUBLIC = "public"  # anyone (an open feed)


#: The strictest marking each audience may receive.
AUDIENCE_CEILING: dict[Audience, Tlp] = {
    Audience.ORGANISATION: Tlp.AMBER_STRICT,
    Audience.CLIENTS: Tlp.AMBER,
    Audience.COMMUNITY: Tlp.GREEN,
    Audience.PUBLIC: Tlp.CLEAR,
}
#: How far a marking lets a *recipient* pass information on (None: nowhere outside).
_RESHARE: dict[Tlp, Audience | None] = {
    Tlp.CLEAR: Audience.PUBLIC,
    Tlp.GREEN: Audience.COMMUNITY,
    Tlp.AMBER: None,
    Tlp.AMBER_STRICT: None,
    Tlp.RED: None,
}


def parse_tlp(value: str | Tlp | None, default: Tlp = Tlp.AMBER) -> Tlp:
    """``"amber+strict"``, ``"TLP:GREEN"``, ``"white"`` (TLP 1.0 for CLEAR) -> Tlp."""
    if value is None or value == "":
        return default
    if isinstance(value, Tlp):
        return value
    text = str(value).strip().upper().removeprefix("TLP:").replace("_", "+").replace(" ", "")
    if text == "WHITE":
        return Tlp.CLEAR
    if text == "AMBERSTRICT":
        text = "AMBER+STRICT"
    try:
        return Tlp(text)
    except ValueError:
        raise InvalidInput(
            f"TLP {value!r} is not one of CLEAR, GREEN, AMBER, AMBER+STRICT, RED"
        ) from None


def strictest(*tlps: Tlp | str | None) -> Tlp:
    """The most restrictive of the given markings (an object with two markings obeys both)."""
    found = [parse_tlp(t) for t in tlps if t]
    if not found:
        raise InvalidInput("no TLP marking given")
    return max(found, key=RANK.__getitem__)


def may_leave(tlp: Tlp | str, audience: Audience | str) -> bool:
    """May an object of this instance marked ``tlp`` go to ``audience``? RED: never."""
    marking = parse_tlp(tlp)
    if marking is Tlp.RED:
        return False
    return RANK[marking] <= RANK[AUDIENCE_CEILING[Audience(audience)]]


def may_reshare(tlp: Tlp | str, audience: Audience | str) -> bool:
    """May an object a partner gave us, marked ``tlp``, be passed on to ``audience``?"""
    reach = _RESHARE[parse_tlp(tlp)]
    if reach is None:
        return False
    # An audience no wider than the reach: its ceiling is at least as strict as the reach's.
    return RANK[AUDIENCE_CEILING[Audience(audience)]] >= RANK[AUDIENCE_CEILING[reach]]


def marking_definition(tlp: Tlp | str) -> dict[str, Any]:
    """The OASIS TLP 2.0 marking-definition object for ``tlp`` (exactly as published)."""
    marking = parse_tlp(tlp)
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": MARKING_IDS[marking],
        "created": MARKING_CREATED,
        "name": f"TLP:{marking.value}",
        "extensions": {
            TLP_EXTENSION_ID: {
                "extension_type": "property-extension",
                "tlp_2_0": marking.value.lower(),
            }
        },
    }


def tlp_of_marking(marking_id: str) -> Tlp | None:
    """The TLP a marking-definition id stands for (TLP 2.0, or STIX's own TLP 1.0), or None."""
    return _BY_MARKING.get(marking_id) or _TLP1.get(marking_id)


def tlp_of_refs(refs: list[str] | None) -> Tlp | None:
    """The strictest TLP among an object's ``object_marking_refs`` (None when unmarked)."""
    found = [t for t in (tlp_of_marking(r) for r in refs or []) if t is not None]
    return max(found, key=RANK.__getitem__) if found else None
