"""Made vector tiles, kept until a change touches them.

A map asks for the same tiles again and again: each pan and zoom of each user repeats the tiles
around the area being worked on. Making a tile costs from a millisecond (zoom 14) to seconds
(zoom 8 of a national store: some 50,000 hazards simplified and clipped), so the server keeps
what it made:

- keyed by layer, z/x/y and the actor's visibility scope (``permissions.scope_key``): actors
  who see the same rows share entries, and an entry is never served across scopes;
- valid at one head of the audit chain, read in the same transaction before the tile is made.
  When a reader sees a newer head, the cache moves to it and drops the tiles that the changes
  in between touched (``changes``: database triggers log the bounds of every row written
  and every grant); the rest stay valid. Without that log (``changes`` not given) a new head
  empties it. A tile made at an older head than the cache's is not kept;
- within a budget in bytes (``DEMINE_TILE_CACHE_MB``, 0 turns it off): in memory, the least
  recently used tiles go first;
- in memory per process and, when the server runs several workers, also in one SQLite file
  per store they share (``DEMINE_TILE_CACHE_DIR``; unset, `demine serve` makes a folder for
  the run and removes it), so a tile one worker made (or is making: a claim in the file) is
  not made again by the others. A folder that is set outlives the server: the file notes the
  audit entry it is valid at, checked by the next server. It holds copies only: losing it
  loses nothing;
- remade in the background after a change (``reseed``, set by the app): the tiles a change
  dropped are made again at once for the scopes that had asked for them, so the next map to
  pan there finds them made.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from demine.domain.actors import Actor
from demine.services.audit_cache import AuditHeadCache
from demine.services.tiles.changes import EVERYTHING, Changes

ENTRY_OVERHEAD = 200  # bytes a cached entry costs besides its content (key, object, links)
SCOPES_REMEMBERED = 1_000
MAKING_WAIT = 60.0  # seconds a request waits for a tile another thread is making


@dataclass(frozen=True)
class Tile:
    """An encoded tile (b"" when empty) and its validator (None when empty)."""

    content: bytes
    etag: str | None


Key = tuple  # (layer, z, x, y, scope)
# The changes after a head (its audit entry hash, when a file says what it was), up to the
# reader's head: ``changes.between``.
ChangesSince = Callable[[int | None, str | None], Changes]


class TileCache:
    """Made tiles valid at the newest head of the audit chain seen: a byte-bounded LRU in
    memory, over an optional file shared by the server's workers."""

    def __init__(self, max_bytes: int, shared: Path | None = None,
                 shared_bytes: int | None = None):
        self.max_bytes = max_bytes
        self._memory: AuditHeadCache[Tile] = AuditHeadCache(
            max_bytes, lambda tile: len(tile.content) + ENTRY_OVERHEAD)
        self._shared = (SharedTiles(shared, shared_bytes or max_bytes)
                        if shared and max_bytes > 0 else None)
        self._moving = threading.Lock()
        self._scopes: OrderedDict[str, Actor] = OrderedDict()
        self._making: dict[Key, threading.Event] = {}
        self.reseed: Callable[[list[Key]], None] | None = None  # set by the app

    @classmethod
    def from_settings(cls, settings, folder: Path | None = None) -> TileCache:
        """The cache a server (or `demine tiles seed`) keeps: DEMINE_TILE_CACHE_MB in memory,
        and the store's file in ``folder`` (default DEMINE_TILE_CACHE_DIR), if any."""
        return cls(settings.tile_cache_mb * 2**20,
                   shared_file(folder or settings.tile_cache_dir, settings.database_url),
                   settings.tile_cache_file_mb * 2**20)

    @property
    def enabled(self) -> bool:
        """Whether anything is kept at all."""
        return self._memory.enabled

    def get(self, head: int, key: Key, changes: ChangesSince | None = None) -> Tile | None:
        """The tile under ``key`` valid at ``head``, or None. A newer head than the cache's
        moves the cache there first, dropping what ``changes`` says changed (everything
        without it)."""
        self._advance(head, changes)
        found = self._memory.get(head, key, tally=False)
        if found is None and self._shared is not None:
            found = self._shared.get(head, key)  # one another worker made
            if found is not None:
                self._memory.put(head, key, found)
        self._memory.tally(found is not None)
        return found

    def put(self, head: int, key: Key, tile: Tile) -> None:
        """Keep ``tile``, made at ``head``."""
        if self._memory.put(head, key, tile) and self._shared:
            self._shared.put(head, key, tile)

    def _advance(self, head: int, changes: ChangesSince | None) -> None:
        current = self._memory.head
        if current is not None and head <= current:
            return
        with self._moving:  # one reader moves the cache; the others wait for it
            current = self._memory.head
            if current is not None and head <= current:
                return
            found = changes(current, None) if changes and current is not None else EVERYTHING
            dropped = self._memory.advance(head, None if found.everything else
                                           lambda key: found.touches(*key[:4]))
            if self._shared is not None:  # the worker that moves the file remakes its tiles
                dropped = self._shared.advance(head, changes)
            if self.reseed is not None and dropped:
                self.reseed(dropped)

    @contextmanager
    def making(self, head: int, key: Key) -> Iterator[bool]:
        """One maker per tile at a time, in this process and, through the shared file, among
        the server's workers: yields True to the first caller, who makes the tile; the
        others wait until it is done (or MAKING_WAIT) and get False, then look in the cache
        again and make it themselves only if it is not there."""
        with self._moving:
            done = self._making.get(key)
            first = done is None
            if first:
                done = self._making[key] = threading.Event()
        if not first:
            done.wait(MAKING_WAIT)
            yield False
            return
        claimed = self._shared is None or self._shared.claim(key)
        try:
            if not claimed:  # another worker is making it
                self._shared.wait_for(head, key, MAKING_WAIT)
            yield claimed
        finally:
            if claimed and self._shared is not None:
                self._shared.release(key)
            with self._moving:
                del self._making[key]
            done.set()

    def remember(self, scope: str, actor: Actor) -> None:
        """Note who asked under ``scope``: tiles of that scope are remade as that actor."""
        with self._moving:
            self._scopes[scope] = actor
            self._scopes.move_to_end(scope)
            while len(self._scopes) > SCOPES_REMEMBERED:
                self._scopes.popitem(last=False)

    def actor(self, scope: str) -> Actor | None:
        """Who last asked for tiles under ``scope`` (None: nobody this process served)."""
        return self._scopes.get(scope)

    def stats(self) -> dict[str, int | None]:
        """Entries and bytes in memory, hits, misses and the head the entries are valid at."""
        return self._memory.stats()

    @property
    def hits(self) -> int:
        """Tiles served without making them."""
        return self._memory.hits


