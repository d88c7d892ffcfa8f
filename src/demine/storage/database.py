"""The engine and the unit of work: one transaction per service call."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError

from demine.domain.dates import latest_day
from demine.domain.errors import StorageError
from demine.settings import Settings
from demine.storage import dialect
from demine.storage.files import check_store_file


class UnitOfWork:
    """A connection inside one transaction, with the time the transaction started."""

    def __init__(self, conn: Connection, settings: Settings):
        self.conn = conn
        self.settings = settings
        now = datetime.now(UTC)  # millisecond precision: what GeoPackage DATETIME keeps
        self.now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        self.audit_tail = None  # the audit chain's last entry once this transaction wrote one

    @property
    def is_sqlite(self) -> bool:
        """Whether this is the embedded GeoPackage store."""
        return dialect.is_sqlite(self.conn)

    @property
    def latest_day(self):
        """The last day a record may be dated now (today plus the time-zone tolerance)."""
        return latest_day(self.now, self.settings.future_date_tolerance_days)

    @contextmanager
    def savepoint(self):
        """A nested transaction, rolled back on any exception."""
        nested = self.conn.begin_nested()
        try:
            yield nested
        except BaseException:
            self.rollback(nested)
            raise
        if nested.is_active:
            nested.commit()

    def rollback(self, nested) -> None:
        """Undo a savepoint, and forget the audit tail that may have been written inside it."""
        if nested.is_active:
            nested.rollback()
        self.audit_tail = None


class Database:
    """A demine store: the GeoPackage file or a PostGIS database."""

    def __init__(self, settings: Settings):
        self.settings = settings
        url = settings.database_url
        kwargs = {"future": True}
        if url.startswith("postgresql"):
            kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=10,
                          connect_args={"options": f"-c statement_timeout="
                                                   f"{settings.statement_timeout_ms}"})
        self.engine: Engine = create_engine(url, **kwargs)
        dialect.configure(self.engine, busy_timeout_ms=settings.busy_timeout_ms)

    @property
    def is_sqlite(self) -> bool:
        """Whether this is the embedded GeoPackage store."""
        return dialect.is_sqlite(self.engine)

    @property
    def backend(self) -> str:
        """The kind of store: "geopackage" or "postgis"."""
        return dialect.backend_name(self.engine)

    @property
    def location(self) -> str:
        """Where the store is: the GeoPackage file, or the database URL (password hidden)."""
        return str(self.path) if self.is_sqlite else self.engine.url.render_as_string()

    @property
    def path(self) -> Path | None:
        """The GeoPackage file, for the embedded store."""
        return Path(self.engine.url.database) if self.is_sqlite else None

    @contextmanager
    def transaction(self, *, write: bool = True):
        """One unit of work: commits on success, rolls back on any exception."""
        options = dialect.write_options(self.engine) if write else {}
        with self.engine.connect().execution_options(**options) as conn, conn.begin():
            yield UnitOfWork(conn, self.settings)

    def read(self):
        """A read-only unit of work."""
        return self.transaction(write=False)

    def require_file(self, *, existing: bool) -> None:
        """Fail clearly, before SQLite touches it, when the GeoPackage file is something else
        (or, with ``existing``, absent or empty)."""
        if self.is_sqlite:
            check_store_file(self.path, existing=existing)

    def require_schema(self) -> None:
        """Fail clearly when the store has not been initialised by demine."""
        self.require_file(existing=True)
        try:
            initialised = inspect(self.engine).has_table("hazards")
        except DatabaseError as exc:  # a damaged file behind a SQLite header, say
            reason = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
            raise StorageError(f"{self._name} cannot be read: {reason}") from None
        if not initialised:
            what = f"{self.path} is a SQLite database but" if self.is_sqlite else "this is"
            raise StorageError(f"{what} not a demine store (no hazards table): "
                               "run `demine init`")

    @property
    def _name(self) -> str:
        return str(self.path) if self.is_sqlite else "the database"

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
