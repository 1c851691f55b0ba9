"""The STIX 2.1 mapping: every object valid for OASIS's validator, deterministic, marked."""

from __future__ import annotations

import dataclasses
import json

from takedown.sharing import stixmap
from takedown.sharing.tlp import MARKING_IDS, TLP_EXTENSION_ID, Tlp
from tests.sharing.facts import PRODUCER, T0, channel, media, operation, post
from tests.sharing.stixcheck import assert_valid


def _dicts(objs: list[object]) -> list[dict[str, object]]:
    return [json.loads(stixmap.serialize(o)) for o in objs]


def _indicator(item: object, producer: object = PRODUCER) -> dict[str, object]:
    objs = _dicts(stixmap.item_objects(item, producer))  # type: ignore[arg-type]
    return next(o for o in objs if o["type"] == "indicator")


def test_an_item_is_an_observable_an_indicator_observed_data_and_a_sighting_per_report() -> None:
    objs = assert_valid(_dicts(stixmap.item_objects(post(), PRODUCER)))
    by_type: dict[str, list[dict[str, object]]] = {}
    for o in objs:
        by_type.setdefault(str(o["type"]), []).append(o)
    assert sorted(by_type) == ["indicator", "observed-data", "sighting", "url"]
    (url,) = by_type["url"]
    (ind,) = by_type["indicator"]
    (od,) = by_type["observed-data"]
    assert url["value"] == "https://x.com/synthetic_1/status/1"
    assert ind["pattern"] == "[url:value = 'https://x.com/synthetic_1/status/1']"
    assert od["object_refs"] == [url["id"]] and od["number_observed"] == 2
    assert len(by_type["sighting"]) == 2
    for s in by_type["sighting"]:
        assert s["sighting_of_ref"] == ind["id"]
        assert s["observed_data_refs"] == [od["id"]]
        assert s["where_sighted_refs"] == [stixmap.identity_id(PRODUCER)]
    for o in objs:
        assert o["object_marking_refs"] == [MARKING_IDS[Tlp.AMBER]]


def test_the_assessment_and_outcome_ride_in_the_declared_extension() -> None:
    ind = _indicator(post())
    ext = ind["extensions"][stixmap.EXTENSION_ID]  # type: ignore[index]
    assert ext["extension_type"] == "property-extension"
    assert ext["assessment"] == {
        "verdict": "terrorist_content",
        "tco_categories": ["a", "c"],
        "group": "Synthetic Group",
        "outlet": "Synthetic Outlet",
        "language": "ar",
        "assessed_at": "2026-03-01T12:00:00.123Z",
    }
    assert ext["status"] == "removed" and ext["first_referred_at"] == "2026-03-01T14:00:00.123Z"
    assert "hold" not in ext
    (extdef,) = [
        o for o in _dicts(stixmap.common_objects(PRODUCER, [])) if o["id"] == stixmap.EXTENSION_ID
    ]
    assert extdef["extension_types"] == ["property-extension"]


def test_a_hold_shares_its_contact_point_never_its_reason() -> None:
    ind = _indicator(post(hold_contact_point="desk@example.invalid"))
    assert ind["extensions"][stixmap.EXTENSION_ID]["hold"] == {  # type: ignore[index]
        "contact_point": "desk@example.invalid"
    }


def test_accounts_and_channels_are_user_accounts() -> None:
    objs = assert_valid(_dicts(stixmap.item_objects(channel(), PRODUCER)))
    (ua,) = [o for o in objs if o["type"] == "user-account"]
    assert ua["account_login"] == "synthchan" and "account_type" not in ua  # not in the vocab
    ext = ua["extensions"][stixmap.EXTENSION_ID]  # type: ignore[index]
    assert ext["url"] == "https://t.me/synthchan" and ext["platform"] == "telegram"
    (ind,) = [o for o in objs if o["type"] == "indicator"]
    assert ind["pattern"] == "[url:value = 'https://t.me/synthchan']"


