"""Where GeoPackage (SQLite) and PostGIS differ: connection setup, spatial filters, locks."""

from __future__ import annotations

from sqlalchemy import (
    LargeBinary,
    Table,
    case,
    column,
    event,
    func,
    select,
    type_coerce,
)
from sqlalchemy import table as sql_table
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
        rt = rtree(table.name)
        ids = select(rt.c.id).where(rt.c.minx <= maxx, rt.c.maxx >= minx,
                                    rt.c.miny <= maxy, rt.c.maxy >= miny)
        return table.c.id.in_(ids)
    return table.c.geom.op("&&")(func.ST_MakeEnvelope(minx, miny, maxx, maxy, 4326))


def not_for_indexing(conn, clause):
    """Keep SQLite from driving a query by this clause (e.g. a permission OR) when a better
    access path exists (the RTree of a bbox): a clause inside CASE drives no index."""
    if is_sqlite(conn):
        return case((clause, 1), else_=0) == 1
    return clause


def rtree(table_name: str):
    """The GeoPackage RTree of a layer as a selectable (its parameters stay distinct)."""
    return sql_table(f"rtree_{table_name}_geom", column("id"), column("minx"), column("maxx"),
                     column("miny"), column("maxy"))


def lock_codes(conn, table_name: str) -> None:
    """Serialise writers that number new records of one table (SQLite writers already are)."""
    if not is_sqlite(conn):
        key = int.from_bytes(table_name.encode()[:6].ljust(6, b"_"), "big")
        conn.execute(select(func.pg_advisory_xact_lock(key)))


def lock_row(conn, table: Table, record_id: int) -> None:
    """Hold one row against other writers until the transaction ends (SQLite writers are
    already serial)."""
    if not is_sqlite(conn):
        conn.execute(select(table.c.id).where(table.c.id == record_id).with_for_update())


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
    """After inserting explicit ids, move PostgreSQL's id sequence past them (never back)."""
    if is_sqlite(conn):
        return
    sequence = _sequence_name(conn, table_name)
    if sequence is None:  # no id sequence (a history table: its key is history_id)
        return
    conn.exec_driver_sql(
        f"SELECT setval('{sequence}', GREATEST((SELECT max(id) FROM {table_name}), "
        f"(SELECT last_id FROM id_high_water WHERE table_name = '{table_name}'), "
        f"(SELECT last_value FROM {sequence}), 1))"
    )


def _sequence_name(conn, table_name: str) -> str | None:
    return conn.exec_driver_sql(
        f"SELECT pg_get_serial_sequence('{table_name}', 'id')").scalar_one()


def id_floor(conn, table_name: str) -> int:
    """The highest id ``table_name`` ever used: a new record's id must be above it."""
    high = conn.exec_driver_sql(
        f"SELECT coalesce((SELECT last_id FROM id_high_water WHERE table_name = "
        f"'{table_name}'), 0), coalesce((SELECT max(id) FROM {table_name}), 0)").one()
    floor = max(high)
    sequence = None if is_sqlite(conn) else _sequence_name(conn, table_name)
    if sequence is not None:
        last, called = conn.exec_driver_sql(
            f"SELECT last_value, is_called FROM {sequence}").one()
        floor = max(floor, last if called else last - 1)
    return int(floor)


def new_id(conn, table_name: str) -> int | None:
    """The id for a new record: on SQLite above every id the table ever held (SQLite itself
    would give a deleted maximum's id again); None on PostgreSQL, whose sequence never goes
    back."""
    if not is_sqlite(conn):
        return None
    return id_floor(conn, table_name) + 1


def raw_geometry(geom):
    """The geometry column as stored (GeoPackage blob, PostGIS WKB), undecoded: for reading
    many rows and decoding them at once with ``decode_geometries``."""
    return type_coerce(geom, LargeBinary)


def decode_geometries(conn, values) -> list:
    """Shapely geometries of ``raw_geometry`` values (None stays None), decoded in one call."""
    if is_sqlite(conn):
        return gpkg.decode_many(values)
    import numpy as np
    import shapely

    wkb = np.empty(len(values), dtype=object)
    wkb[:] = [v if v is None or isinstance(v, bytes | str) else bytes(v) for v in values]
    return list(shapely.from_wkb(wkb))


def point_coordinates(conn, values):
    """x, y (n × 2 numpy, NaN for none) of ``raw_geometry`` values of points."""
    if is_sqlite(conn):
        return gpkg.point_coordinates(values)
    import numpy as np
    import shapely

    geoms = np.array(decode_geometries(conn, values), dtype=object)
    return np.column_stack((shapely.get_x(geoms), shapely.get_y(geoms)))


def geojson_text(conn, geom):
    """The geometry as GeoJSON text written by the database (PostGIS: ``ST_AsGeoJSON``, every
    digit a double needs, lon/lat as stored), or None where the caller writes it (GeoPackage).
    Pages of features then skip decoding each geometry into Python and writing it out again."""
    if is_sqlite(conn):
        return None
    return func.ST_AsGeoJSON(geom, 30)  # up to 30 decimals: the shortest text of each double


def envelope(conn, table: Table, *where) -> tuple[float, float, float, float] | None:
    """(minx, miny, maxx, maxy) of the geometries of the rows ``where`` keeps; None if none."""
    g = table.c.geom
    if is_sqlite(conn):  # the GeoPackage header functions the RTree triggers use
        parts = (func.ST_MinX(g), func.ST_MinY(g), func.ST_MaxX(g), func.ST_MaxY(g))
    else:
        parts = (func.ST_XMin(g), func.ST_YMin(g), func.ST_XMax(g), func.ST_YMax(g))
    row = conn.execute(select(func.min(parts[0]), func.min(parts[1]), func.max(parts[2]),
                              func.max(parts[3])).where(*where)).one()
    return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]),
                                        float(row[3]))


