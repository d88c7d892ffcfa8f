"""A file naming one record twice: refused, since the last copy would silently win."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from demine.domain.entities import entity
from demine.domain.errors import Problem
from demine.formats.base import Feature


def repeated_keys(plan: dict[str, list[Feature]]) -> tuple[list[Problem], set[int]]:
    """One Problem per code (per activity, for land releases) found on several features of a
    layer, naming them all; and the ids of the features after the first of each."""
    problems, later = [], set()
    for layer, features in plan.items():
        field = "activity" if layer == "land_releases" else "code"
        seen: dict[str, list[Feature]] = defaultdict(list)
        for feature in features:
            key = _key(feature.properties, field)
            if key is not None:
                seen[key].append(feature)
        for key, copies in seen.items():
            if len(copies) > 1:
                problems.append(_problem(layer, field, key, copies))
                later.update(id(f) for f in copies[1:])
    return problems, later


def _key(properties: dict[str, Any], field: str) -> str | None:
    value = properties.get(field)
    if value in (None, "") and field == "activity":
        value = properties.get("activity_id")
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    return text or None


def _problem(layer: str, field: str, key: str, copies: list[Feature]) -> Problem:
    where = [f.ref.split(" (")[0].rpartition(" ") for f in copies]  # "feature 3" → (word, n)
    words = {word for word, _, _ in where}
    numbers = [n for _, _, n in where]
    if len(words) == 1:
        listed = f"{words.pop()}s {_and(numbers)}"
    else:
        listed = _and([f"{w} {n}" for w, _, n in where])
    label = "land release of activity" if layer == "land_releases" else entity(layer).label
    times = "twice" if len(copies) == 2 else f"{len(copies)} times"
    return Problem(f"{label} {key} ({listed})", field, f"appears {times} in the file")


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"
