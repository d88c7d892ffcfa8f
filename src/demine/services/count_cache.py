"""How many features a query matches, kept for as long as nothing stored has changed.

Each page of an OGC API items response says how many features match in all
(``numberMatched``), and a client paging through a result, or a map asking for the same view
again, repeats the same count for every page: on a national store counting the finds in a
box of 0.3° is a scan of some 57,000 rows (70-100 ms on PostGIS), where the page itself
takes 5 ms. Counts are therefore kept per process, keyed by layer, the actor's visibility
scope (``permissions.scope_key``) and the query without its paging, and tagged with the audit
chain's head, as tiles are (see ``tile_cache``): any change makes every count stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict


class CountCache:
    """An LRU of ``max_entries`` counts, valid for one head of the audit chain."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self.hits = self.misses = 0
        self._counts: OrderedDict[tuple, int] = OrderedDict()
        self._head: int | None = None
        self._lock = threading.Lock()

    def get(self, head: int, key: tuple) -> int | None:
        """The count made at ``head`` for ``key``, or None."""
        with self._lock:
            found = self._counts.get(key) if head == self._head else None
            if found is None:
                self.misses += 1
                return None
            self._counts.move_to_end(key)
            self.hits += 1
            return found

    def put(self, head: int, key: tuple, count: int) -> None:
        """Keep ``count``, made at ``head`` (not when older than the counts kept)."""
        if self.max_entries <= 0:
            return
        with self._lock:
            if self._head is None or head > self._head:
                self._counts.clear()
                self._head = head
            elif head < self._head:
                return
            self._counts[key] = count
            self._counts.move_to_end(key)
            while len(self._counts) > self.max_entries:
                self._counts.popitem(last=False)
