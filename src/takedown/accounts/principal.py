"""Who is acting: the one object every capability uses for authorisation."""

from __future__ import annotations

from dataclasses import dataclass, field

from takedown.accounts.models import Role


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    agency_id: int
    role: Role
    scopes: frozenset[str] = field(default_factory=frozenset)
    platform_slug: str | None = None
    via: str = "token"  # "token" | "session" | "system"
    email: str = ""
    #: Set on users created by an administrator until they choose their own password.
    must_change_password: bool = False
    #: The instance operator (``users.is_operator``): agencies and accounts across agencies,
    #: never another agency's content.
    is_operator: bool = False

    def has_scope(self, scope: str) -> bool:
        """Tokens carry scopes (expanded and cut to the role's by ``accounts.scopes.expand``);
        browser sessions, the CLI and the system act with every scope their role allows."""
        if self.via != "token":
            return True
        return scope in self.scopes

    @property
    def instance_wide(self) -> bool:
        """The system (CLI, bootstrap) and the instance operator act across agencies: on
        accounts, and on the reference data every agency shares (the platform registry,
        the TCO authorities, the background jobs). An agency's administrator acts only
        within their own agency (issue 19 point 3)."""
        return self.via == "system" or self.is_operator

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_supervisor(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.ADMIN)

    @property
    def is_liaison(self) -> bool:
        return self.role is Role.LIAISON
