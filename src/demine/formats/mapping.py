"""Field mappings (YAML) for import: another system's field names and codes → demine's.

    layer: hazards               # target layer
    fields:                      # source field → demine field
      HAZARD_ID: code
      HAZ_TYPE: hazard_type
      ORG: organisation
      DATE_REP: reported_on
      Y: lat                     # lat + lon make a point where the reader found no geometry
      X: lon
    values:                      # per demine field: source code → demine code
      hazard_type: {"Suspected": SHA, "Confirmed": CHA}
      organisation: {"Dekru NGO": HDA}
    defaults: {contamination: ap_mine}   # where the mapped value is missing or blank

Only mapped fields (and defaults) are imported. The mapping is checked before the file is
read: an unknown layer, demine field or demine code is refused with a message saying which.
Source fields are matched exactly, else ignoring case (DBF tools change case). A source value
with no entry in ``values`` is reported — record, source field, value — never guessed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
import yaml

from demine.domain.entities import ENTITIES, Entity
from demine.domain.errors import Invalid, Problem
from demine.domain.validation import coerce_value, field_aliases
from demine.formats.base import Feature

GEOMETRY_TARGETS = ("lat", "lon")
_KEYS = ("layer", "fields", "values", "defaults")
_SPLIT = re.compile(r"[,;]")


@dataclass(frozen=True)
class FieldMapping:
    """A checked mapping: target layer, source → demine field, code tables, defaults."""

    layer: str
    fields: dict[str, str]
    values: dict[str, dict[str, str]]
    defaults: dict[str, Any]

    def apply(self, layers: dict[str, list[Feature]], target: str | None
              ) -> dict[str, list[Feature]]:
        """The file's one layer as demine features of ``self.layer``; Invalid lists every
        source value the mapping cannot translate."""
        if target not in (None, self.layer):
            raise Invalid(Problem("mapping", "layer", f"the mapping imports into {self.layer}"
                                  f" but --layer names {target}"))
        if len(layers) != 1:
            raise Invalid(Problem("file", "layer", "a mapping applies to a file with one "
                                  f"layer; this one has {len(layers)} ({', '.join(layers)})"))
        features = next(iter(layers.values()))
        self._check_columns(features)
        mapped, problems = [], []
        for feature in features:
            result, found = self._map(feature)
            mapped.append(result)
            problems += found
        if problems:
            raise Invalid(problems)
        return {self.layer: mapped}

    def _check_columns(self, features: list[Feature]) -> None:
        present = {key.lower() for f in features for key in f.properties}
        own_geometry = any(f.geometry is not None or f.geometry_error for f in features)
        missing = [s for s, t in self.fields.items() if s.lower() not in present
                   and not (own_geometry and t in GEOMETRY_TARGETS)]
        if features and missing:
            raise Invalid([Problem("file", s, "the mapping names this source field but the "
                                   "file has no such field") for s in missing])

    def _map(self, feature: Feature) -> tuple[Feature, list[Problem]]:
        source = feature.properties
        by_lower = {key.lower(): key for key in source}
        props: dict[str, Any] = {}
        unknown: list[tuple[str, str]] = []  # (source field, reason)
        for name, target in self.fields.items():
            key = name if name in source else by_lower.get(name.lower())
            value = source.get(key) if key is not None else None
            if _blank(value):
                continue
            props[target], missing = self._translate(target, value)
            if missing is not None:
                unknown.append((name, f"unknown value {missing!r} for {target}: no entry in "
                                      f"the mapping's values.{target}"))
        for name, value in self.defaults.items():
            if _blank(props.get(name)):
                props[name] = value
        ref = feature.ref
        if _blank(source.get("code")) and not _blank(props.get("code")):
            ref = f"{ref} ({props['code']})"
        geometry, error = feature.geometry, feature.geometry_error
        lat, lon = props.pop("lat", None), props.pop("lon", None)
        if geometry is None and error is None and not (_blank(lat) and _blank(lon)):
            geometry, error = _point(lat, lon)
        return Feature(ref, props, geometry, error), [Problem(ref, f, r) for f, r in unknown]

    def _translate(self, target: str, value: Any) -> tuple[Any, Any]:
        """(demine value, None), or (value, the source code with no entry)."""
        table = self.values.get(target)
        if table is None:
            return value, None
        field = ENTITIES[self.layer].field(field_aliases(ENTITIES[self.layer]).get(target, ""))
        items = [s for s in _SPLIT.split(str(value)) if s.strip()] \
            if field is not None and field.kind == "codes" else [value]
        out = []
        for item in items:
            code = _lookup(table, item)
            if code is None:
                return value, _text(item)
            out.append(code)
        return ",".join(out), None


def load_mapping(path: Path) -> FieldMapping:
    """Read and check a YAML mapping file; Invalid says what is wrong with it."""
    where = f"mapping {Path(path).name}"
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Invalid(Problem(where, "-", "no such file")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(Problem(where, "-", f"cannot read the file: {exc}")) from None
    except yaml.YAMLError as exc:
        reason = " ".join(str(exc).split())
        raise Invalid(Problem(where, "-", f"not valid YAML: {reason}")) from None
    return parse_mapping(data, where=where)


def parse_mapping(data: Any, *, where: str = "mapping") -> FieldMapping:
    """A FieldMapping from parsed YAML, or Invalid naming each unknown layer, field or code."""
    if not isinstance(data, dict):
        raise Invalid(Problem(where, "-", "expected a mapping with layer, fields, values, "
                              "defaults"))
    problems = [Problem(where, str(k), f"unknown key (expected: {', '.join(_KEYS)})")
                for k in data if k not in _KEYS]
    layer = data.get("layer")
    if layer not in ENTITIES:
        problems.append(Problem(where, "layer", f"unknown layer {layer!r} "
                                f"(known: {', '.join(ENTITIES)})"))
        raise Invalid(problems)
    ent = ENTITIES[layer]
    known = {"code", *field_aliases(ent), *GEOMETRY_TARGETS}
    fields = _table(data.get("fields"), "fields", where, problems)
    targets: dict[str, str] = {}
    for source, target in fields.items():
        if target not in known:
            problems.append(Problem(where, f"fields.{source}", _unknown_field(target, ent)))
        elif target in targets:
            problems.append(Problem(where, f"fields.{source}", f"{targets[target]} already "
                                    f"maps to {target}"))
        targets.setdefault(target, source)
    values: dict[str, dict[str, str]] = {}
    for target, table in _table(data.get("values"), "values", where, problems).items():
        if target not in targets:
            reason = _unknown_field(target, ent) if target not in known else \
                "no source field maps to it"
            problems.append(Problem(where, f"values.{target}", reason))
            continue
        codes = _table(table, f"values.{target}", where, problems)
        values[target] = {_text(k): _checked(ent, target, v, f"values.{target}.{k}", where,
                                             problems) for k, v in codes.items()}
    defaults = _table(data.get("defaults"), "defaults", where, problems)
    for target, value in defaults.items():
        if target not in known or target in GEOMETRY_TARGETS:
            problems.append(Problem(where, f"defaults.{target}", _unknown_field(target, ent)))
        else:
            _checked(ent, target, value, f"defaults.{target}", where, problems)
    if problems:
        raise Invalid(problems)
    return FieldMapping(layer, {str(k): str(v) for k, v in fields.items()}, values, defaults)


def _table(value: Any, name: str, where: str, problems: list[Problem]) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(Problem(where, name, "expected a mapping of key: value"))
        return {}
    return value


def _unknown_field(target: Any, ent: Entity) -> str:
    names = ", ".join(sorted({"code", *field_aliases(ent)}))
    return f"{ent.name} has no field {target!r} (fields: {names}; lat, lon for a point)"


def _checked(ent: Entity, target: str, value: Any, name: str, where: str,
             problems: list[Problem]) -> Any:
    """The demine value, checked against the field's vocabulary or type where it has one."""
    field = ent.field(field_aliases(ent).get(target, ""))
    if field is None or field.kind == "ref":
        return _text(value)  # codes and references are resolved at import
    try:
        coerce_value(field, value)
    except ValueError as exc:
        problems.append(Problem(where, name, str(exc)))
    return _text(value) if field.kind in ("code", "codes") else value


def _lookup(table: dict[str, str], value: Any) -> str | None:
    key = _text(value)
    if key in table:
        return table[key]
    folded = {k.casefold(): v for k, v in table.items()}
    return folded.get(key.casefold())


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _point(lat: Any, lon: Any):
    try:
        return shapely.Point(float(lon), float(lat)), None
    except (TypeError, ValueError):
        return None, f"latitude {lat!r} / longitude {lon!r} is not a pair of numbers"
