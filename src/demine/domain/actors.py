"""Who does something: a user of an organisation with a role, anonymous, or the local system."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field

ROLES = ("admin", "authority", "operator", "reporter", "inspector", "viewer")
PERSONAL_GRANT = "casualty-personal"


@dataclass(frozen=True)
class Actor:
    """The acting party of every service call."""

    name: str
    organisation_id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)
    user_id: int | None = None
    organisation_kind: str | None = None
    grants: frozenset[str] = field(default_factory=frozenset)
    scopes: frozenset[str] = frozenset({"read", "write"})

    @classmethod
    def system(cls, via: str = "cli") -> Actor:
        """The local operator of the command line: full rights on the local store."""
        try:
            user = getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name in some containers
            user = "unknown"
        return cls(name=f"{via}:{user}", roles=frozenset({"admin"}),
                   grants=frozenset({PERSONAL_GRANT}))

    @classmethod
    def anonymous(cls) -> Actor:
        """Someone not signed in: public, approved records only."""
        return cls(name="anonymous", scopes=frozenset({"read"}))

    @property
    def is_admin(self) -> bool:
        """Whether the actor holds the system administrator role."""
        return "admin" in self.roles

    @property
    def is_anonymous(self) -> bool:
        """Whether nobody is signed in."""
        return self.user_id is None and not self.is_admin

    @property
    def at_authority(self) -> bool:
        """Whether the actor belongs to the national authority."""
        return self.organisation_kind == "authority"

    @property
    def role(self) -> str | None:
        """The actor's one role."""
        return next(iter(self.roles), None)
