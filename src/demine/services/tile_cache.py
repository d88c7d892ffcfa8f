"""Vector tiles kept in memory by one server process for as long as nothing stored has changed.

A map asks for the same tiles again and again: each pan and zoom of each user repeats the tiles
around the area being worked on. Making a tile costs from a millisecond (zoom 14) to about a
second (zoom 8 of a national store: some 8,000 hazards simplified and clipped), so the server
keeps what it made:

- keyed by layer, z/x/y and the actor's visibility scope (``permissions.scope_key``): actors
  who see the same rows share entries, and an entry is never served across scopes;
- tagged with the audit chain's head (``audit.head``), read in the same transaction before the
  tile is made. Every change demine makes appends to the chain in its own transaction, and the
  layers are read-only to other tools, so a new head means any entry may be stale: the cache
  is emptied and tiles are made again;
- within a budget in bytes (``DEMINE_TILE_CACHE_MB``, 0 turns it off): the least recently used
  tiles go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Generic, TypeVar

T = TypeVar("T")
ENTRY_OVERHEAD = 200  # bytes a cached entry costs besides its content (key, object, links)


class TileCache(Generic[T]):
    """A byte-bounded LRU of made tiles, valid for one head of the audit chain."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.hits = self.misses = 0
        self._entries: OrderedDict[tuple, tuple[T, int]] = OrderedDict()
        self._head: int | None = None
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether anything is kept at all."""
        return self.max_bytes > 0

    def get(self, head: int, key: tuple) -> T | None:
        """The tile made at ``head`` under ``key``, or None."""
        with self._lock:
            found = self._entries.get(key) if head == self._head else None
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, head: int, key: tuple, tile: T, size: int) -> None:
        """Keep ``tile`` (``size`` bytes of content), made at ``head``. A tile made at an older
        head than the cache's (a reader that began before a change) is not kept; a newer head
        empties the cache first."""
        cost = size + ENTRY_OVERHEAD
        if cost > self.max_bytes:
            return
        with self._lock:
            if self._head is None or head > self._head:
                self._entries.clear()
                self._bytes, self._head = 0, head
            elif head < self._head:
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (tile, cost)
            self._bytes += cost
            while self._bytes > self.max_bytes:
                _, (_, freed) = self._entries.popitem(last=False)
                self._bytes -= freed

    def stats(self) -> dict[str, int | None]:
        """Entries, bytes, hits, misses and the head the entries were made at."""
        with self._lock:
            return {"entries": len(self._entries), "bytes": self._bytes, "hits": self.hits,
                    "misses": self.misses, "head": self._head}
