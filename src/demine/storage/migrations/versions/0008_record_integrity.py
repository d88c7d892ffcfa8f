"""ids never reused, access rows go with their record, taskings, pending releases uncounted

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 20:40:00

- ``id_high_water`` keeps, per table, the highest id ever deleted (triggers on delete), so a
  new record never gets the id of a deleted one: SQLite would hand out max(id) + 1 again, and
  a grant or audit entry naming the old record would then name the new one. On SQLite a
  trigger refuses any insert at or below the mark; demine allocates ids above it.
- Grants whose record is gone are deleted (the services now delete them with the record).
- ``taskings``: the organisations the authority tasked on a hazard (others may not record
  activities on a hazard that is not theirs).
- Releases of activities not approved no longer count on their hazard's ledger: each release
  takes its activity's review status, sensitivity and owner (they were copied once, when
  booked), then the ledger columns, remaining area and closure are recomputed for hazards
  that had releases of activities not approved.
"""

import sqlalchemy as sa
from alembic import op

import demine.storage.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Tables whose ids other rows name (grants, audit entries, history), when this was written.
TABLES = ("hazards", "activities", "land_releases", "eo_finds", "accidents", "casualties",
          "eore_sessions", "eore_beneficiaries", "qa_inspections", "non_conformities",
          "organisations", "admin_areas", "places", "terrain_lines", "teams", "eo_models",
          "users")
VERSIONED = ("hazards", "activities", "land_releases", "eo_finds", "accidents", "casualties",
             "eore_sessions", "qa_inspections")
GRANTED = ("hazards", "activities", "land_releases", "eo_finds", "accidents", "casualties",
           "eore_sessions", "qa_inspections")
