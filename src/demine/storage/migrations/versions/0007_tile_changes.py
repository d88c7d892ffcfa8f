"""where the layers changed, kept by triggers for the tile cache

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 04:40:00

Vector tiles were kept until anything changed: one edit made every tile of every zoom stale,
and the first maps after it paid seconds per low-zoom tile again. Triggers on the tile layers
now log the bounds each insert, update (old and new) or delete touched, and a change to
grants or sharing agreements logs one row for every layer. The next audit entry (every change
demine makes appends one in the same transaction) stamps the transaction's rows with its seq,
so a cache valid at one head of the chain drops only the tiles the entries after it touched.
Rows more than 100,000 entries old are pruned by the same trigger.

Cached tiles and counts are shared by every user of an organisation unless a record names the
user (confidential grants): ``ix_record_grants_named`` answers that per request.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# The tile layers when this revision was written (services.tiles.layers.TILE_LAYERS), and the tables
# the permission predicate reads besides the layer itself.
LAYERS = ("hazards", "activities", "land_releases", "eo_finds", "accidents", "eore_sessions",
          "admin_areas", "places", "terrain_lines")
ACCESS = ("record_grants", "sharing_agreements")
RETAINED = 100_000  # audit entries: services.tiles.changes.RETAINED
COLUMNS = "layer, minx, miny, maxx, maxy"


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "tile_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("layer", sa.String(length=40), nullable=False),
        sa.Column("minx", sa.Float(), nullable=True),
        sa.Column("miny", sa.Float(), nullable=True),
        sa.Column("maxx", sa.Float(), nullable=True),
        sa.Column("maxy", sa.Float(), nullable=True),
        sa.Column("head", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tile_changes")),
    )
    op.create_index("ix_tile_changes_head", "tile_changes", ["head"])
    op.create_index("ix_record_grants_named", "record_grants", ["user_id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in (_sqlite_triggers() if sqlite else _postgresql_triggers()):
        op.execute(statement)


def downgrade() -> None:
    """Revert this revision."""
    if op.get_bind().dialect.name == "sqlite":
        for name in (*LAYERS, *ACCESS):
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS tile_changes_{name}_{event}")
        op.execute("DROP TRIGGER IF EXISTS tile_changes_stamp")
    else:
        for name in (*LAYERS, *ACCESS):
            op.execute(f"DROP TRIGGER IF EXISTS tile_changes_track ON {name}")
        op.execute("DROP TRIGGER IF EXISTS tile_changes_stamp ON audit_log")
        for function in ("tile_changes_track", "tile_changes_everything", "tile_changes_stamp"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_index("ix_record_grants_named", table_name="record_grants")
    op.drop_index("ix_tile_changes_head", table_name="tile_changes")
    op.drop_table("tile_changes")


def _sqlite_bounds(layer: str, row: str, where: str) -> str:
    g = f"{row}.geom"
    return (f"INSERT INTO tile_changes ({COLUMNS}) SELECT '{layer}', ST_MinX({g}), "
            f"ST_MinY({g}), ST_MaxX({g}), ST_MaxY({g}) "
            f"WHERE {g} NOTNULL AND NOT ST_IsEmpty({g}){where};")


def _sqlite_triggers() -> list[str]:
    statements = []
    for name in LAYERS:
        statements += [
            f"CREATE TRIGGER tile_changes_{name}_insert AFTER INSERT ON {name} BEGIN "
            f"{_sqlite_bounds(name, 'NEW', '')} END",
            f"CREATE TRIGGER tile_changes_{name}_delete AFTER DELETE ON {name} BEGIN "
            f"{_sqlite_bounds(name, 'OLD', '')} END",
            f"CREATE TRIGGER tile_changes_{name}_update AFTER UPDATE ON {name} BEGIN "
            f"{_sqlite_bounds(name, 'OLD', '')} "
            f"{_sqlite_bounds(name, 'NEW', ' AND NEW.geom IS NOT OLD.geom')} END",
        ]
    for name in ACCESS:
        statements += [
            f"CREATE TRIGGER tile_changes_{name}_{event.lower()} AFTER {event} ON {name} "
            f"BEGIN INSERT INTO tile_changes (layer) VALUES ('*'); END"
            for event in ("INSERT", "UPDATE", "DELETE")]
    statements.append(
        "CREATE TRIGGER tile_changes_stamp AFTER INSERT ON audit_log BEGIN "
        "UPDATE tile_changes SET head = NEW.seq WHERE head IS NULL; "
        f"DELETE FROM tile_changes WHERE head < NEW.seq - {RETAINED}; END")
    return statements


def _postgresql_bounds(row: str) -> str:
    g = f"{row}.geom"
    return (f"IF {g} IS NOT NULL AND NOT ST_IsEmpty({g}) THEN "
            f"INSERT INTO tile_changes ({COLUMNS}) VALUES (TG_TABLE_NAME, ST_XMin({g}), "
            f"ST_YMin({g}), ST_XMax({g}), ST_YMax({g})); END IF;")


def _postgresql_triggers() -> list[str]:
    statements = [
        "CREATE FUNCTION tile_changes_track() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"IF TG_OP = 'INSERT' THEN {_postgresql_bounds('NEW')} "
        f"ELSIF TG_OP = 'DELETE' THEN {_postgresql_bounds('OLD')} "
        f"ELSE {_postgresql_bounds('OLD')} "
        f"IF NEW.geom IS DISTINCT FROM OLD.geom THEN {_postgresql_bounds('NEW')} END IF; "
        "END IF; RETURN NULL; END $$",
        "CREATE FUNCTION tile_changes_everything() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN INSERT INTO tile_changes (layer) VALUES ('*'); RETURN NULL; END $$",
        "CREATE FUNCTION tile_changes_stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE tile_changes SET head = NEW.seq WHERE head IS NULL; "
        f"DELETE FROM tile_changes WHERE head < NEW.seq - {RETAINED}; RETURN NULL; END $$",
        "CREATE TRIGGER tile_changes_stamp AFTER INSERT ON audit_log FOR EACH ROW "
        "EXECUTE FUNCTION tile_changes_stamp()",
    ]
    statements += [f"CREATE TRIGGER tile_changes_track AFTER INSERT OR UPDATE OR DELETE ON "
                   f"{name} FOR EACH ROW EXECUTE FUNCTION tile_changes_track()"
                   for name in LAYERS]
    statements += [f"CREATE TRIGGER tile_changes_track AFTER INSERT OR UPDATE OR DELETE ON "
                   f"{name} FOR EACH STATEMENT EXECUTE FUNCTION tile_changes_everything()"
                   for name in ACCESS]
    return statements
