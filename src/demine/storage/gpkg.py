"""GeoPackage 1.4 essentials: geometry blobs, core tables, layer registration, RTree index.

Spec: OGC 12-128r19 (GeoPackage Encoding Standard 1.4), clauses 2.1 (core), 2.1.3
(geometry encoding) and F.3 (RTree spatial indexes).
"""

from __future__ import annotations

import sqlite3
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # shapely loads on first use: read-only commands start faster without it
    from shapely.geometry.base import BaseGeometry

APPLICATION_ID = 0x47504B47  # "GPKG"
USER_VERSION = 10400  # GeoPackage 1.4.0
SRS_WGS84 = 4326
_HEADER = struct.Struct("<2sBBidddd")  # magic, version, flags, srs_id, envelope xy
_EMPTY_HEADER = struct.Struct("<2sBBi")
# flags: bit0 = little endian, bits1-3 = envelope kind (1 = xy), bit4 = empty geometry
_FLAGS_XY = 0b0000_0011
_FLAGS_EMPTY = 0b0001_0001


def encode(geom: BaseGeometry) -> bytes:
    """GeoPackage binary: GP header with the xy envelope, then little-endian ISO WKB."""
    import shapely

    wkb = shapely.to_wkb(geom, byte_order=1, flavor="iso", include_srid=False)
    if geom.is_empty:
        return _EMPTY_HEADER.pack(b"GP", 0, _FLAGS_EMPTY, SRS_WGS84) + wkb
    minx, miny, maxx, maxy = geom.bounds
    return _HEADER.pack(b"GP", 0, _FLAGS_XY, SRS_WGS84, minx, maxx, miny, maxy) + wkb


# The envelope's size by its kind (flags bits 1-3): none, xy, xyz, xym, xyzm.
_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


def _wkb_offset(blob: bytes) -> int:
    flags = blob[3]
    envelope_kind = (flags >> 1) & 0b111
    return 8 + _ENVELOPE_BYTES[envelope_kind]


def decode(blob: bytes) -> BaseGeometry:
    """A shapely geometry from GeoPackage binary (any envelope kind, either byte order)."""
    if blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    import shapely

    return shapely.from_wkb(bytes(blob[_wkb_offset(blob) :]))


def point_coordinates(blobs):
    """x, y (n × 2, NaN where None or empty) of point blobs: read straight from the bytes
    when every blob has the same layout (a header and a little-endian WKB point), as a
    layer's points do; otherwise through ``decode_many``."""
    import numpy as np
    import shapely

    first = blobs[0] if blobs else None
    if first is not None and all(b is not None and len(b) == len(first) for b in blobs):
        rows = np.frombuffer(b"".join(blobs), dtype=np.uint8).reshape(len(blobs), len(first))
        at = _wkb_offset(first)
        header_same = (rows[:, :8] == rows[0, :8]).all() and not first[3] & 0b1_0000
        wkb_point = (rows[:, at] == 1).all() and (rows[:, at + 1:at + 5] == (1, 0, 0, 0)).all()
        if header_same and wkb_point and len(first) == at + 21:
            xy = np.ascontiguousarray(rows[:, at + 5:at + 21]).view("<f8")
            return xy.reshape(len(blobs), 2).astype(np.float64)
    geoms = np.array(decode_many(blobs), dtype=object)
    return np.column_stack((shapely.get_x(geoms), shapely.get_y(geoms)))


def decode_many(blobs) -> list[BaseGeometry | None]:
    """``decode`` of each blob (None stays None), the WKB read in one call: some 10 times
    faster than blob by blob on pages and tiles of thousands."""
    import numpy as np
    import shapely

    wkb = np.empty(len(blobs), dtype=object)
    for i, blob in enumerate(blobs):
        if blob is not None:
            if blob[:2] != b"GP":
                raise ValueError("not a GeoPackage geometry blob")
            wkb[i] = bytes(blob[_wkb_offset(blob):])
    return list(shapely.from_wkb(wkb))


