"""Who does something: a user of an organisation with roles, or the local system."""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    """The acting party of every service call."""

    name: str
    organisation_id: int | None = None
    roles: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def system(cls, via: str = "cli") -> Actor:
        """The local operator of the command line: full rights on the local store."""
        try:
            user = getpass.getuser()
        except Exception:  # noqa: BLE001 - no login name in some containers
            user = "unknown"
        return cls(name=f"{via}:{user}", roles=frozenset({"admin"}))

    @property
    def is_admin(self) -> bool:
        """Whether the actor holds the system administrator role."""
        return "admin" in self.roles
