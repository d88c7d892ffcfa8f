"""Turning raw values (JSON, CSV cells, GIS attributes) into typed, checked record values."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from demine.domain.dates import day_problem
from demine.domain.entities import Entity, Field
from demine.domain.errors import Problem


def field_aliases(entity: Entity) -> dict[str, str]:
    """Names accepted for each field: ``organisation`` for ``organisation_id`` and so on."""
    aliases = {f.name: f.name for f in entity.fields}
    for f in entity.ref_fields:
        if f.name.endswith("_id"):
            aliases.setdefault(f.name.removesuffix("_id"), f.name)
    return aliases


def coerce_record(
    entity: Entity, raw: dict[str, Any], *, record: str, partial: bool = False,
    latest: date | None = None,
) -> tuple[dict[str, Any], list[Problem]]:
    """Typed values of the entity's fields found in ``raw`` and the problems met.

    Unknown keys are ignored (``id``, ``code``, geometry and ledger columns are handled by the
    caller). With ``partial`` (an update), missing required fields are not reported. With
    ``latest`` (the unit of work's last acceptable day), dates after it are reported.
    """
    aliases = field_aliases(entity)
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in raw.items():
        name = aliases.get(key)
        if name is None:
            continue
        try:
            values[name] = coerce_value(entity.field(name), value)
        except ValueError as exc:
            problems.append(Problem(record, key, str(exc)))
    problems += _bad_days(entity, values, latest, record)
    if not partial:
        for f in entity.fields:
            if f.required and values.get(f.name) is None and f.name not in _failed(problems):
                problems.append(Problem(record, f.name, "required field is missing"))
    return values, problems


def _bad_days(entity: Entity, values: dict[str, Any], latest: date | None,
              record: str) -> list[Problem]:
    problems = []
    for f in entity.fields:
        day = values.get(f.name)
        if f.kind != "date" or day is None:
            continue
        ahead = f.ahead_when is not None and values.get(f.ahead_when[0]) == f.ahead_when[1]
        reason = day_problem(day, None if ahead else latest)
        if reason and f.ahead_when and reason.endswith("future"):
            reason += f" (only a record with {f.ahead_when[0]} {f.ahead_when[1]} may be)"
        if reason:
            problems.append(Problem(record, f.name, reason))
    return problems


def _failed(problems: list[Problem]) -> set[str]:
    return {p.field for p in problems}


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def coerce_value(f: Field, value: Any) -> Any:
    """One value converted to the field's type; ValueError names what is wrong."""
    if _blank(value):
        return None
    parse = _PARSERS[f.kind]
    result = parse(f, value)
    if f.kind in ("int", "float"):
        if f.minimum is not None and result < f.minimum:
            raise ValueError(f"{result} is below the minimum {f.minimum:g}")
        if f.maximum is not None and result > f.maximum:
            raise ValueError(f"{result} is above the maximum {f.maximum:g}")
    return result


def _text(f: Field, value: Any) -> str:
    text = str(value).strip()
    if len(text) > 10_000:
        raise ValueError("text longer than 10,000 characters")
    return text


def _int(f: Field, value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")
    try:
        number = float(value) if isinstance(value, str) else value
        if isinstance(number, float) and not number.is_integer():
            raise ValueError
        return int(number)
    except (TypeError, ValueError):
        raise ValueError(f"expected a whole number, got {value!r}") from None


def _float(f: Field, value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, got {value!r}")
    return number


def _date(f: Field, value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10]) if len(text) >= 10 else date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"bad date {text!r}: expected YYYY-MM-DD") from None


def _bool(f: Field, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y"):
        return True
    if text in ("0", "false", "no", "n"):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _code(f: Field, value: Any) -> str:
    text = str(value).strip()
    for member in f.vocabulary:
        if text.lower() == member.value.lower():
            return member.value
    known = ", ".join(m.value for m in f.vocabulary)
    raise ValueError(f"unknown code {text!r} (expected one of: {known})")


def _codes(f: Field, value: Any) -> str:
    items = value if isinstance(value, list | tuple) else str(value).replace(";", ",").split(",")
    return ",".join(_code(f, item) for item in items if str(item).strip())


def _ref(f: Field, value: Any) -> int | str:
    if isinstance(value, bool):
        raise ValueError(f"expected an id or a code, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return str(value).strip()


_PARSERS = {
    "text": _text,
    "int": _int,
    "float": _float,
    "date": _date,
    "bool": _bool,
    "code": _code,
    "codes": _codes,
    "ref": _ref,
}
