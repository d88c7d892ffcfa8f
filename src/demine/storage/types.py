"""Column types that store the same values on GeoPackage (SQLite) and PostGIS."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, Float, LargeBinary, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.types import TypeDecorator, UserDefinedType

from demine.storage import gpkg

if TYPE_CHECKING:  # shapely loads on first use: read-only commands start faster without it
    from shapely.geometry.base import BaseGeometry

SRID = 4326


class _SqliteGeometry(UserDefinedType):
    """Declared as the geometry type name, as GeoPackage requires; holds a GP blob."""

    cache_ok = True

    def __init__(self, type_name: str):
        self.type_name = type_name

    def get_col_spec(self, **kw) -> str:
        return self.type_name


class _PostgisGeometry(UserDefinedType):
    """PostGIS geometry with a fixed type and SRID."""

    cache_ok = True

    def __init__(self, type_name: str):
        self.type_name = type_name

    def get_col_spec(self, **kw) -> str:
        name = "GEOMETRY" if self.type_name == "GEOMETRY" else self.type_name
        return f"geometry({name},{SRID})"


class Geometry(TypeDecorator):
    """A shapely geometry in EPSG:4326 (x = longitude)."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, type_name: str = "GEOMETRY"):
        super().__init__()
        self.type_name = type_name.upper()

    def __repr__(self) -> str:
        return f"Geometry({self.type_name!r})"

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(_PostgisGeometry(self.type_name))
        return dialect.type_descriptor(_SqliteGeometry(self.type_name))

    def process_bind_param(self, value: BaseGeometry | None, dialect):
        if value is None:
            return None
        if dialect.name == "postgresql":
            import shapely

            return shapely.to_wkb(value, hex=True, include_srid=True) if shapely.get_srid(
                value
            ) else shapely.to_wkb(shapely.set_srid(value, SRID), hex=True, include_srid=True)
        return gpkg.encode(value)

    def process_result_value(self, value, dialect) -> BaseGeometry | None:
        if value is None:
            return None
        if dialect.name == "postgresql":
            import shapely

            return shapely.from_wkb(value)
        return gpkg.decode(value)


class Timestamp(TypeDecorator):
    """A UTC instant: ISO-8601 text with 'Z' in GeoPackage, timestamptz in PostGIS."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(DateTime(timezone=True))
        return dialect.type_descriptor(_SqliteDatetime())

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
        if dialect.name == "postgresql":
            return value
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    def process_result_value(self, value, dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return datetime.fromisoformat(value.replace("Z", "+00:00"))


class _SqliteDatetime(UserDefinedType):
    """Declared DATETIME so that GDAL reads the column as a date-time field."""

    cache_ok = True

    def get_col_spec(self, **kw) -> str:
        return "DATETIME"


# GeoPackage names its column types (OGC 12-128r19, table 1): TEXT(n) not VARCHAR(n), and
# FLOAT is 4 bytes there, so an 8-byte float is REAL. GDAL ignores columns of other types.
@compiles(String, "sqlite")
def _gpkg_text(type_, compiler, **kw) -> str:
    return f"TEXT({type_.length})" if type_.length else "TEXT"


@compiles(Float, "sqlite")
def _gpkg_real(type_, compiler, **kw) -> str:
    return "REAL"
