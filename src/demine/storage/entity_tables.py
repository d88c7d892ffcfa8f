"""The IMAS entity tables: one table per entity; feature tables are GeoPackage layers."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from demine.domain.entities import REGISTRY, import_order, storage_geometry
from demine.storage.metadata import SENSITIVE, _check_in, _id, _org, _record_columns, metadata
from demine.storage.types import Geometry, Timestamp

organisations = Table(
    "organisations",
    metadata,
    _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("country", String(3)),
    Column("created_at", Timestamp, nullable=False),
    _check_in("kind", ["authority", "operator", "ngo", "military", "commercial", "donor"]),
)

admin_areas = Table(
    "admin_areas",
    metadata,
    _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("level", Integer, nullable=False),
    Column("parent_id", Integer, ForeignKey("admin_areas.id"), index=True),
    Column("geom", Geometry("MULTIPOLYGON"), nullable=False),
    CheckConstraint("level BETWEEN 0 AND 3", name="level_range"),
)

places = Table(
    "places",
    metadata,
    _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("population", Integer),
    Column("admin_area_id", Integer, ForeignKey("admin_areas.id"), index=True),
    Column("geom", Geometry("POINT"), nullable=False),
)

terrain_lines = Table(
    "terrain_lines",
    metadata,
    _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200)),
    Column("kind", String(16), nullable=False),
    Column("geom", Geometry("LINESTRING"), nullable=False),
    _check_in("kind", ["road", "river", "front_line"]),
)

teams = Table(
    "teams",
    metadata,
    _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    _org(),
    Column("method", String(16), nullable=False),
    Column("size", Integer, nullable=False, server_default=text("8")),
    Column("base_place_id", Integer, ForeignKey("places.id")),
    _check_in("method", ["manual", "mechanical", "mdd", "bac", "eod", "nts", "ts"]),
)

eo_models = Table(
    "eo_models",
    metadata,
    _id(),
    Column("code", String(48), nullable=False, unique=True),
    Column("category", String(16), nullable=False),
    Column("origin", String(80)),
    Column("description", Text),
)

hazards = Table(
    "hazards",
    metadata,
    _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(200)),
    Column("hazard_type", String(3), nullable=False),
    Column("status", String(16), nullable=False, server_default="open"),
    Column("geom", Geometry("MULTIPOLYGON"), nullable=False),
    _org(),
    Column("admin_area_id", Integer, ForeignKey("admin_areas.id"), index=True),
    Column("evidence_direct", Text),
    Column("evidence_indirect", Text),
    Column("evidence_categories", Text),
    Column("contamination", Text),
    Column("blockages", Text),
    Column("reported_on", Date, nullable=False),
    Column("closed_on", Date),
    Column("closure_reason", Text),
    Column("baseline_m2", Float, nullable=False),
    Column("cancelled_m2", Float, nullable=False, server_default=text("0")),
    Column("reduced_m2", Float, nullable=False, server_default=text("0")),
    Column("cleared_m2", Float, nullable=False, server_default=text("0")),
    Column("remaining_m2", Float, nullable=False),
    *_record_columns(),
    _check_in("hazard_type", ["SHA", "CHA"]),
    _check_in("status", ["open", "worked_on", "closed"]),
    # Covers the ledger statistics, now and as of a date: a scan of the index instead of the
    # polygons' pages.
    Index("ix_hazards_ledger", "review_status", "sensitivity", "organisation_id", "admin_area_id",
          "reported_on", "baseline_m2", "cancelled_m2", "reduced_m2", "cleared_m2",
          "remaining_m2", "recorded_at"),
)

activities = Table(
    "activities",
    metadata,
    _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("hazard_id", Integer, ForeignKey("hazards.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False, server_default="planned"),
    _org(),
    Column("team_id", Integer, ForeignKey("teams.id"), index=True),
    Column("method", String(16)),
    Column("start_date", Date),
    Column("end_date", Date),
    Column("depth_cm", Integer),
    Column("release_kind", String(16)),
    Column("released_m2", Float, nullable=False, server_default=text("0")),
    Column("geom", Geometry("MULTIPOLYGON"), nullable=False),
    *_record_columns(),
    _check_in("kind", ["nts", "ts", "clearance", "bac", "eod_spot_task", "pci"]),
    _check_in("status", ["planned", "ongoing", "completed", "suspended"]),
)

land_releases = Table(
    "land_releases",
    metadata,
    _id(),
    Column("activity_id", Integer, ForeignKey("activities.id"), nullable=False, unique=True),
    Column("hazard_id", Integer, ForeignKey("hazards.id"), nullable=False, index=True),
    Column("release_kind", String(16), nullable=False),
    Column("released_on", Date, nullable=False),
    Column("area_m2", Float, nullable=False),
    Column("geom", Geometry("MULTIPOLYGON"), nullable=False),
    _org(),
    *_record_columns(),
    _check_in("release_kind", ["cancelled", "reduced", "cleared"]),
    # Covers the released-per-period statistics (no polygon pages read).
    Index("ix_land_releases_stats", "hazard_id", "released_on", "release_kind", "area_m2"),
)

eo_finds = Table(
    "eo_finds",
    metadata,
    _id(),
    Column("code", String(40), nullable=False, unique=True),
    Column("activity_id", Integer, ForeignKey("activities.id"), index=True),
    Column("hazard_id", Integer, ForeignKey("hazards.id"), index=True),
    Column("geom", Geometry("POINT"), nullable=False),
    Column("category", String(16), nullable=False),
    Column("model_code", String(48), ForeignKey("eo_models.code")),
    Column("quantity", Integer, nullable=False, server_default=text("1")),
    Column("depth_cm", Integer),
    Column("fuze_state", String(16), nullable=False, server_default="unknown"),
    Column("disposal", String(24), nullable=False, server_default="pending"),
    Column("found_on", Date, nullable=False),
    _org(),
    *_record_columns(),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    _check_in(
        "category", ["ap_mine", "at_mine", "uxo", "axo", "submunition", "ied", "booby_trap"]
    ),
    _check_in("disposal", ["destroyed_in_situ", "removed", "rendered_safe", "pending"]),
    # Covers the EO-destroyed statistics (restricted finds now, all finds as of a date):
    # SQLite answers them from the index alone.
    Index("ix_eo_finds_stats", "review_status", "disposal", "category", "organisation_id",
          "hazard_id", "found_on", "quantity", "sensitivity", "recorded_at"),
)

accidents = Table(
    "accidents",
    metadata,
    _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("geom", Geometry("POINT"), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("hazard_id", Integer, ForeignKey("hazards.id"), index=True),
    Column("activity_id", Integer, ForeignKey("activities.id"), index=True),
    Column("admin_area_id", Integer, ForeignKey("admin_areas.id"), index=True),
    Column("eo_category", String(16)),
    Column("model_code", String(48), ForeignKey("eo_models.code")),
    Column("description", Text),
    _org(),
    *_record_columns(),
    _check_in("kind", ["accident", "incident"]),
)

casualties = Table(
    "casualties",
    metadata,
    _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("accident_id", Integer, ForeignKey("accidents.id"), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("sex", String(8), nullable=False, server_default="unknown"),
    Column("age_band", String(8), nullable=False, server_default="unknown"),
    Column("role", String(16), nullable=False),
    Column("activity_at_time", String(80)),
    Column("full_name", String(200), info=SENSITIVE),
    Column("contact", String(200), info=SENSITIVE),
    Column("exact_age", Integer, info=SENSITIVE),
    Column("address", String(300), info=SENSITIVE),
    _org(),
    *_record_columns(),
    _check_in("outcome", ["killed", "injured"]),
)

eore_sessions = Table(
    "eore_sessions",
    metadata,
    _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("geom", Geometry("POINT"), nullable=False),
    Column("held_on", Date, nullable=False),
    Column("admin_area_id", Integer, ForeignKey("admin_areas.id"), index=True),
    Column("audience", String(24), nullable=False),
    Column("beneficiaries", Integer, nullable=False, server_default=text("0")),
    _org(),
    *_record_columns(),
)

eore_beneficiaries = Table(
    "eore_beneficiaries",
    metadata,
    _id(),
    Column("code", String(40), nullable=False, unique=True),
    Column("session_id", Integer, ForeignKey("eore_sessions.id"), nullable=False),
    Column("sex", String(8), nullable=False),
    Column("age_band", String(8), nullable=False),
    Column("disability", Boolean, nullable=False),
    Column("count", Integer, nullable=False),
    UniqueConstraint("session_id", "sex", "age_band", "disability"),
    CheckConstraint("count >= 0", name="count_non_negative"),
)

qa_inspections = Table(
    "qa_inspections",
    metadata,
    _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("activity_id", Integer, ForeignKey("activities.id"), nullable=False, index=True),
    Column("kind", String(24), nullable=False),
    Column("inspected_on", Date, nullable=False),
    Column("result", String(16), nullable=False),
    Column("area_sampled_m2", Float),
    Column("notes", Text),
    _org(),
    *_record_columns(),
    _check_in("result", ["pass", "conditional", "fail"]),
)

non_conformities = Table(
    "non_conformities",
    metadata,
    _id(),
    Column("code", String(40), nullable=False, unique=True),
    Column("inspection_id", Integer, ForeignKey("qa_inspections.id"), nullable=False, index=True),
    Column("category", String(40), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("description", Text),
    Column("corrective_action", Text),
    Column("closed_on", Date),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", Timestamp, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("table_name", String(40)),
    Column("record_id", Integer),
    Column("record_code", String(48)),
    Column("before_hash", String(64)),
    Column("after_hash", String(64)),
    Column("detail", Text),
    Column("prev_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False, unique=True),
    # a record's page lists the entries about it (audit.record_entries)
    Index("ix_audit_log_record", "table_name", "record_id"),
)

# Feature tables: (table, GeoPackage geometry type) — each is a layer GDAL and QGIS list;
# attribute tables GIS tools list too (GeoPackage data_type 'attributes'). Both from the
# layer registry, reference data first.
LAYERS: dict[str, str] = {name: storage_geometry(REGISTRY[name]) for name in import_order()
                          if REGISTRY[name].geometry}
ATTRIBUTE_TABLES = tuple(name for name in import_order() if not REGISTRY[name].geometry)
