"""Shared, domain-free code: clock, errors, pagination, guarded HTTP, progress."""
