"""Results kept for as long as nothing stored has changed: an LRU tagged with the audit head.

Every change demine makes appends to the audit chain in its own transaction, and the layers
are read-only to other tools, so the chain's head (``audit.head``), read in the same
transaction as the result was computed, says which state of the store a result belongs to.
A result is served only at that head; a newer head empties the cache, unless the caller
``advance``s it, saying which results the changes in between left valid (vector tiles:
``tiles.changes``); a result computed at an older head than the cache's (a reader that began
before a change) is not kept. Keys must
hold whatever else the result depends on, such as the actor's visibility scope
(``permissions.scope_key``). Used for vector tiles (``tiles.cache``) and OGC API counts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class AuditHeadCache(Generic[V]):
    """Values valid for one head of the audit chain, within ``budget`` (the sum of ``cost``
    of the values kept; the least recently used go first)."""

    def __init__(self, budget: int, cost: Callable[[V], int] = lambda value: 1):
        self.budget, self.cost = budget, cost
        self.hits = self.misses = 0
        self._values: OrderedDict[tuple, tuple[V, int]] = OrderedDict()
        self._head: int | None = None
        self._spent = 0
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """Whether anything is kept at all."""
        return self.budget > 0

    def get(self, head: int, key: tuple, *, tally: bool = True) -> V | None:
        """The value kept at ``head`` under ``key``, or None; counted as a hit or a miss
        unless the caller looks further first (and calls ``tally`` itself)."""
        with self._lock:
            found = self._values.get(key) if head == self._head else None
            if found is not None:
                self._values.move_to_end(key)
        if tally:
            self.tally(found is not None)
        return None if found is None else found[0]

    def tally(self, hit: bool) -> None:
        """Count one lookup as a hit or a miss."""
        with self._lock:
            if hit:
                self.hits += 1
            else:
                self.misses += 1

    def advance(self, head: int, stale: Callable[[tuple], bool] | None = None) -> list[tuple]:
        """Move to ``head``, a newer one, keeping the values ``stale`` says are still valid
        there (none without it); the keys dropped. Nothing happens at an older head."""
        with self._lock:
            if self._head is not None and head <= self._head:
                return []
            if stale is None or self._head is None:
                dropped = list(self._values)
                self._values.clear()
                self._spent = 0
            else:
                dropped = [key for key in self._values if stale(key)]
                for key in dropped:
                    self._spent -= self._values.pop(key)[1]
            self._head = head
            return dropped

    @property
    def head(self) -> int | None:
        """The head the values were computed at (None before the first)."""
        return self._head

    def put(self, head: int, key: tuple, value: V) -> bool:
        """Keep ``value``, computed at ``head``; whether it was kept."""
        cost = self.cost(value)
        if cost > self.budget:
            return False
        with self._lock:
            if self._head is None or head > self._head:
                self._values.clear()
                self._spent, self._head = 0, head
            elif head < self._head:
                return False
            old = self._values.pop(key, None)
            if old is not None:
                self._spent -= old[1]
            self._values[key] = (value, cost)
            self._spent += cost
            while self._spent > self.budget:
                _, (_, freed) = self._values.popitem(last=False)
                self._spent -= freed
        return True

    def stats(self) -> dict[str, int | None]:
        """Entries, their total cost, hits, misses and the head they were computed at."""
        with self._lock:
            return {"entries": len(self._values), "bytes": self._spent, "hits": self.hits,
                    "misses": self.misses, "head": self._head}
