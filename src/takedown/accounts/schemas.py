"""API shapes of the accounts capability."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from takedown.kit.types import IdField


class AgencyIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    kind: str
    contact_point: str = Field(default="", max_length=320)
    platform_slug: str | None = Field(default=None, max_length=64)


class AgencyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    name: str
    country: str
    kind: str
    contact_point: str
    platform_slug: str | None
    is_active: bool = True


class AgencyPatch(BaseModel):
    """Only the fields given change; ``is_active`` is for the instance operator."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    country: str | None = Field(default=None, min_length=2, max_length=2)
    contact_point: str | None = Field(default=None, max_length=320)
    is_active: bool | None = None


class UserIn(BaseModel):
    agency_id: IdField
    email: str = Field(min_length=3, max_length=320)
    role: str
    password: str = Field(min_length=1, max_length=1024)
    display_name: str = Field(default="", max_length=200)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    agency_id: int
    email: str
    display_name: str
    role: str
    is_active: bool
    totp_enabled: bool = False
    created_at: dt.datetime
    last_login_at: dt.datetime | None


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(default_factory=lambda: ["*"])
    expires_in_days: int | None = Field(default=90, ge=1, le=3650)
    user_id: IdField | None = None


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    user_id: int
    name: str
    prefix: str
    scopes: list[str]
    expires_at: dt.datetime | None
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


class IssuedTokenOut(TokenOut):
    token: str = Field(description="Shown once; store it now.")


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    totp: str | None = Field(default=None, max_length=12)


class MeOut(BaseModel):
    user_id: int
    agency_id: int
    agency_name: str
    role: str
    email: str
    platform_slug: str | None
    via: str
    csrf_token: str | None = None


class PasswordResetOut(BaseModel):
    """The new password is shown this once; the user must change it at the next login."""

    user: UserOut
    password: str
    sessions_ended: int
