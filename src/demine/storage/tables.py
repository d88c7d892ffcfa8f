"""The schema, one import away: every table, the layer lists and ``table(name)``.

The tables are defined by topic in their own modules, all on the one ``metadata`` of
``storage.metadata``; each imports the module registered before it, so the tables are created
and listed in the same order whichever module is imported first: entity tables, accounts and
access, history mirrors, derived summaries.
"""

from __future__ import annotations

from sqlalchemy import Table

from demine.storage.access_tables import (
    api_tokens,
    id_high_water,
    login_failures,
    pending_changes,
    record_grants,
    sharing_agreements,
    taskings,
    users,
)
from demine.storage.entity_tables import (
    ATTRIBUTE_TABLES,
    LAYERS,
    accidents,
    activities,
    admin_areas,
    audit_log,
    casualties,
    eo_finds,
    eo_models,
    eore_beneficiaries,
    eore_sessions,
    hazards,
    land_releases,
    non_conformities,
    organisations,
    places,
    qa_inspections,
    teams,
    terrain_lines,
)
from demine.storage.history_tables import HISTORY, VERSIONED
from demine.storage.metadata import SENSITIVE, metadata
from demine.storage.summary_tables import eo_tallies, tile_changes
from demine.storage.types import Geometry, Timestamp

__all__ = [
    "Geometry", "Timestamp", "metadata", "table", "LAYERS", "ATTRIBUTE_TABLES", "HISTORY",
    "VERSIONED", "SENSITIVE",
    "organisations", "admin_areas", "places", "terrain_lines", "teams", "eo_models", "hazards",
    "activities", "land_releases", "eo_finds", "accidents", "casualties", "eore_sessions",
    "eore_beneficiaries", "qa_inspections", "non_conformities", "audit_log",
    "api_tokens", "id_high_water", "login_failures", "pending_changes", "record_grants",
    "sharing_agreements", "taskings", "users",
    "eo_tallies", "tile_changes",
]


def table(name: str) -> Table:
    """The table called ``name``."""
    return metadata.tables[name]
