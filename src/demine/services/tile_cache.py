"""Made vector tiles, kept for as long as nothing stored has changed.

A map asks for the same tiles again and again: each pan and zoom of each user repeats the tiles
around the area being worked on. Making a tile costs from a millisecond (zoom 14) to seconds
(zoom 8 of a national store: some 8,000 hazards simplified and clipped), so the server keeps
what it made:

- keyed by layer, z/x/y and the actor's visibility scope (``permissions.scope_key``): actors
  who see the same rows share entries, and an entry is never served across scopes;
- tagged with the audit chain's head, read in the same transaction before the tile is made
  (``head_cache``): a change empties the cache and tiles are made again;
- within a budget in bytes (``DEMINE_TILE_CACHE_MB``, 0 turns it off): in memory, the least
  recently used tiles go first;
- in memory per process and, when the server runs several workers, also in one SQLite file
  they share (``DEMINE_TILE_CACHE_DIR``, made and removed by `demine serve`), so a tile one
  worker made is not made again by the others. The file holds copies only: losing it loses
  nothing.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

from demine.services.head_cache import HeadCache

ENTRY_OVERHEAD = 200  # bytes a cached entry costs besides its content (key, object, links)


@dataclass(frozen=True)
class Tile:
    """An encoded tile (b"" when empty) and its validator (None when empty)."""

    content: bytes
    etag: str | None


class TileCache:
    """Made tiles valid for one head of the audit chain: a byte-bounded LRU in memory, over
    an optional file shared by the server's workers."""

    def __init__(self, max_bytes: int, shared: Path | None = None):
        self.max_bytes = max_bytes
        self._memory: HeadCache[Tile] = HeadCache(
            max_bytes, lambda tile: len(tile.content) + ENTRY_OVERHEAD)
        self._shared = SharedTiles(shared, max_bytes) if shared and max_bytes > 0 else None

    @property
    def enabled(self) -> bool:
        """Whether anything is kept at all."""
        return self._memory.enabled

    def get(self, head: int, key: tuple) -> Tile | None:
        """The tile made at ``head`` under ``key``, or None."""
        found = self._memory.get(head, key, tally=False)
        if found is None and self._shared is not None:
            found = self._shared.get(head, key)  # one another worker made
            if found is not None:
                self._memory.put(head, key, found)
        self._memory.tally(found is not None)
        return found

    def put(self, head: int, key: tuple, tile: Tile) -> None:
        """Keep ``tile``, made at ``head``."""
        if self._memory.put(head, key, tile) and self._shared:
            self._shared.put(head, key, tile)

    def stats(self) -> dict[str, int | None]:
        """Entries and bytes in memory, hits, misses and the head the entries were made at."""
        return self._memory.stats()

    @property
    def hits(self) -> int:
        """Tiles served without making them."""
        return self._memory.hits


class SharedTiles:
    """Tiles in a SQLite file the worker processes of one server share. Oldest entries go
    first when over budget; a newer head empties it. Copies only: durability is not needed."""

    def __init__(self, path: Path, max_bytes: int):
        self.path, self.max_bytes = path, max_bytes
        self._local = threading.local()
        with self._connection() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS tiles (key TEXT PRIMARY KEY, head INTEGER "
                         "NOT NULL, content BLOB NOT NULL, etag TEXT)")
            conn.execute("CREATE TABLE IF NOT EXISTS made (head INTEGER NOT NULL, "
                         "bytes INTEGER NOT NULL)")
            if conn.execute("SELECT count(*) FROM made").fetchone()[0] == 0:
                conn.execute("INSERT INTO made VALUES (-1, 0)")

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            self._local.conn = conn
        return conn

    @staticmethod
    def _name(key: tuple) -> str:
        return "/".join(map(str, key))

    def get(self, head: int, key: tuple) -> Tile | None:
        try:
            row = self._connection().execute(
                "SELECT content, etag FROM tiles WHERE key = ? AND head = ?",
                (self._name(key), head)).fetchone()
        except sqlite3.Error:
            return None  # a busy or lost cache file only means making the tile
        return Tile(bytes(row[0]), row[1]) if row else None

    def put(self, head: int, key: tuple, tile: Tile) -> None:
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
            made, size = conn.execute("SELECT head, bytes FROM made").fetchone()
            if head < made:
                conn.execute("ROLLBACK")
                return
            if head > made:
                conn.execute("DELETE FROM tiles")
                made, size = head, 0
            old = conn.execute("SELECT length(content) FROM tiles WHERE key = ?",
                               (self._name(key),)).fetchone()
            size += len(tile.content) + ENTRY_OVERHEAD - (old[0] + ENTRY_OVERHEAD if old else 0)
            conn.execute("INSERT OR REPLACE INTO tiles VALUES (?, ?, ?, ?)",
                         (self._name(key), head, tile.content, tile.etag))
            while size > self.max_bytes:
                oldest = conn.execute("SELECT rowid, length(content) FROM tiles ORDER BY "
                                      "rowid LIMIT 1").fetchone()
                conn.execute("DELETE FROM tiles WHERE rowid = ?", (oldest[0],))
                size -= oldest[1] + ENTRY_OVERHEAD
            conn.execute("UPDATE made SET head = ?, bytes = ?", (made, size))
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