def indexed_envelope(conn, table: Table, *where) -> tuple[float, float, float, float] | None:
    """(minx, miny, maxx, maxy) of the rows ``where`` keeps, from what the store keeps beside
    the geometries: the GeoPackage RTree's boxes (single precision, rounded outward), PostGIS's
    ``ST_Extent``; None if none. Cheaper than ``envelope`` on large layers."""
    if is_sqlite(conn):
        rt = rtree(table.name)
        box = select(func.min(rt.c.minx), func.min(rt.c.miny), func.max(rt.c.maxx),
                     func.max(rt.c.maxy)).where(rt.c.id.in_(select(table.c.id).where(*where)))
    else:
        ext = func.ST_Extent(table.c.geom)
        box = select(func.ST_XMin(ext), func.ST_YMin(ext), func.ST_XMax(ext),
                     func.ST_YMax(ext)).where(*where)
    row = conn.execute(box).one()
    return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]),
                                        float(row[3]))


def without_jit(conn) -> None:
    """No JIT compilation in this transaction (PostgreSQL; nothing to do on GeoPackage).

    The permission predicate's subplans and PostGIS functions make the planner's cost
    estimates exceed ``jit_above_cost`` on pages and tiles that then run in milliseconds:
    compiling them took 0.5-1 s a statement."""
    if not is_sqlite(conn):
        conn.execute(select(func.set_config("jit", "off", True)))


def wkb_geometry(conn, geom):
    """The geometry column as bytes for ``decode_leniently``: the GeoPackage blob as stored,
    or WKB written by PostGIS (``ST_AsBinary``, without the SRID)."""
    if is_sqlite(conn):
        return type_coerce(geom, LargeBinary)
    return func.ST_AsBinary(geom, type_=LargeBinary)


def decode_leniently(conn, values):
    """Shapely geometries (a numpy array) of ``wkb_geometry`` values; None where a value is
    missing or unreadable, for the checks, which report such rows instead of failing."""
    import numpy as np
    import shapely

    if is_sqlite(conn):
        wkb = [gpkg.wkb_or_none(b) for b in values]
    else:
        wkb = [bytes(b) if b else None for b in values]
    if not wkb:
        return np.empty(0, dtype=object)
    array = np.empty(len(wkb), dtype=object)
    array[:] = wkb
    return shapely.from_wkb(array, on_invalid="ignore")


def new_id_values(conn, table_name: str) -> dict[str, int]:
    """The id column's value for a new record, as insert values: ``new_id`` on SQLite; none on
    PostgreSQL, whose sequence gives it."""
    new = new_id(conn, table_name)
    return {} if new is None else {"id": new}


def foreign_key_violations(conn) -> dict[str, list[tuple[int, str, str]]]:
    """Rows whose foreign key points nowhere, per table in name order: (rowid, column, parent
    table). Only SQLite can hold them (a file written with foreign keys off); PostgreSQL
    always enforces foreign keys."""
    if not is_sqlite(conn):
        return {}
    dangling: dict[str, list[tuple[int, int]]] = {}
    for name, rowid, _parent, fkid in conn.exec_driver_sql("PRAGMA foreign_key_check"):
        dangling.setdefault(name, []).append((rowid, fkid))
    found = {}
    for name, rows in sorted(dangling.items()):
        keys = {
            fk[0]: (fk[3], fk[2])  # id → (column, parent table)
            for fk in conn.exec_driver_sql(f'PRAGMA foreign_key_list("{name}")')
        }
        found[name] = [(rowid, *keys[fk]) for rowid, fk in rows]
    return found


def missing_edit_guards(conn, names) -> dict[str, list[str]]:
    """Tables of ``names`` whose GeoPackage edit guards (``gpkg.create_guard``) are gone, with
    the events missing; none on PostGIS, which has no such guards."""
    return gpkg.missing_guards(conn, names) if is_sqlite(conn) else {}


# The triggers that keep eo_tallies on each store (migration 0005).
_TALLY_TRIGGERS = {"sqlite": ("eo_tallies_insert", "eo_tallies_delete", "eo_tallies_update",
                              "eo_tallies_hazard_area"),
                   "postgresql": ("eo_tallies_track", "eo_tallies_hazard_area")}


def tally_triggers(conn) -> tuple[str, ...]:
    """The names of the triggers that keep eo_tallies on this store."""
    return _TALLY_TRIGGERS["sqlite" if is_sqlite(conn) else "postgresql"]


def trigger_names(conn) -> set[str]:
    """The names of the triggers the store holds (PostgreSQL's internal ones left out)."""
    if is_sqlite(conn):
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
    return set(conn.exec_driver_sql(query).scalars())


def refresh_layer_extents(conn, names) -> None:
    """Bring each layer's bounding box in gpkg_contents up to date (GeoPackage; PostGIS has
    no such table)."""
    if is_sqlite(conn):
        for name in names:
            gpkg.update_extent(conn, name)


def backend_name(engine_or_conn) -> str:
    """The kind of store, as /healthz reports it: "geopackage" or "postgis"."""
    return "geopackage" if is_sqlite(engine_or_conn) else "postgis"
