"""Where GeoPackage (SQLite) and PostGIS differ: connection setup, spatial filters, locks."""

from __future__ import annotations

from sqlalchemy import Table, event, func, literal_column, select, text
from sqlalchemy.engine import Engine

from demine.storage import gpkg


def is_sqlite(engine_or_conn) -> bool:
    """Whether the store behind an engine or connection is SQLite/GeoPackage."""
    return engine_or_conn.dialect.name == "sqlite"


def configure(engine: Engine, *, busy_timeout_ms: int) -> None:
    """Per-connection set-up: functions, WAL, foreign keys, busy timeout, explicit BEGIN."""
    if not is_sqlite(engine):
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (see below)
        gpkg.register_functions(dbapi_conn)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # IMMEDIATE for writers so two writers queue on the busy timeout instead of
        # deadlocking on a lock upgrade; readers stay DEFERRED and never block in WAL.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def write_options(engine: Engine) -> dict:
    """Execution options for a connection that will write."""
    return {"sqlite_begin": "IMMEDIATE"} if is_sqlite(engine) else {}


def spatial_clause(conn, table: Table, bbox: tuple[float, float, float, float]):
    """A WHERE clause keeping rows whose geometry envelope meets ``bbox``, via the index."""
    minx, miny, maxx, maxy = bbox
    if is_sqlite(conn):
        ids = text(
            f"SELECT id FROM rtree_{table.name}_geom "
            "WHERE minx <= :maxx AND maxx >= :minx AND miny <= :maxy AND maxy >= :miny"
        ).bindparams(minx=minx, miny=miny, maxx=maxx, maxy=maxy)
        return table.c.id.in_(ids.columns(literal_column("id")))
    return table.c.geom.op("&&")(func.ST_MakeEnvelope(minx, miny, maxx, maxy, 4326))


def lock_audit_chain(conn) -> None:
    """Serialise appenders of the audit hash chain (SQLite writers are already serial)."""
    if not is_sqlite(conn):
        conn.execute(select(func.pg_advisory_xact_lock(0x6D696E65)))


def period(conn, column, by: str):
    """The year ("2025") or month ("2025-03") of a date column, as text."""
    if is_sqlite(conn):
        return func.substr(column, 1, 4 if by == "year" else 7)
    return func.to_char(column, "YYYY" if by == "year" else "YYYY-MM")


def sync_id_sequence(conn, table_name: str) -> None:
    """After inserting explicit ids, move PostgreSQL's id sequence past them."""
    if is_sqlite(conn):
        return
    conn.exec_driver_sql(
        f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "
        f"GREATEST((SELECT max(id) FROM {table_name}), 1))"
    )
