"""The one list of file formats, and reading or writing a file by its extension or a name."""

from __future__ import annotations

from pathlib import Path

from demine.domain.errors import Invalid, Problem
from demine.formats.base import Feature, Format, LayerData, ReadLimits, file_problem

FORMATS: dict[str, Format] = {}


def register(fmt: Format) -> Format:
    """Add a format to the registry (a new format is a new module that calls this)."""
    FORMATS[fmt.name] = fmt
    return fmt


def by_name(name: str) -> Format:
    """The format called ``name`` (e.g. "gpkg", "geojson", "shp", "kml", "csv")."""
    try:
        return FORMATS[name.lower()]
    except KeyError:
        raise Invalid(
            Problem("format", "-", f"unknown format '{name}' (supported: {', '.join(FORMATS)})")
        ) from None


def for_path(path: Path | str) -> Format:
    """The format of a file, by its extension, case-insensitively."""
    name = Path(path).name.lower()
    matches = [
        (len(ext), fmt) for fmt in FORMATS.values() for ext in fmt.extensions if name.endswith(ext)
    ]
    if matches:
        return max(matches, key=lambda m: m[0])[1]
    suffix = Path(path).suffix or "(none)"
    supported = ", ".join(ext for fmt in FORMATS.values() for ext in fmt.extensions)
    raise file_problem(f"unsupported file type '{suffix}' (supported: {supported})")


def read(
    path: Path | str, *, layer: str | None = None, limits: ReadLimits = ReadLimits()
) -> dict[str, list[Feature]]:
    """Read a file in whichever registered format its extension names: layer → features."""
    return for_path(path).read(Path(path), layer=layer, limits=limits)


def write(path: Path | str, layers: list[LayerData], *, format: str | None = None) -> None:
    """Write layers to a file in the named format, or the one its extension names."""
    fmt = by_name(format) if format else for_path(path)
    fmt.write(Path(path), layers)


def write_layers(out: Path | str, layers: list[LayerData], fmt: Format) -> list[Path]:
    """Write to ``out``; a one-layer format given several layers writes one file per layer
    into the folder ``out``. Returns the files written."""
    out = Path(out)
    holds_many = fmt.name in ("gpkg", "xlsx") or (fmt.name == "shp"
                                                   and out.suffix.lower() == ".zip")
    if len(layers) == 1 and not out.is_dir() or holds_many:
        fmt.write(out, layers)
        return [out]
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for layer in layers:
        path = out / f"{layer.name}{fmt.extensions[0]}"
        fmt.write(path, [layer])
        written.append(path)
    return written