def test_an_account_on_a_platform_in_the_vocabulary_has_its_account_type() -> None:
    item = dataclasses.replace(
        channel(), identity="x:account/synth", platform="x", kind="account", key="account/synth",
        canonical_url="https://x.com/synth",
    )  # fmt: skip
    objs = assert_valid(_dicts(stixmap.item_objects(item, PRODUCER)))
    (ua,) = [o for o in objs if o["type"] == "user-account"]
    assert ua["account_type"] == "twitter"
    (ind,) = [o for o in objs if o["type"] == "indicator"]
    assert ind["pattern"] == (
        "[user-account:account_login = 'synth' AND user-account:account_type = 'twitter']"
    )


def test_quotes_in_a_url_are_escaped_in_the_pattern() -> None:
    item = post(canonical_url="https://example.org/it's\\here")
    ind = next(o for o in _dicts(stixmap.item_objects(item, PRODUCER)) if o["type"] == "indicator")
    assert ind["pattern"] == "[url:value = 'https://example.org/it\\'s\\\\here']"
    assert_valid([ind])


def test_mapping_is_deterministic_and_changes_make_a_new_version() -> None:
    a = _dicts(stixmap.item_objects(post(), PRODUCER))
    assert a == _dicts(stixmap.item_objects(post(), PRODUCER))
    later = post(status="reappeared", status_changed_at=T0.replace(day=9))
    b = _dicts(stixmap.item_objects(later, PRODUCER))
    ia = next(o for o in a if o["type"] == "indicator")
    ib = next(o for o in b if o["type"] == "indicator")
    assert ia["id"] == ib["id"] and ia["created"] == ib["created"]
    assert str(ib["modified"]) > str(ia["modified"])
    other = dataclasses.replace(PRODUCER, name="IRU Other")
    ic = next(o for o in _dicts(stixmap.item_objects(post(), other)) if o["type"] == "indicator")
    assert ic["id"] != ia["id"]  # another organisation's indicator
    uc = next(o for o in _dicts(stixmap.item_objects(post(), other)) if o["type"] == "url")
    assert uc["id"] == next(o for o in a if o["type"] == "url")["id"]  # one URL, one observable


def test_banked_media_is_a_file_with_sha256_md5_and_x_pdq() -> None:
    (f,) = assert_valid(_dicts([stixmap.media_object(media(), PRODUCER)]))
    assert f["hashes"] == {"SHA-256": "a" * 64, "MD5": "b" * 32, "x_pdq": "c" * 64}
    ext = f["extensions"][stixmap.EXTENSION_ID]  # type: ignore[index]
    assert ext["labels"] == {"group": "Synthetic Group", "tier": 3}
    assert ext["bank"] == "known-media"
    assert ext["signals"] == [{"type": "pdq", "value": "d" * 64, "variant": "band"}]
    assert f["object_marking_refs"] == [MARKING_IDS[Tlp.GREEN]]


def test_media_without_a_file_hash_maps_to_nothing() -> None:
    from takedown.sharing.facts import MediaFact, SignalFact

    m = MediaFact("t", "texts", (SignalFact("text_simhash", "0" * 16),), Tlp.GREEN)
    assert stixmap.media_object(m, PRODUCER) is None


def test_an_operation_summary_is_a_report_over_its_indicators() -> None:
    refs = [stixmap.indicator_id(PRODUCER, "x:status/1")]
    (r,) = assert_valid(_dicts([stixmap.operation_report(operation(), PRODUCER, refs)]))
    assert r["type"] == "report" and r["object_refs"] == refs
    assert "1 removed (50% of referred)" in str(r["description"])
    ext = r["extensions"][stixmap.EXTENSION_ID]  # type: ignore[index]
    assert ext["operation"]["totals"]["removed"] == 1


def test_common_objects_are_valid_and_carry_the_oasis_markings() -> None:
    objs = assert_valid(_dicts(stixmap.common_objects(PRODUCER, [Tlp.GREEN, Tlp.AMBER])))
    marks = [o for o in objs if o["type"] == "marking-definition"]
    assert {m["id"] for m in marks} == {MARKING_IDS[Tlp.GREEN], MARKING_IDS[Tlp.AMBER]}
    assert all(TLP_EXTENSION_ID in m["extensions"] for m in marks)  # type: ignore[operator]
    (org,) = [o for o in objs if o["id"] == stixmap.identity_id(PRODUCER)]
    assert org["identity_class"] == "organization"
    assert org["contact_information"] == "iru@example.invalid"
