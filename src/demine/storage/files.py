"""What a store file is, told before SQLite opens it (SQLite would write to an empty file)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from demine.domain.errors import StorageError

SQLITE_HEADER = b"SQLite format 3\x00"
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b", "a gzip archive"),
)


def check_store_file(path: Path, *, existing: bool) -> None:
    """StorageError unless ``path`` is a SQLite file (or, without ``existing``, absent or
    empty, for `demine init` and `demine demo` to create)."""
    if not path.exists():
        if existing:
            raise StorageError(f"{path} does not exist: run `demine init` or `demine demo`")
        return
    if not path.is_file():
        raise StorageError(f"{path} is not a file")
    with path.open("rb") as f:
        head = f.read(len(SQLITE_HEADER))
    if not head:
        if existing:
            raise StorageError(f"{path} is an empty file, not a demine store: run `demine init`")
        return
    if head != SQLITE_HEADER:
        raise StorageError(f"{path} is {_kind(head)}, not a SQLite database (a demine store "
                           "is a GeoPackage: run `demine init` on a new file)")
    if existing and not _has_hazards(path):
        raise StorageError(f"{path} is a SQLite database but not a demine store (no hazards "
                           "table): run `demine init`")


def _has_hazards(path: Path) -> bool:
    # Read-only: opening it through the engine would switch someone else's file to WAL.
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                "AND name = 'hazards'").fetchone() is not None
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{path} cannot be read as a SQLite database: {exc}") from None


def _kind(head: bytes) -> str:
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "a file of another kind"
    return "a text file"
