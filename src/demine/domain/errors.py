"""Domain exceptions, named after the condition; adapters map them to HTTP codes and exit codes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record: which record, which field, why."""

    record: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.record}: {self.field}: {self.reason}"


class DemineError(Exception):
    """Base of every error demine reports to a user."""

    code = "error"


class NotFound(DemineError):
    """The record does not exist, or the actor may not know that it does."""

    code = "not_found"


class PermissionDenied(DemineError):
    """The actor may see the record but not do this to it."""

    code = "permission_denied"


class Invalid(DemineError):
    """Input breaks a rule; carries one Problem per broken rule."""

    code = "invalid"

    def __init__(self, problems: list[Problem] | Problem | str):
        if isinstance(problems, str):
            problems = [Problem("input", "-", problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


class Conflict(DemineError):
    """The write collides with the current state (duplicate, stale version, ledger clash)."""

    code = "conflict"


class PreconditionFailed(DemineError):
    """An If-Match or version precondition no longer holds."""

    code = "precondition_failed"


class StorageError(DemineError):
    """The store cannot be opened or is not a demine database."""

    code = "storage_error"


class Unauthenticated(DemineError):
    """No valid credentials were given where they are needed."""

    code = "unauthenticated"


class Throttled(DemineError):
    """Too many attempts; try again in ``retry_after`` seconds."""

    code = "throttled"

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class PreconditionRequired(DemineError):
    """A conditional request was required (If-Match) and not made."""

    code = "precondition_required"
