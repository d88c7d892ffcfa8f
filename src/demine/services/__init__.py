"""Use cases: fn(uow, *, actor, ...) — check permission, validate, write, audit."""

# Entity rules register their hooks on import.
from demine.services import activities, hazards  # noqa: F401
