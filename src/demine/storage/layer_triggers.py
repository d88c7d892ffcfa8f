"""The triggers each registered layer's table carries, created from the layer registry.

Two jobs, both kept by the database so no writer can skip them:
- ``tile_changes``: the bounds every insert, update or delete touched, for the tile cache
  (migration 0007 holds the functions and the stamping trigger on the audit log);
- ``id_high_water``: the highest id ever deleted per table, and a guard refusing an insert at
  or below it, so an id is never handed out twice (migration 0008).

Migrations 0007 and 0008 created them for the layers of their day; ``ensure`` (run by
``schema.finish`` after every upgrade, idempotent) adds them for any layer registered since,
so a new layer needs no trigger code of its own.
"""

from __future__ import annotations

from demine.domain.entities import REGISTRY

COLUMNS = "layer, minx, miny, maxx, maxy"


def tiled_layers() -> tuple[str, ...]:
    """The layers with vector tiles: their writes are logged for the tile cache."""
    return tuple(name for name, e in REGISTRY.items() if e.tiles is not None)


def ensure(conn) -> list[str]:
    """Create the triggers (and high-water rows) missing for registered layers; their names."""
    sqlite = conn.dialect.name == "sqlite"
    present = _present(conn, sqlite)
    wanted = {}
    for name in tiled_layers():
        wanted.update(_sqlite_tile_triggers(name) if sqlite else _postgresql_tile_trigger(name))
    for name in REGISTRY:
        wanted.update(_sqlite_id_triggers(name) if sqlite else _postgresql_id_triggers(name))
    made = []
    for key, statement in wanted.items():
        if key not in present:
            conn.exec_driver_sql(statement)
            made.append(key[1])
    for name in REGISTRY:
        conn.exec_driver_sql(
            f"INSERT INTO id_high_water (table_name, last_id) SELECT '{name}', "
            f"(SELECT coalesce(max(id), 0) FROM {name}) WHERE NOT EXISTS "
            f"(SELECT 1 FROM id_high_water WHERE table_name = '{name}')")
    return made


def _present(conn, sqlite: bool) -> set[tuple[str, str]]:
    if sqlite:
        rows = conn.exec_driver_sql(
            "SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'")
    else:
        rows = conn.exec_driver_sql(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal")
    return {(table, name) for table, name in rows}


def _sqlite_bounds(layer: str, row: str, where: str) -> str:
    g = f"{row}.geom"
    return (f"INSERT INTO tile_changes ({COLUMNS}) SELECT '{layer}', ST_MinX({g}), "
            f"ST_MinY({g}), ST_MaxX({g}), ST_MaxY({g}) "
            f"WHERE {g} NOTNULL AND NOT ST_IsEmpty({g}){where};")


def _sqlite_tile_triggers(name: str) -> dict[tuple[str, str], str]:
    return {
        (name, f"tile_changes_{name}_insert"):
            f"CREATE TRIGGER tile_changes_{name}_insert AFTER INSERT ON {name} BEGIN "
            f"{_sqlite_bounds(name, 'NEW', '')} END",
        (name, f"tile_changes_{name}_delete"):
            f"CREATE TRIGGER tile_changes_{name}_delete AFTER DELETE ON {name} BEGIN "
            f"{_sqlite_bounds(name, 'OLD', '')} END",
        (name, f"tile_changes_{name}_update"):
            f"CREATE TRIGGER tile_changes_{name}_update AFTER UPDATE ON {name} BEGIN "
            f"{_sqlite_bounds(name, 'OLD', '')} "
            f"{_sqlite_bounds(name, 'NEW', ' AND NEW.geom IS NOT OLD.geom')} END",
    }


def _postgresql_tile_trigger(name: str) -> dict[tuple[str, str], str]:
    return {(name, "tile_changes_track"):
            f"CREATE TRIGGER tile_changes_track AFTER INSERT OR UPDATE OR DELETE ON {name} "
            f"FOR EACH ROW EXECUTE FUNCTION tile_changes_track()"}


def _sqlite_id_triggers(name: str) -> dict[tuple[str, str], str]:
    return {
        (name, f"id_high_water_{name}_delete"):
            f"CREATE TRIGGER id_high_water_{name}_delete AFTER DELETE ON {name} BEGIN "
            f"UPDATE id_high_water SET last_id = max(last_id, OLD.id) "
            f"WHERE table_name = '{name}'; END",
        (name, f"id_high_water_{name}_insert"):
            f"CREATE TRIGGER id_high_water_{name}_insert AFTER INSERT ON {name} "
            f"WHEN NEW.id <= (SELECT last_id FROM id_high_water WHERE table_name = '{name}') "
            f"BEGIN SELECT RAISE(ABORT, 'demine: {name} id already used by a deleted record'); "
            f"END",
    }


def _postgresql_id_triggers(name: str) -> dict[tuple[str, str], str]:
    return {
        (name, "id_high_water_track"):
            f"CREATE TRIGGER id_high_water_track AFTER DELETE ON {name} FOR EACH ROW "
            f"EXECUTE FUNCTION id_high_water_track()",
        (name, "id_high_water_guard"):
            f"CREATE TRIGGER id_high_water_guard AFTER INSERT ON {name} "
            f"REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
            f"EXECUTE FUNCTION id_high_water_guard()",
    }
