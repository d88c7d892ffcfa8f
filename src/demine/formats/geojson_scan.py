"""Vertices per feature of a GeoJSON FeatureCollection, counted from the bytes in slices.

GDAL refuses a feature past its object size estimate without naming it, and parsing one
costs some hundred times its size in memory; this finds such features first, so they can be
named and left out of GDAL's read.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_CHUNK = 1 << 20  # a slice costs about 40 bytes of arrays per byte
_WS = np.frombuffer(b" \t\r\n", np.uint8)
_NUMBER_START = np.frombuffer(b"0123456789-+.NI", np.uint8)  # NI: NaN, Infinity
_KEY = re.compile(rb'"([^"\\]{1,40})"\s*:\s*$')
_BACKSLASH, _QUOTE, _OPEN, _CLOSE = 92, 34, (91, 123), (93, 125)


@dataclass
class Oversized:
    """A feature (0-based position) with more vertices than allowed, and its geometry bytes."""

    index: int
    vertices: int
    start: int
    end: int  # exclusive


@dataclass
class _State:
    depth: int = 0
    in_string: bool = False
    trailing_backslashes: int = 0
    pending_bracket: bool = False
    level1: int = 0
    feature: int = -1
    in_feature: bool = False
    count: int = 0
    member: bytes | None = None
    geometry: tuple[int, int] | None = None
    tail: bytes = b""


def oversized_features(path: Path, max_vertices: int) -> list[Oversized]:
    """The features whose position arrays outnumber ``max_vertices``, in a few MB of memory."""
    state, found, base = _State(), [], 0
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            found += _scan(chunk, base, state, max_vertices)
            state.tail = chunk[-96:]
            base += len(chunk)
    return found


def _scan(chunk: bytes, base: int, s: _State, limit: int) -> list[Oversized]:
    b = np.frombuffer(chunk, np.uint8)
    quotes = _unescaped_quotes(b, s)
    toggles = np.zeros(len(b), np.uint8)
    toggles[quotes] = 1
    inside = np.bitwise_xor.accumulate(toggles) ^ np.uint8(s.in_string)
    s.in_string = bool(inside[-1])
    outside = inside == 0
    opens = ((b == _OPEN[0]) | (b == _OPEN[1])) & outside
    closes = ((b == _CLOSE[0]) | (b == _CLOSE[1])) & outside
    delta = opens.astype(np.int32) - closes.astype(np.int32)
    after = s.depth + np.cumsum(delta, dtype=np.int32)
    before = after - delta
    s.depth = int(after[-1])
    positions = _positions(b, (b == _OPEN[0]) & outside, s)
    events = np.flatnonzero((opens & (before <= 3)) | (closes & (after <= 3)))
    found, mark = [], 0
    for i in events.tolist():
        char, depth = int(b[i]), int(before[i])
        if char in _OPEN:
            if depth == 1:
                s.level1 = char
            elif depth == 2 and char == _OPEN[1] and s.level1 == _OPEN[0]:
                s.feature, s.in_feature, s.count, s.geometry = s.feature + 1, True, 0, None
                mark = int(np.searchsorted(positions, i))
            elif depth == 3 and s.in_feature:
                window = chunk[max(0, i - 96):i]
                key = _KEY.search(s.tail[-(96 - len(window)):] + window if i < 96 else window)
                s.member = key.group(1) if key else None
                if s.member == b"geometry":
                    s.geometry = (base + i, -1)
        elif int(after[i]) == 3 and s.member == b"geometry" and s.geometry:
            s.geometry, s.member = (s.geometry[0], base + i + 1), None
        elif int(after[i]) == 2 and s.in_feature:
            s.count += int(np.searchsorted(positions, i)) - mark
            s.in_feature = False
            if s.count > limit and s.geometry and s.geometry[1] > 0:
                found.append(Oversized(s.feature, s.count, *s.geometry))
    if s.in_feature:
        s.count += len(positions) - mark
    return found


def _unescaped_quotes(b: np.ndarray, s: _State) -> np.ndarray:
    quotes = np.flatnonzero(b == _QUOTE)
    escaped = [q for q in quotes.tolist() if _backslashes_before(b, q, s) % 2]
    run = len(b) - 1
    while run >= 0 and b[run] == _BACKSLASH:
        run -= 1
    s.trailing_backslashes = len(b) - 1 - run + (s.trailing_backslashes if run < 0 else 0)
    return np.setdiff1d(quotes, escaped, assume_unique=True) if escaped else quotes


def _backslashes_before(b: np.ndarray, q: int, s: _State) -> int:
    n = 0
    while q - n - 1 >= 0 and b[q - n - 1] == _BACKSLASH:
        n += 1
    return n + (s.trailing_backslashes if q - n == 0 else 0)


def _positions(b: np.ndarray, brackets: np.ndarray, s: _State) -> np.ndarray:
    """Offsets of the arrays that hold numbers (positions) in the slice."""
    solid = np.flatnonzero(~np.isin(b, _WS))
    opened = np.flatnonzero(brackets)
    extra = []
    if s.pending_bracket and len(solid) and np.isin(b[solid[0]], _NUMBER_START):
        extra = [0]  # the "[" ended the last slice
    s.pending_bracket = False
    nxt = np.searchsorted(solid, opened + 1)
    if len(opened) and nxt[-1] == len(solid):
        s.pending_bracket, opened, nxt = True, opened[:-1], nxt[:-1]
    numbers = opened[np.isin(b[solid[nxt]], _NUMBER_START)] if len(opened) else opened
    return np.concatenate([np.array(extra, np.int64), numbers]) if extra else numbers


@contextmanager
def without_geometries(path: Path, oversized: list[Oversized]):
    """A temporary copy of the file with those features' geometries null."""
    with tempfile.TemporaryDirectory(prefix="demine-") as folder:
        copy = Path(folder) / path.name
        with path.open("rb") as src, copy.open("wb") as dst:
            done = 0
            for feature in oversized:
                _copy(src, dst, feature.start - done)
                dst.write(b"null")
                src.seek(feature.end)
                done = feature.end
            shutil.copyfileobj(src, dst, _CHUNK)
        yield copy


def _copy(src, dst, size: int) -> None:
    while size > 0:
        data = src.read(min(size, _CHUNK))
        if not data:
            return
        dst.write(data)
        size -= len(data)
