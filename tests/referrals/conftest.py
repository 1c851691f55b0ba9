"""Fixtures shared by the referrals tests."""

from tests.referrals.dbutil import committing_db  # noqa: F401