FULLY_RELEASED = "all land released"  # domain.ledger.FULLY_RELEASED
CLOSURE_TOLERANCE_M2 = 1.0  # settings.closure_tolerance_m2's default


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "id_high_water",
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("table_name", name=op.f("pk_id_high_water")),
    )
    op.create_table(
        "taskings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("created_at", demine.storage.types.Timestamp(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["hazard_id"], ["hazards.id"],
                                name=op.f("fk_taskings_hazard_id_hazards")),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisations.id"],
                                name=op.f("fk_taskings_organisation_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_taskings")),
        sa.UniqueConstraint("hazard_id", "organisation_id",
                            name=op.f("uq_taskings_hazard_id_organisation_id")),
    )
    op.create_index("ix_taskings_organisation_id", "taskings", ["organisation_id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    _seed_high_water()
    for statement in (_sqlite_triggers() if sqlite else _postgresql_triggers()):
        op.execute(statement)
    for name in GRANTED:
        op.execute(f"DELETE FROM record_grants WHERE table_name = '{name}' AND record_id NOT IN "
                   f"(SELECT id FROM {name})")
    _uncount_pending_releases()


def downgrade() -> None:
    """Revert this revision (the ledger correction stays)."""
    if op.get_bind().dialect.name == "sqlite":
        for name in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS id_high_water_{name}_delete")
            op.execute(f"DROP TRIGGER IF EXISTS id_high_water_{name}_insert")
    else:
        for name in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS id_high_water_track ON {name}")
            op.execute(f"DROP TRIGGER IF EXISTS id_high_water_guard ON {name}")
        op.execute("DROP FUNCTION IF EXISTS id_high_water_track()")
        op.execute("DROP FUNCTION IF EXISTS id_high_water_guard()")
    op.drop_index("ix_taskings_organisation_id", table_name="taskings")
    op.drop_table("taskings")
    op.drop_table("id_high_water")


def _seed_high_water() -> None:
    """The highest id each table ever held, from the table, its history and the audit log."""
    for name in TABLES:
        sources = [f"SELECT max(id) AS m FROM {name}",
                   f"SELECT max(record_id) AS m FROM audit_log WHERE table_name = '{name}'"]
        if name in VERSIONED:
            sources.append(f"SELECT max(id) AS m FROM {name}_history")
        op.execute(f"INSERT INTO id_high_water (table_name, last_id) SELECT '{name}', "
                   f"coalesce(max(m), 0) FROM ({' UNION ALL '.join(sources)}) AS ids")


def _sqlite_triggers() -> list[str]:
    statements = []
    for name in TABLES:
        statements += [
            f"CREATE TRIGGER id_high_water_{name}_delete AFTER DELETE ON {name} BEGIN "
            f"UPDATE id_high_water SET last_id = max(last_id, OLD.id) "
            f"WHERE table_name = '{name}'; END",
            f"CREATE TRIGGER id_high_water_{name}_insert AFTER INSERT ON {name} "
            f"WHEN NEW.id <= (SELECT last_id FROM id_high_water WHERE table_name = '{name}') "
            f"BEGIN SELECT RAISE(ABORT, 'demine: {name} id already used by a deleted record'); "
            f"END",
        ]
    return statements


def _postgresql_triggers() -> list[str]:
    statements = [
        "CREATE FUNCTION id_high_water_track() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE id_high_water SET last_id = GREATEST(last_id, OLD.id) "
        "WHERE table_name = TG_TABLE_NAME; RETURN NULL; END $$",
        # sequences never go back; an explicit id (a bulk load, another tool) might: refused
        # once per statement, over the rows it inserted
        "CREATE FUNCTION id_high_water_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF EXISTS (SELECT 1 FROM inserted i JOIN id_high_water h "
        "ON h.table_name = TG_TABLE_NAME WHERE i.id <= h.last_id) THEN "
        "RAISE EXCEPTION 'demine: % id already used by a deleted record', TG_TABLE_NAME; "
        "END IF; RETURN NULL; END $$",
    ]
    statements += [f"CREATE TRIGGER id_high_water_track AFTER DELETE ON {name} FOR EACH ROW "
                   f"EXECUTE FUNCTION id_high_water_track()" for name in TABLES]
    statements += [f"CREATE TRIGGER id_high_water_guard AFTER INSERT ON {name} "
                   f"REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
                   f"EXECUTE FUNCTION id_high_water_guard()" for name in TABLES]
    return statements


def _uncount_pending_releases() -> None:
    """Hazard ledgers without the releases of activities that are not approved.

    Until now a release kept the review status, sensitivity and owner its activity had when
    it was booked (approving the activity later did not reach it): they are copied from the
    activity first, so that only releases of activities not approved now are taken off.
    """
    for column in ("review_status", "sensitivity", "organisation_id"):
        op.execute(f"UPDATE land_releases SET {column} = (SELECT a.{column} FROM activities a "
                   f"WHERE a.id = land_releases.activity_id) WHERE {column} <> (SELECT "
                   f"a.{column} FROM activities a WHERE a.id = land_releases.activity_id)")
    pending = ("(SELECT coalesce(sum(area_m2), 0) FROM land_releases r WHERE "
               "r.hazard_id = hazards.id AND r.release_kind = '{kind}' AND "
               "r.review_status <> 'approved')")
    affected = ("id IN (SELECT hazard_id FROM land_releases WHERE review_status <> 'approved')")
    sets = ", ".join(f"{k}_m2 = {k}_m2 - {pending.format(kind=k)}"
                     for k in ("cancelled", "reduced", "cleared"))
    op.execute(f"UPDATE hazards SET {sets} WHERE {affected}")
    released = "cancelled_m2 + reduced_m2 + cleared_m2"
    op.execute(f"UPDATE hazards SET remaining_m2 = CASE WHEN baseline_m2 > {released} "
               f"THEN baseline_m2 - ({released}) ELSE 0 END WHERE {affected}")
    op.execute(f"UPDATE hazards SET status = 'worked_on', closure_reason = NULL, closed_on = NULL "
               f"WHERE {affected} AND status = 'closed' AND closure_reason = '{FULLY_RELEASED}' "
               f"AND remaining_m2 > {CLOSURE_TOLERANCE_M2}")
