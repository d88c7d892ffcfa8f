"""EO-destroyed tallies kept by triggers; covering indexes for the statistics; grant lookups
by organisation and user

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 23:20:00

Statistics summed a million EO finds on every call; they now read ``eo_tallies``, which
database triggers keep in step with every write to ``eo_finds`` (API, import, bulk load, or
anything else) and with a hazard moving to another admin area. ``demine check`` compares the
tallies with a recomputation from the finds.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# vocab.DESTROYED_DISPOSALS when this revision was written (a migration must not follow later
# edits of the code); tests compare the tallies with the service's own recomputation.
DESTROYED = "('destroyed_in_situ', 'removed', 'rendered_safe')"
KEY = "category, admin_area_id, organisation_id, month, review_status, sensitivity"
COLUMNS = f"{KEY}, quantity"
LEDGER_INDEX = ["review_status", "sensitivity", "organisation_id", "admin_area_id", "reported_on",
                "baseline_m2", "cancelled_m2", "reduced_m2", "cleared_m2", "remaining_m2"]


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "eo_tallies",
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("admin_area_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("organisation_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("review_status", sa.String(length=16), nullable=False),
        sa.Column("sensitivity", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("category", "admin_area_id", "organisation_id", "month",
                                "review_status", "sensitivity", name=op.f("pk_eo_tallies")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_eo_tallies_organisation", "eo_tallies",
                    ["category", "organisation_id", "review_status", "sensitivity", "quantity"])
    op.create_index("ix_eo_tallies_month", "eo_tallies",
                    ["category", "month", "review_status", "sensitivity", "quantity"])
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.create_index("ix_hazards_ledger", LEDGER_INDEX, unique=False)
    with op.batch_alter_table("land_releases", schema=None) as batch_op:
        batch_op.create_index("ix_land_releases_stats",
                              ["hazard_id", "released_on", "release_kind", "area_m2"], unique=False)
    with op.batch_alter_table("record_grants", schema=None) as batch_op:
        batch_op.create_index("ix_record_grants_organisation",
                              ["table_name", "organisation_id", "record_id"], unique=False)
        batch_op.create_index("ix_record_grants_user", ["table_name", "user_id", "record_id"],
                              unique=False)
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in (_sqlite_triggers() if sqlite else _postgresql_triggers()):
        op.execute(statement)
    month = "substr(f.found_on, 1, 7)" if sqlite else "to_char(f.found_on, 'YYYY-MM')"
    op.execute(
        f"INSERT INTO eo_tallies ({COLUMNS}) "
        f"SELECT f.category, coalesce(h.admin_area_id, 0), f.organisation_id, {month}, "
        f"f.review_status, f.sensitivity, sum(f.quantity) "
        f"FROM eo_finds f LEFT JOIN hazards h ON h.id = f.hazard_id "
        f"WHERE f.disposal IN {DESTROYED} GROUP BY 1, 2, 3, 4, 5, 6")


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "sqlite":
        for name in ("eo_tallies_insert", "eo_tallies_delete", "eo_tallies_update",
                     "eo_tallies_hazard_area"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS eo_tallies_track ON eo_finds")
        op.execute("DROP TRIGGER IF EXISTS eo_tallies_hazard_area ON hazards")
        op.execute("DROP FUNCTION IF EXISTS eo_tallies_track()")
        op.execute("DROP FUNCTION IF EXISTS eo_tallies_hazard_area()")
    op.drop_table("eo_tallies")
    with op.batch_alter_table("hazards", schema=None) as batch_op:
        batch_op.drop_index("ix_hazards_ledger")
    with op.batch_alter_table("land_releases", schema=None) as batch_op:
        batch_op.drop_index("ix_land_releases_stats")
    with op.batch_alter_table("record_grants", schema=None) as batch_op:
        batch_op.drop_index("ix_record_grants_user")
        batch_op.drop_index("ix_record_grants_organisation")


def _add(row: str, sign: str, month: str, where: str = "WHERE true") -> str:
    """Add (or, with sign '-', take away) one find's quantity to its tally."""
    area = f"coalesce((SELECT admin_area_id FROM hazards WHERE id = {row}.hazard_id), 0)"
    return (
        f"INSERT INTO eo_tallies ({COLUMNS}) "
        f"SELECT {row}.category, {area}, {row}.organisation_id, {month.format(row=row)}, "
        f"{row}.review_status, {row}.sensitivity, {sign}{row}.quantity {where} "
        f"ON CONFLICT ({KEY}) DO UPDATE SET quantity = eo_tallies.quantity + excluded.quantity;")


