"""Fixtures shared by the verification tests."""

from tests.referrals.dbutil import committing_db  # noqa: F401
