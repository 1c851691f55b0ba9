"""Creating platforms: admins only, audited, slug and domains checked, and the
canonicaliser knows the new platform's hosts at once (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from takedown.accounts.principal import Principal
from takedown.accounts.service import SYSTEM
from takedown.audit.repository import last_event
from takedown.items import service as items_service
from takedown.kit.errors import Conflict, Forbidden, InvalidInput
from takedown.platforms import hosts, repository, service
from takedown.platforms.canon.dispatch import registry_platform
from takedown.platforms.identity import ItemKind, canonicalize
from takedown.platforms.seed import ensure_seeded
from tests.factories import make_actor

NEW = {"slug": "examplevideo", "name": "Example Video", "kind": "video"}


def _create(session: Session, **fields: object) -> object:
    return service.create_platform(session, SYSTEM, {**NEW, **fields})


def test_create_sets_the_fields_defaults_and_audits(db_session: Session) -> None:
    ensure_seeded(db_session)
    p = service.create_platform(
        db_session,
        SYSTEM,
        {
            **NEW,
            "country": "nl",
            "domains": ["Video.Example.NET", "video.example.net", "www.exvid.example"],
            "tco_contact_point": "tco@video.example.net",
        },
    )
    assert p.slug == "examplevideo" and p.country == "NL" and p.delivery_channel == "export"
    assert p.domains == ["video.example.net", "www.exvid.example"]  # normalised, once each
    assert p.legal_representative is None and p.notes == ""
    ev = last_event(db_session)
    assert ev is not None and ev.action == "platform.create" and ev.subject_id == "examplevideo"
    assert service.get(db_session, "examplevideo").name == "Example Video"
    assert "examplevideo" in {r.slug for r in service.list_platforms(db_session)[0]}


def test_only_admins_create(db_session: Session) -> None:
    supervisor = make_actor(db_session, role="supervisor")
    with pytest.raises(Forbidden):
        service.create_platform(db_session, supervisor.principal, NEW)
    admin: Principal = make_actor(db_session, role="admin", operator=True).principal
    assert service.create_platform(db_session, admin, NEW).slug == "examplevideo"


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"slug": "Example"}, InvalidInput, "slug must be 1 to 64 lower-case"),
        ({"slug": "-video"}, InvalidInput, "slug must be 1 to 64 lower-case"),
        ({"slug": "a" * 65}, InvalidInput, "slug must be 1 to 64 lower-case"),
        ({"slug": "new"}, InvalidInput, "reserved"),  # /admin/platforms/new is the form
        ({"slug": "website"}, InvalidInput, "reserved"),  # the canonicaliser's catch-alls
        ({"slug": "x"}, Conflict, "already exists"),
        ({"slug": ""}, InvalidInput, "slug must not be empty"),
        ({"name": " "}, InvalidInput, "name must not be empty"),
        ({"kind": "newspaper"}, InvalidInput, "kind must be one of"),
        ({"country": "XX"}, InvalidInput, "ISO 3166-1"),
        ({"domains": ["not a host"]}, InvalidInput, "is not a host name"),
        ({"domains": ["10.0.0.1"]}, InvalidInput, "is not a host name"),
        ({"domains": ["localhost"]}, InvalidInput, "is not a host name"),
        ({"domains": ["abcdefghijklmnop.onion"]}, InvalidInput, "v2 onion"),
        ({"domains": ["x.com"]}, Conflict, "belongs to the platform 'x'"),  # a built-in rule's
        ({"domains": ["mobile.twitter.com"]}, Conflict, "belongs to the platform 'x'"),
        ({"domains": ["someone.t.me"]}, Conflict, "belongs to the platform 'telegram'"),
        ({"slug": "y", "extra": 1}, InvalidInput, "cannot set extra"),
    ],
)
def test_create_refuses(
    db_session: Session, fields: dict[str, object], error: type[Exception], message: str
) -> None:
    ensure_seeded(db_session)
    with pytest.raises(error, match=message):
        _create(db_session, **fields)
    slug = str(fields.get("slug", "examplevideo"))
    if slug not in ("x", "website"):  # seeded; otherwise nothing was added
        assert repository.by_slug(db_session, slug) is None


def test_a_domain_belongs_to_one_platform_a_subdomain_may_be_another(
    db_session: Session,
) -> None:
    """The rule: no host listed by two platforms; a sub-domain may be claimed, and then the
    most specific claim wins (as for the built-in x.com vs. a platform's own host)."""
    ensure_seeded(db_session)
    _create(db_session, domains=["video.example.net"])
    with pytest.raises(Conflict, match=r"video\.example\.net already belongs to .*examplevideo"):
        service.create_platform(
            db_session, SYSTEM, {"slug": "other", "name": "Other", "kind": "website",
                                 "domains": ["www.video.example.net"]},
        )  # fmt: skip
    service.create_platform(
        db_session, SYSTEM, {"slug": "exblog", "name": "Ex Blog", "kind": "blog",
                             "domains": ["blog.video.example.net"]},
    )  # fmt: skip
    assert canonicalize("https://video.example.net/v/1").platform == "examplevideo"
    assert canonicalize("https://cdn.video.example.net/v/1").platform == "examplevideo"
    assert canonicalize("https://blog.video.example.net/post/2").platform == "exblog"
    assert canonicalize("https://www.blog.video.example.net/post/2").platform == "exblog"
    # An edit is held to the same rule.
    with pytest.raises(Conflict, match="belongs to the platform 'exblog'"):
        service.update(db_session, SYSTEM, "examplevideo", {"domains": ["blog.video.example.net"]})
    errors = service.field_errors(
        {"domains": ["t.me", "video.example.net"]}, session=db_session, slug="exblog"
    )
    assert errors == {"domains": "domains: t.me already belongs to the platform 'telegram'"}


def test_a_url_on_a_new_platforms_domain_canonicalises_to_it(db_session: Session) -> None:
    ensure_seeded(db_session)
    url = "http://www.video.example.net/watch/abc?utm_source=x&id=7"
    before = canonicalize(url)
    assert before.platform == "website"
    _create(db_session, domains=["video.example.net"])
    ident = canonicalize(url)
    assert ident.platform == "examplevideo" and ident.kind is ItemKind.PAGE
    assert ident.identity == "examplevideo:video.example.net/watch/abc?id=7"
    assert ident.fetch_url == "http://www.video.example.net/watch/abc?id=7"
    # The built-in rules still come first: an X URL stays X's.
    assert canonicalize("https://x.com/someone/status/1").platform == "x"
    # A report made now becomes the new platform's item.
    analyst = make_actor(db_session, role="analyst")
    item, created = items_service.report_url(db_session, analyst.principal, url)
    assert created and item.platform == "examplevideo"


def test_another_process_sees_the_new_platform_after_a_reload(db_session: Session) -> None:
    """A process that did not create the platform reloads the registry's hosts when its map
    is older than hosts.MAX_AGE (report_url and the intake ask before canonicalising)."""
    ensure_seeded(db_session)
    _create(db_session, domains=["video.example.net"])
    hosts.forget()  # as in a fresh worker or a second web process
    assert registry_platform("video.example.net") is None
    analyst = make_actor(db_session, role="analyst")
    item, _ = items_service.report_url(db_session, analyst.principal, "https://video.example.net/a")
    assert item.platform == "examplevideo"
    assert registry_platform("video.example.net") == "examplevideo"


def test_changing_domains_moves_the_host(db_session: Session) -> None:
    ensure_seeded(db_session)
    _create(db_session, domains=["video.example.net"])
    service.update(db_session, SYSTEM, "examplevideo", {"domains": ["vid.example.org"]})
    assert canonicalize("https://video.example.net/a").platform == "website"
    assert canonicalize("https://vid.example.org/a").platform == "examplevideo"