def _move(hazard: str, sign: str, month: str) -> str:
    """Add (or take away) all destroyed finds of a hazard, tallied under its admin area."""
    return (
        f"INSERT INTO eo_tallies ({COLUMNS}) "
        f"SELECT f.category, coalesce({hazard}.admin_area_id, 0), f.organisation_id, "
        f"{month.format(row='f')}, f.review_status, f.sensitivity, {sign}sum(f.quantity) "
        f"FROM eo_finds f WHERE f.hazard_id = {hazard}.id AND f.disposal IN {DESTROYED} "
        f"GROUP BY 1, 2, 3, 4, 5, 6 "
        f"ON CONFLICT ({KEY}) DO UPDATE SET quantity = eo_tallies.quantity + excluded.quantity;")


TRACKED = "hazard_id, organisation_id, sensitivity, review_status, found_on, category, " \
          "quantity, disposal"


def _sqlite_triggers() -> list[str]:
    month = "substr({row}.found_on, 1, 7)"
    destroyed = "{row}.disposal IN " + DESTROYED
    return [
        f"CREATE TRIGGER eo_tallies_insert AFTER INSERT ON eo_finds "
        f"WHEN {destroyed.format(row='NEW')} BEGIN {_add('NEW', '', month)} END",
        f"CREATE TRIGGER eo_tallies_delete AFTER DELETE ON eo_finds "
        f"WHEN {destroyed.format(row='OLD')} BEGIN {_add('OLD', '-', month)} END",
        f"CREATE TRIGGER eo_tallies_update AFTER UPDATE OF {TRACKED} ON eo_finds BEGIN "
        f"{_add('OLD', '-', month, 'WHERE ' + destroyed.format(row='OLD'))} "
        f"{_add('NEW', '', month, 'WHERE ' + destroyed.format(row='NEW'))} END",
        f"CREATE TRIGGER eo_tallies_hazard_area AFTER UPDATE OF admin_area_id ON hazards "
        f"WHEN OLD.admin_area_id IS NOT NEW.admin_area_id BEGIN "
        f"{_move('OLD', '-', month)} {_move('NEW', '', month)} END",
    ]


def _postgresql_triggers() -> list[str]:
    month = "to_char({row}.found_on, 'YYYY-MM')"
    # Tally rows are locked by their writer until commit; taking the audit chain's lock first
    # (the lock every write transaction takes anyway) keeps two writers from deadlocking.
    lock = "PERFORM pg_advisory_xact_lock(1835626085);"
    return [
        "CREATE FUNCTION eo_tallies_track() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{lock} "
        f"IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.disposal IN {DESTROYED} THEN "
        f"{_add('OLD', '-', month)} END IF; "
        f"IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.disposal IN {DESTROYED} THEN "
        f"{_add('NEW', '', month)} END IF; "
        "RETURN NULL; END $$",
        f"CREATE TRIGGER eo_tallies_track AFTER INSERT OR DELETE OR UPDATE OF {TRACKED} "
        f"ON eo_finds FOR EACH ROW EXECUTE FUNCTION eo_tallies_track()",
        "CREATE FUNCTION eo_tallies_hazard_area() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF OLD.admin_area_id IS DISTINCT FROM NEW.admin_area_id THEN {lock} "
        f"{_move('OLD', '-', month)} {_move('NEW', '', month)} END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER eo_tallies_hazard_area AFTER UPDATE OF admin_area_id ON hazards "
        "FOR EACH ROW EXECUTE FUNCTION eo_tallies_hazard_area()",
    ]
