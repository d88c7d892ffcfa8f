"""What every format reads and writes: features, layers, limits, and the Format shape."""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from shapely.geometry.base import BaseGeometry

from demine.domain.errors import Invalid, Problem

KINDS = ("text", "int", "float", "date", "datetime", "bool")

# Decoding in slices keeps the UTF-8 check at a few MB of memory for a file of any size.
_CHUNK = 1 << 22


@dataclass
class Feature:
    """One record read from a file: its properties, its geometry, or why the geometry failed."""

    ref: str
    properties: dict[str, Any]
    geometry: BaseGeometry | None = None
    geometry_error: str | None = None


@dataclass
class LayerData:
    """One layer to write: typed columns, rows, and one geometry (or None) per row."""

    name: str
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    geometries: list[BaseGeometry | None] = field(default_factory=list)
    geometry_type: str | None = None

    def __post_init__(self) -> None:
        if not self.geometries:
            self.geometries = [None] * len(self.rows)
        if len(self.geometries) != len(self.rows):
            raise ValueError(f"layer {self.name}: {len(self.rows)} rows but "
                             f"{len(self.geometries)} geometries")
        for name, kind in self.columns:
            if kind not in KINDS:
                raise ValueError(f"layer {self.name}: column {name} has unknown kind {kind!r}")

    @property
    def has_geometry(self) -> bool:
        """Whether the layer is spatial (a geometry type or at least one geometry)."""
        return self.geometry_type is not None or any(g is not None for g in self.geometries)


@dataclass(frozen=True)
class ReadLimits:
    """How much one import may ask of the server."""

    max_bytes: int = 2_000_000_000
    max_vertices: int = 200_000


class Format(Protocol):
    """A file format: a name, its extensions, a reader and a writer."""

    name: str
    extensions: tuple[str, ...]

    def read(
        self, path: Path, *, layer: str | None, limits: ReadLimits
    ) -> dict[str, list[Feature]]:
        """Layer name → features; never raises for one bad geometry."""
        ...

    def write(self, path: Path, layers: list[LayerData]) -> None:
        """Write the layers to ``path``, replacing any file there."""
        ...


def file_problem(reason: str) -> Invalid:
    """An Invalid about the file as a whole."""
    return Invalid(Problem("file", "-", reason))


def record_ref(word: str, number: int, properties: dict[str, Any]) -> str:
    """How a message names a record: "row 12", plus its code when it has one."""
    code = properties.get("code")
    return f"{word} {number} ({code})" if code not in (None, "") else f"{word} {number}"


def check_size(size: int, limits: ReadLimits) -> None:
    """Refuse a file (or the sum of its parts) bigger than the import limit."""
    if size > limits.max_bytes:
        raise file_problem(f"{size} bytes exceeds the import limit of {limits.max_bytes} bytes")


def find_bad_utf8(path: Path) -> tuple[int, int] | None:
    """The (byte offset, line number) of the first byte that is not strict UTF-8, or None."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset, line = 0, 1
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                inside = exc.start - pending  # negative when the fault began in the last slice
                return offset + inside, line + chunk.count(b"\n", 0, max(inside, 0))
            offset += len(chunk)
            line += chunk.count(b"\n")
    pending = len(decoder.getstate()[0])
    return (offset - pending, line) if pending else None


def single_layer(fmt_name: str, layers: list[LayerData]) -> LayerData:
    """The one layer a single-layer format can hold, or an Invalid saying so."""
    if len(layers) != 1:
        names = ", ".join(layer.name for layer in layers) or "none"
        raise file_problem(
            f"a {fmt_name} file holds exactly one layer; got {len(layers)} ({names})"
        )
    return layers[0]


def remove_existing(path: Path, *siblings: str) -> None:
    """Delete an old output file (and its sibling files) so a write never appends."""
    for p in [path, *(path.with_suffix(s) for s in siblings)]:
        if p.is_file():
            p.unlink()


def check_file(path: Path, limits: ReadLimits, size: int | None = None) -> None:
    """Refuse a missing file, or one (whose parts together are) over the byte limit."""
    if not path.is_file():
        raise file_problem(f"no such file: {path.name}")
    check_size(path.stat().st_size if size is None else size, limits)


def pick_layers(available: list[str], layer: str | None) -> list[str]:
    """The layers to read: all of them, or the one asked for if the file has it."""
    if layer is None:
        return available
    if layer not in available:
        raise file_problem(f"no layer '{layer}' (layers: {', '.join(available) or 'none'})")
    return [layer]