def shared_file(folder: Path | None, database_url: str) -> Path | None:
    """The file in ``folder`` (DEMINE_TILE_CACHE_DIR) holding one store's tiles."""
    if folder is None:
        return None
    return Path(folder) / f"tiles-{hashlib.sha256(database_url.encode()).hexdigest()[:16]}.sqlite"


class SharedTiles:
    """Tiles in a SQLite file the worker processes of one server share, valid at the head
    the file was last moved to. Oldest entries go first when over budget. Copies only:
    durability is not needed, and any error of the file only means making the tile."""

    def __init__(self, path: Path, max_bytes: int):
        self.path, self.max_bytes = path, max_bytes
        self._local = threading.local()
        self._checked = False  # whether this process checked the file's head against the store
        with self._connection() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS tiles (layer TEXT NOT NULL, z INTEGER NOT "
                         "NULL, x INTEGER NOT NULL, y INTEGER NOT NULL, scope TEXT NOT NULL, "
                         "content BLOB NOT NULL, etag TEXT, UNIQUE (layer, z, x, y, scope))")
            conn.execute("CREATE TABLE IF NOT EXISTS made (head INTEGER NOT NULL, "
                         "bytes INTEGER NOT NULL, head_hash TEXT)")
            conn.execute("CREATE TABLE IF NOT EXISTS making (layer TEXT NOT NULL, z INTEGER "
                         "NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL, scope TEXT NOT "
                         "NULL, since REAL NOT NULL, PRIMARY KEY (layer, z, x, y, scope))")
            if conn.execute("SELECT count(*) FROM made").fetchone()[0] == 0:
                conn.execute("INSERT INTO made VALUES (-1, 0, NULL)")

    def _connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=5, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=OFF")
            self._local.conn = conn
        return conn

    def claim(self, key: Key) -> bool:
        """Whether this worker may make the tile: no other worker is making it (a claim
        older than MAKING_WAIT is from a worker that died). True when the file fails."""
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM making WHERE since < ?", (time.time() - MAKING_WAIT,))
            taken = conn.execute("INSERT OR IGNORE INTO making VALUES (?, ?, ?, ?, ?, ?)",
                                 (*key, time.time())).rowcount == 1
            conn.execute("COMMIT")
            return taken
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return True

    def release(self, key: Key) -> None:
        with suppress(sqlite3.Error):  # else the claim lapses after MAKING_WAIT
            self._connection().execute("DELETE FROM making WHERE layer = ? AND z = ? AND x = ? "
                                       "AND y = ? AND scope = ?", key)

    def wait_for(self, head: int, key: Key, seconds: float) -> None:
        """Until the tile is in the file at ``head``, its maker gave up, or ``seconds``."""
        ends = time.monotonic() + seconds
        while time.monotonic() < ends:
            if self.get(head, key) is not None:
                return
            try:
                if self._connection().execute(
                        "SELECT 1 FROM making WHERE layer = ? AND z = ? AND x = ? AND y = ? "
                        "AND scope = ?", key).fetchone() is None:
                    return
            except sqlite3.Error:
                return
            time.sleep(0.02)

    def get(self, head: int, key: Key) -> Tile | None:
        try:
            row = self._connection().execute(
                "SELECT content, etag FROM tiles WHERE layer = ? AND z = ? AND x = ? AND y = ? "
                "AND scope = ? AND (SELECT head FROM made) = ?", (*key, head)).fetchone()
        except sqlite3.Error:
            return None
        return Tile(bytes(row[0]), row[1]) if row else None

    def advance(self, head: int, changes: ChangesSince | None) -> list[Key]:
        """Move the file to ``head`` unless a worker did already, dropping the tiles the
        changes since the file's head touched; the keys dropped (by this call only)."""
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
            made, size, made_hash = conn.execute(
                "SELECT head, bytes, head_hash FROM made").fetchone()
            if head < made or (head == made and (self._checked or changes is None)):
                conn.execute("ROLLBACK")  # an older reader; or nothing new since we looked
                return []
            found = changes(made, made_hash or "") if changes else EVERYTHING
            self._checked = True
            dropped = self._touched(conn, found)
            for *key, length in dropped:
                conn.execute("DELETE FROM tiles WHERE layer = ? AND z = ? AND x = ? AND y = ? "
                             "AND scope = ?", key)
                size -= length + ENTRY_OVERHEAD
            conn.execute("UPDATE made SET head = ?, bytes = ?, head_hash = ?",
                         (head, max(size, 0), found.head_hash))
            conn.execute("COMMIT")
            return [tuple(key) for *key, _ in dropped]
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            return []

    @staticmethod
    def _touched(conn: sqlite3.Connection, found: Changes) -> list[tuple]:
        columns = "SELECT layer, z, x, y, scope, length(content) FROM tiles"
        if found.everything:
            return conn.execute(columns).fetchall()
        touched = []
        for layer in found.layers:
            zooms = [z for (z,) in conn.execute("SELECT DISTINCT z FROM tiles WHERE layer = ?",
                                                (layer,))]
            if found.layers[layer] is None:
                touched += conn.execute(f"{columns} WHERE layer = ?", (layer,)).fetchall()
                continue
            for z in zooms:
                for x0, x1, y0, y1 in set(found.ranges(layer, z)):
                    touched += conn.execute(
                        f"{columns} WHERE layer = ? AND z = ? AND x BETWEEN ? AND ? AND y "
                        "BETWEEN ? AND ?", (layer, z, x0, x1, y0, y1)).fetchall()
        return list({row[:5]: row for row in touched}.values())

    def put(self, head: int, key: Key, tile: Tile) -> None:
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
            made, size = conn.execute("SELECT head, bytes FROM made").fetchone()
            if head != made:  # made before the file moved on, or before it caught up
                conn.execute("ROLLBACK")
                return
            old = conn.execute("SELECT length(content) FROM tiles WHERE layer = ? AND z = ? "
                               "AND x = ? AND y = ? AND scope = ?", key).fetchone()
            size += len(tile.content) + ENTRY_OVERHEAD - (old[0] + ENTRY_OVERHEAD if old else 0)
            conn.execute("INSERT OR REPLACE INTO tiles VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (*key, tile.content, tile.etag))
            while size > self.max_bytes:
                oldest = conn.execute("SELECT rowid, length(content) FROM tiles ORDER BY "
                                      "rowid LIMIT 1").fetchone()
                conn.execute("DELETE FROM tiles WHERE rowid = ?", (oldest[0],))
                size -= oldest[1] + ENTRY_OVERHEAD
            conn.execute("UPDATE made SET bytes = ?", (size,))
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