def wkb_or_none(blob) -> bytes | None:
    """The WKB inside a GeoPackage blob; None where there is no blob, or the bytes are not a
    GeoPackage geometry or have an envelope kind the standard does not define (for readers
    that report such rows instead of failing on them)."""
    if not blob or bytes(blob[:2]) != b"GP":
        return None
    size = _ENVELOPE_BYTES.get((blob[3] >> 1) & 0b111)
    return None if size is None else bytes(blob[8 + size:])


def envelope(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) read from the header, or computed when it has none."""
    if blob is None or blob[3] & 0b1_0000:
        return None
    flags = blob[3]
    if (flags >> 1) & 0b111:
        order = "<" if flags & 1 else ">"
        return struct.unpack_from(order + "dddd", blob, 8)
    minx, miny, maxx, maxy = decode(blob).bounds
    return (minx, maxx, miny, maxy)


def _st(index: int):
    def fn(blob):
        env = envelope(blob)
        return None if env is None else env[index]

    return fn


def _is_empty(blob) -> int | None:
    if blob is None:
        return None
    return 1 if blob[3] & 0b1_0000 else 0


def register_functions(conn: sqlite3.Connection) -> None:
    """The ST_ functions the RTree triggers call, on every connection demine opens."""
    for name, index in (("ST_MinX", 0), ("ST_MaxX", 1), ("ST_MinY", 2), ("ST_MaxY", 3)):
        conn.create_function(name, 1, _st(index), deterministic=True)
    conn.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
    # Only demine's connections know this function: the guard triggers on every layer call
    # it, so a write by another tool fails with "no such function: demine_...".
    conn.create_function(GUARD_FUNCTION, 0, lambda: 1, deterministic=True)


GUARD_FUNCTION = "demine_only__edit_through_demine_api"

CORE_DDL = (
    """CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
        srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
        organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT)""",
    """CREATE TABLE IF NOT EXISTS gpkg_contents (
        table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
        description TEXT DEFAULT '',
        last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
        CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
        table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
        srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
        CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
        CONSTRAINT uk_gc_table_name UNIQUE (table_name),
        CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
        CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id))""",
    """CREATE TABLE IF NOT EXISTS gpkg_extensions (
        table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL,
        definition TEXT NOT NULL, scope TEXT NOT NULL,
        CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name))""",
)

_WGS84_WKT = (
    'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,'
    'AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,'
    'AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],'
    'AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]'
)
SRS_ROWS = (
    ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", "undefined cartesian"),
    ("Undefined geographic SRS", 0, "NONE", 0, "undefined", "undefined geographic"),
    ("WGS 84 geodetic", 4326, "EPSG", 4326, _WGS84_WKT, "longitude/latitude on WGS 84"),
)


def create_core(conn) -> None:
    """Make the file a GeoPackage: application id, version and the required tables."""
    conn.exec_driver_sql(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.exec_driver_sql(f"PRAGMA user_version = {USER_VERSION}")
    for ddl in CORE_DDL:
        conn.exec_driver_sql(ddl)
    for row in SRS_ROWS:
        conn.exec_driver_sql(
            "INSERT OR IGNORE INTO gpkg_spatial_ref_sys VALUES (?, ?, ?, ?, ?, ?)", row
        )


def register_attributes(conn, table: str, description: str = "") -> None:
    """List a table without geometry in gpkg_contents so GIS tools show it."""
    conn.exec_driver_sql(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description) "
        "VALUES (?, 'attributes', ?, ?)",
        (table, table, description),
    )


def register_layer(conn, table: str, column: str, geometry_type: str, description="") -> None:
    """List a feature table, its geometry column, RTree index and edit guard."""
    conn.exec_driver_sql(
        "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, description, "
        "srs_id) VALUES (?, 'features', ?, ?, ?)",
        (table, table, description, SRS_WGS84),
    )
    conn.exec_driver_sql(
        "INSERT OR IGNORE INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
        (table, column, geometry_type, SRS_WGS84),
    )
    create_rtree(conn, table, column)
    create_guard(conn, table)


def create_rtree(conn, t: str, c: str, i: str = "id") -> None:
    """The gpkg_rtree_index extension: a virtual table kept current by triggers."""
    rt = f"rtree_{t}_{c}"
    conn.exec_driver_sql(
        "INSERT OR IGNORE INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', "
        "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
        (t, c),
    )
    conn.exec_driver_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {rt} USING rtree(id, minx, maxx, miny, maxy)"
    )
    values = f"(NEW.{i}, ST_MinX(NEW.{c}), ST_MaxX(NEW.{c}), ST_MinY(NEW.{c}), ST_MaxY(NEW.{c}))"
    not_empty = f"(NEW.{c} NOTNULL AND NOT ST_IsEmpty(NEW.{c}))"
    empty = f"(NEW.{c} ISNULL OR ST_IsEmpty(NEW.{c}))"
    triggers = {
        "insert": f"AFTER INSERT ON {t} WHEN {not_empty} "
        f"BEGIN INSERT OR REPLACE INTO {rt} VALUES {values}; END",
        "update1": f"AFTER UPDATE OF {c} ON {t} WHEN OLD.{i} = NEW.{i} AND {not_empty} "
        f"BEGIN INSERT OR REPLACE INTO {rt} VALUES {values}; END",
        "update2": f"AFTER UPDATE OF {c} ON {t} WHEN OLD.{i} = NEW.{i} AND {empty} "
        f"BEGIN DELETE FROM {rt} WHERE id = OLD.{i}; END",
        "update3": f"AFTER UPDATE ON {t} WHEN OLD.{i} != NEW.{i} AND {not_empty} "
        f"BEGIN DELETE FROM {rt} WHERE id = OLD.{i}; "
        f"INSERT OR REPLACE INTO {rt} VALUES {values}; END",
        "update4": f"AFTER UPDATE ON {t} WHEN OLD.{i} != NEW.{i} AND {empty} "
        f"BEGIN DELETE FROM {rt} WHERE id IN (OLD.{i}, NEW.{i}); END",
        "delete": f"AFTER DELETE ON {t} WHEN OLD.{c} NOT NULL "
        f"BEGIN DELETE FROM {rt} WHERE id = OLD.{i}; END",
    }
    for name, body in triggers.items():
        conn.exec_driver_sql(f"CREATE TRIGGER IF NOT EXISTS {rt}_{name} {body}")


GUARDED_EVENTS = ("insert", "update", "delete")


def create_guard(conn, table: str) -> None:
    """Refuse inserts, updates and deletes made by tools that are not demine."""
    for event in GUARDED_EVENTS:
        conn.exec_driver_sql(
            f"CREATE TRIGGER IF NOT EXISTS demine_guard_{table}_{event} "
            f"BEFORE {event.upper()} ON {table} BEGIN SELECT {GUARD_FUNCTION}(); END"
        )


def missing_guards(conn, names) -> dict[str, list[str]]:
    """For each table of ``names`` the file holds (one not there yet awaits a migration), the
    events whose edit-guard trigger is gone, in name order; tables with all three left out."""
    present = set(conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'demine_guard_%'"
    ).scalars())
    tables = set(conn.exec_driver_sql(
        "SELECT name FROM sqlite_master WHERE type = 'table'").scalars())
    missing = {}
    for name in sorted(tables & set(names)):
        gone = [e for e in GUARDED_EVENTS if f"demine_guard_{name}_{e}" not in present]
        if gone:
            missing[name] = gone
    return missing


def update_extent(conn, table: str, column: str = "geom") -> None:
    """Refresh a layer's bounding box in gpkg_contents from its RTree."""
    conn.exec_driver_sql(
        f"UPDATE gpkg_contents SET (min_x, max_x, min_y, max_y) = "
        f"(SELECT min(minx), max(maxx), min(miny), max(maxy) FROM rtree_{table}_{column}), "
        f"last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?",
        (table,),
    )
