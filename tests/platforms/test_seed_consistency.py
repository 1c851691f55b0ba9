"""The seeded registry and the canonicaliser agree on which host belongs to whom."""

from __future__ import annotations

import pytest

from takedown.platforms.canon.dispatch import HOSTS
from takedown.platforms.canon.types import NoContentURL
from takedown.platforms.identity import canonicalize
from takedown.platforms.models import DeliveryChannel, PlatformKind
from takedown.platforms.seed import SEED
from tests.platforms.test_identity import CASES

SLUGS = {s.slug for s in SEED}
SEEDED_DOMAINS = [(s.slug, d) for s in SEED for d in s.domains]


def test_slugs_are_unique() -> None:
    assert len(SLUGS) == len(SEED)
    assert all(isinstance(s.kind, PlatformKind) for s in SEED)
    assert all(isinstance(s.delivery_channel, DeliveryChannel) for s in SEED)


def _home_page_platform(host: str) -> str:
    """A known platform's home page names no content; the refusal still names the platform."""
    with pytest.raises(NoContentURL) as info:
        canonicalize(f"https://{host}/")
    return info.value.platform


@pytest.mark.parametrize(("slug", "domain"), SEEDED_DOMAINS)
def test_seeded_domains_canonicalise_to_their_platform(slug: str, domain: str) -> None:
    assert _home_page_platform(domain) == slug


def test_every_recognised_host_belongs_to_a_seeded_platform() -> None:
    for host in HOSTS:
        assert _home_page_platform(host) in SLUGS, host


def test_every_identity_platform_is_seeded() -> None:
    assert {c[1] for c in CASES} <= SLUGS
