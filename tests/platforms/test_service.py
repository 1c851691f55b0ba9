"""The platform registry: seeding, reading, audited edits (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy.orm import Session

from takedown.accounts.service import SYSTEM
from takedown.audit.models import AuditEvent
from takedown.audit.repository import last_event
from takedown.kit.clock import FrozenClock
from takedown.kit.errors import InvalidInput, NotFound
from takedown.platforms import service
from takedown.platforms.seed import SEED, ensure_seeded

REQUIRED = {
    "x", "facebook", "instagram", "youtube", "tiktok", "telegram", "whatsapp", "rocketchat",
    "archive_org", "google_drive", "dropbox", "mega", "justpaste", "pastebin", "medium",
    "odysee", "website", "onion",
}  # fmt: skip


def _last(session: Session) -> AuditEvent:
    ev = last_event(session)
    assert ev is not None
    return ev


def test_seed_adds_every_required_platform_once(db_session: Session) -> None:
    ensure_seeded(db_session)
    rows, total = service.list_platforms(db_session)
    assert {p.slug for p in rows} >= REQUIRED and total == len(SEED)
    assert ensure_seeded(db_session) == []
    assert service.list_platforms(db_session)[1] == len(SEED)


def test_seed_records_an_audit_event_and_invents_no_contacts(db_session: Session) -> None:
    added = ensure_seeded(db_session)
    ev = _last(db_session)
    if added:  # a database seeded by db upgrade already has them all
        assert ev.action == "platform.seed" and set(added) <= REQUIRED | {s.slug for s in SEED}
    for p in service.list_platforms(db_session)[0]:
        assert p.tco_contact_point is None and p.api_endpoint is None
        assert p.country is None or (len(p.country) == 2 and p.country.isupper())


def test_seed_never_overwrites_an_edit(db_session: Session) -> None:
    ensure_seeded(db_session)
    service.update(db_session, SYSTEM, "mega", {"tco_contact_point": "tco@mega.example.invalid"})
    ensure_seeded(db_session)
    assert service.get(db_session, "mega").tco_contact_point == "tco@mega.example.invalid"


def test_get_unknown_is_not_found(db_session: Session) -> None:
    with pytest.raises(NotFound, match="no platform 'nope'"):
        service.get(db_session, "nope")


def test_update_changes_fields_and_audits_the_diff(db_session: Session) -> None:
    ensure_seeded(db_session)
    clock = FrozenClock(dt.datetime(2030, 5, 1, 12, 0, tzinfo=dt.UTC))
    p = service.update(
        db_session,
        SYSTEM,
        "telegram",
        {
            "legal_representative": "Example Representative SRL, Brussels",
            "tco_contact_point": "https://tco.telegram.example.invalid/orders",
            "country": "ae",
            "delivery_channel": "portal",
            "domains": ["T.ME", "telegram.me", "t.me", "bücher.example"],
        },
        clock=clock,
    )
    assert p.country == "AE" and p.delivery_channel == "portal"
    assert p.domains == ["t.me", "telegram.me", "xn--bcher-kva.example"]
    assert p.updated_at == clock.now()
    ev = _last(db_session)
    assert ev.action == "platform.update" and ev.subject_id == "telegram"
    assert '"legal_representative"' in ev.details and '"tco_contact_point"' in ev.details
    assert '"country"' not in ev.details  # unchanged fields are not claimed as changed


def test_no_change_means_no_audit_event(db_session: Session) -> None:
    ensure_seeded(db_session)
    before = _last(db_session).id
    service.update(db_session, SYSTEM, "x", {"country": "IE"})
    assert _last(db_session).id == before


def test_empty_text_clears_an_optional_field(db_session: Session) -> None:
    ensure_seeded(db_session)
    service.update(db_session, SYSTEM, "x", {"tco_contact_point": "legal@x.example.invalid"})
    assert (
        service.update(db_session, SYSTEM, "x", {"tco_contact_point": ""}).tco_contact_point is None
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"country": "IRL"}, "ISO 3166-1 alpha-2"),
        ({"country": "1E"}, "ISO 3166-1 alpha-2"),
        ({"country": "XX"}, "ISO 3166-1 alpha-2"),  # two letters, but no country
        ({"country": "EU"}, "ISO 3166-1 alpha-2"),  # the Union is no place of establishment
        ({"tco_contact_point": "call us"}, "e-mail address or an http(s) URL"),
        ({"api_endpoint": "ftp://example.invalid/x"}, "http(s) URL"),
        ({"delivery_channel": "fax"}, "delivery_channel must be one of"),
        ({"kind": "newspaper"}, "kind must be one of"),
        ({"name": "  "}, "name must not be empty"),
        ({"domains": ["not a host"]}, "is not a host name"),
        ({"domains": "x.com"}, "list of host names"),
        ({"slug": "y"}, "cannot change slug"),
        ({"legal_representative": "x" * 501}, "longer than 500"),
        ({"legal_representative": "a\x00b"}, "control characters"),
        ({"notes": "a\x00b"}, "control characters"),
    ],
)
def test_invalid_edits_are_refused(
    db_session: Session, changes: dict[str, object], message: str
) -> None:
    ensure_seeded(db_session)
    with pytest.raises(InvalidInput, match=re.escape(message)):
        service.update(db_session, SYSTEM, "x", changes)


def test_list_filters_by_kind(db_session: Session) -> None:
    ensure_seeded(db_session)
    rows, total = service.list_platforms(db_session, kind="file_host")
    assert {p.slug for p in rows} == {"google_drive", "dropbox", "mega"} and total == 3
    with pytest.raises(InvalidInput, match="kind must be one of"):
        service.list_platforms(db_session, kind="nope")


def test_field_errors_reports_every_bad_field_at_once() -> None:
    errors = service.field_errors(
        {
            "name": " ",
            "country": "Ireland",
            "tco_contact_point": "not a contact",
            "delivery_channel": "fax",
            "domains": ["x.com"],
            "notes": "fine",
        }
    )
    assert sorted(errors) == ["country", "delivery_channel", "name", "tco_contact_point"]
    assert errors["country"].startswith("country must be an ISO 3166-1 alpha-2 code")
    assert service.field_errors({"country": "ie", "domains": ["X.COM"]}) == {}
