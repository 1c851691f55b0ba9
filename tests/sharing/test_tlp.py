"""TLP 2.0: the one rule every exit asks, and the OASIS marking definitions."""

from __future__ import annotations

import pytest

from takedown.kit.errors import InvalidInput
from takedown.sharing.tlp import (
    MARKING_IDS,
    Audience,
    Tlp,
    marking_definition,
    may_leave,
    may_reshare,
    parse_tlp,
    strictest,
    tlp_of_marking,
    tlp_of_refs,
)
from tests.sharing.stixcheck import assert_valid

A = Audience

# (marking, audience) -> may our own object go there?
LEAVE = {
    Tlp.RED: set(),
    Tlp.AMBER_STRICT: {A.ORGANISATION},
    Tlp.AMBER: {A.ORGANISATION, A.CLIENTS},
    Tlp.GREEN: {A.ORGANISATION, A.CLIENTS, A.COMMUNITY},
    Tlp.CLEAR: {A.ORGANISATION, A.CLIENTS, A.COMMUNITY, A.PUBLIC},
}


@pytest.mark.parametrize("tlp", list(Tlp))
@pytest.mark.parametrize("audience", list(Audience))
def test_may_leave_follows_tlp_2(tlp: Tlp, audience: Audience) -> None:
    assert may_leave(tlp, audience) is (audience in LEAVE[tlp])


def test_red_never_leaves_whatever_the_audience() -> None:
    assert not any(may_leave("RED", a) for a in Audience)
    assert not any(may_reshare("RED", a) for a in Audience)


def test_what_a_partner_gave_us_goes_no_further_than_its_marking() -> None:
    # AMBER and AMBER+STRICT were given to us as the recipient: they stay here.
    for tlp in (Tlp.AMBER, Tlp.AMBER_STRICT):
        assert not any(may_reshare(tlp, a) for a in Audience)
    assert may_reshare(Tlp.GREEN, A.COMMUNITY) and not may_reshare(Tlp.GREEN, A.PUBLIC)
    assert all(may_reshare(Tlp.CLEAR, a) for a in Audience)


def test_parse_accepts_the_usual_spellings() -> None:
    assert parse_tlp("amber+strict") is Tlp.AMBER_STRICT
    assert parse_tlp("TLP:AMBER+STRICT") is Tlp.AMBER_STRICT
    assert parse_tlp("tlp:white") is Tlp.CLEAR
    assert parse_tlp(None) is Tlp.AMBER
    with pytest.raises(InvalidInput):
        parse_tlp("purple")


def test_strictest_wins() -> None:
    assert strictest("GREEN", "AMBER", None) is Tlp.AMBER
    assert strictest("CLEAR", "RED") is Tlp.RED


def test_marking_definitions_are_the_oasis_objects_and_valid() -> None:
    objs = assert_valid(marking_definition(t) for t in Tlp)
    assert {o["id"] for o in objs} == set(MARKING_IDS.values())
    green = marking_definition(Tlp.GREEN)
    assert green["id"] == "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
    ext = green["extensions"]["extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"]
    assert ext == {"extension_type": "property-extension", "tlp_2_0": "green"}
    assert green["created"] == "2022-10-01T00:00:00.000Z"


def test_markings_read_back_including_stix_tlp_1() -> None:
    for tlp, mid in MARKING_IDS.items():
        assert tlp_of_marking(mid) is tlp
    white = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
    assert tlp_of_marking(white) is Tlp.CLEAR
    assert tlp_of_marking("marking-definition--00000000-0000-4000-8000-000000000000") is None
    assert tlp_of_refs([MARKING_IDS[Tlp.GREEN], MARKING_IDS[Tlp.AMBER]]) is Tlp.AMBER
    assert tlp_of_refs([]) is None
