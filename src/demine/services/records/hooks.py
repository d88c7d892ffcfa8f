"""The shape of a layer's write rules: ``Change`` (one write in progress) and ``Hooks``.

Each rule module (hazards, activities, finds) subclasses ``Hooks``; ``services.records.rules`` names
which layer has which. Nothing here imports the write path, so the rule modules and
``services.records.crud`` both import this without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from demine.domain.actors import Actor
from demine.domain.entities import Entity
from demine.domain.errors import Problem
from demine.services.records.resolver import Resolver
from demine.storage.database import UnitOfWork


@dataclass
class Change:
    """One write in progress: what the hooks see and may add to."""

    uow: UnitOfWork
    actor: Actor
    entity: Entity
    label: str  # how problems name the record: "hazard HZ-000012", "activity (new)"
    resolver: Resolver
    raw: dict[str, Any]
    values: dict[str, Any]
    old: dict[str, Any] | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class Hooks:
    """Entity-specific rules; the default does nothing."""

    def before_write(self, change: Change) -> list[Problem]:
        """Derive and check values before insert or update."""
        return []

    def after_write(self, change: Change, row: dict[str, Any]) -> None:
        """Follow-up writes (ledger) once the row is stored."""

    def before_delete(self, change: Change) -> None:
        """Refuse or undo what depends on the record."""

    def after_review(self, uow: UnitOfWork, actor: Actor, row: dict[str, Any],
                     detail: dict[str, Any]) -> None:
        """Follow-up writes once the record was approved or rejected (the ledger)."""

    def before_propose(self, change: Change) -> None:
        """Refuse a change to approved data that could not be applied as things stand."""
