"""Typed errors that carry an HTTP status.

The API turns them into RFC 9457 ``application/problem+json``; the CLI prints
``detail`` on one line and exits non-zero. Raise these, never bare exceptions,
for anything a user can cause.
"""

from __future__ import annotations

from typing import Any, ClassVar


class TakedownError(Exception):
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Bad request"
    type_slug: ClassVar[str] = "bad-request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://takedown.invalid/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class InvalidInput(TakedownError):
    status = 422
    title = "Invalid input"
    type_slug = "invalid-input"


class NotFound(TakedownError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class Unauthorized(TakedownError):
    status = 401
    title = "Unauthorized"
    type_slug = "unauthorized"


class Forbidden(TakedownError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class PasswordChangeRequired(Forbidden):
    """The user must choose a new password before doing anything else (pages redirect)."""

    title = "Password change required"
    type_slug = "password-change-required"


class Conflict(TakedownError):
    status = 409
    title = "Conflict"
    type_slug = "conflict"


class RateLimited(TakedownError):
    status = 429
    title = "Too many requests"
    type_slug = "rate-limited"


class PayloadTooLarge(TakedownError):
    status = 413
    title = "Payload too large"
    type_slug = "payload-too-large"


class Unavailable(TakedownError):
    status = 503
    title = "Service unavailable"
    type_slug = "unavailable"
