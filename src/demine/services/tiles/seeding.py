"""Tiles made ahead of the maps that will ask for them: dropped by a change (in the
background), or seeded for a whole area (`demine tiles seed`).

After an edit the cache drops only the tiles the change touched (``changes``), one or a
few per zoom and scope; those are the tiles around the area being worked on, where maps will
ask next, and at low zooms each costs up to seconds to make. One thread per server process
makes them again, lowest zooms first, as the actor who last asked under each scope, through
the same ``service.get_tile`` a request uses (its own read transaction, the one permission
predicate, the cache's rules on heads). A scope this process never served is skipped; at
most ``DEMINE_TILE_RESEED_MAX`` tiles per change (0: off).
"""

from __future__ import annotations

import logging
import queue
import threading

from demine.services.access.permissions import visible
from demine.services.tiles.cache import Key, TileCache
from demine.services.tiles.grid import covering
from demine.services.tiles.layers import tile_layer
from demine.services.tiles.service import get_tile
from demine.storage import dialect
from demine.storage.database import Database
from demine.storage.tables import table

log = logging.getLogger(__name__)


class Reseeder:
    """A background thread making dropped tiles again."""

    def __init__(self, database: Database, cache: TileCache, most: int):
        self.database, self.cache, self.most = database, cache, most
        self.made = 0
        self._queue: queue.SimpleQueue[Key | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._idle = threading.Event()
        self._idle.set()

    def __call__(self, dropped: list[Key]) -> None:
        """Queue the tiles ``dropped`` (called by the cache as it moves to a newer head)."""
        known = [key for key in dropped if self.cache.actor(key[4]) is not None]
        if not known or self.most <= 0:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="tile-reseed",
                                                daemon=True)
                self._thread.start()
            for key in sorted(known, key=lambda k: k[1])[: self.most]:
                self._queue.put(key)
            self._idle.clear()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every queued tile is made (tests, benchmarks); whether it was."""
        return self._idle.wait(timeout)

    def stop(self) -> None:
        """Finish the thread (the app's shutdown)."""
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join(timeout=30)
                self._thread = None

    def _run(self) -> None:
        while True:
            key = self._queue.get()
            if key is None:
                return
            layer, z, x, y, scope = key
            actor = self.cache.actor(scope)
            try:
                if actor is not None:
                    with self.database.read() as uow:
                        get_tile(uow, actor=actor, layer=layer, z=z, x=x, y=y, cache=self.cache)
                    self.made += 1
            except Exception:  # a request will make the tile; nothing is lost
                log.exception("remaking tile %s/%s/%s/%s", layer, z, x, y)
            if self._queue.empty():
                self._idle.set()


def seed(database: Database, cache: TileCache, actor, *, layers: list[str], zooms: list[int],
         progress=lambda done, total: None) -> dict[str, int]:
    """Make every tile of ``layers`` at ``zooms`` over what ``actor`` sees (the bounds of
    their records per layer), into ``cache``: what a map of that actor's scope would make
    on first asking. Returns tiles made, tiles with data and their bytes."""
    todo = []
    with database.read() as uow:
        for layer in layers:
            spec = tile_layer(layer)  # NotFound naming the layers
            t = table(layer)
            bounds = dialect.envelope(uow.conn, t, visible(actor, t))
            if bounds is None:
                continue
            todo += [(layer, z, x, y) for z in zooms if z >= spec.minzoom
                     for x, y in covering(bounds, z)]
    seeded = {"tiles": 0, "with_data": 0, "bytes": 0}
    for n, (layer, z, x, y) in enumerate(todo, 1):
        with database.read() as uow:
            tile = get_tile(uow, actor=actor, layer=layer, z=z, x=x, y=y, cache=cache)
        seeded["tiles"] += 1
        seeded["with_data"] += bool(tile.content)
        seeded["bytes"] += len(tile.content)
        progress(n, len(todo))
    return seeded
