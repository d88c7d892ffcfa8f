"""Query parameters of the items endpoint → a FeatureQuery, the output CRS and the format."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime

from starlette.datastructures import QueryParams
from starlette.requests import Request

from demine.domain.dates import check_query_day
from demine.domain.errors import Invalid, Problem
from demine.services.reads.features import MAX_INT, MAX_LIMIT, FeatureQuery, filterable
from demine.web.ogc import crs as crs_refs

DEFAULT_LIMIT = 10
RESERVED = ("f", "limit", "offset", "bbox", "bbox-crs", "crs", "datetime")
FORMATS = {"json": False, "geojson": False, "html": True}


@dataclass(frozen=True)
class ItemsRequest:
    """A parsed items request."""

    query: FeatureQuery
    crs: str


def wants_html(request: Request) -> bool:
    """HTML when asked by ``f=html`` or, without ``f``, by a browser's Accept header."""
    fmt = request.query_params.get("f")
    if fmt is not None:
        if fmt.lower() not in FORMATS:
            raise Invalid(Problem("request", "f", f"unknown format {fmt!r} (json or html)"))
        return FORMATS[fmt.lower()]
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "json" not in accept.split("text/html")[0]


def items_request(params: QueryParams, layer: str, allowed_crs: list[str]) -> ItemsRequest:
    """The page, filters and CRS an items request asks for; Invalid names a bad parameter."""
    names = filterable(layer)
    unknown = [k for k in params if k not in RESERVED and k not in names]
    if unknown:
        raise Invalid([Problem("request", k, f"unknown parameter (filterable properties of "
                                             f"{layer}: {', '.join(names)})") for k in unknown])
    limit = min(_whole(params.get("limit"), "limit", DEFAULT_LIMIT, minimum=1), MAX_LIMIT)
    offset = _whole(params.get("offset"), "offset", 0, minimum=0)
    output = crs_refs.check(params.get("crs"), allowed_crs, "crs")
    bbox_crs = crs_refs.check(params.get("bbox-crs"), allowed_crs, "bbox-crs")
    query = FeatureQuery(
        bbox=_bbox(params.get("bbox"), bbox_crs),
        datetime=_interval(params.get("datetime")),
        properties=tuple((k, v) for k, v in params.items() if k in names),
        limit=limit, offset=offset,
    )
    return ItemsRequest(query, output)


def _whole(value: str | None, name: str, default: int, *, minimum: int) -> int:
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise Invalid(Problem("request", name, f"expected a whole number, got {value!r}")) from None
    if number < minimum or number > MAX_INT:
        raise Invalid(Problem("request", name, f"must be between {minimum} and {MAX_INT}"))
    return number


def _bbox(value: str | None, uri: str) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) not in (4, 6) or not all(math.isfinite(v) for v in numbers):
        raise Invalid(Problem("request", "bbox", "expected 4 (or 6) numbers: lower corner, "
                                                 "upper corner, in the axis order of bbox-crs"))
    return crs_refs.bbox_to_lonlat(numbers, uri)


def _interval(value: str | None) -> tuple[date | None, date | None] | None:
    if value is None:
        return None
    parts = value.split("/")
    if len(parts) == 1:
        day = _instant(parts[0])
        return day, day
    if len(parts) != 2 or all(p in ("", "..") for p in parts):
        raise Invalid(Problem("request", "datetime", "expected an instant or an interval "
                                                     "start/end (open ends as ..)"))
    start, end = (None if p in ("", "..") else _instant(p) for p in parts)
    if start and end and start > end:
        raise Invalid(Problem("request", "datetime", "the interval ends before it starts"))
    return start, end


def _instant(text: str) -> date:
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
        else:
            moment = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
            day = (moment.astimezone(UTC) if moment.tzinfo else moment).date()
    except (ValueError, OverflowError):
        reason = f"bad instant {text!r}: expected RFC 3339 (2025-03-01 or 2025-03-01T00:00:00Z)"
        raise Invalid(Problem("request", "datetime", reason)) from None
    return check_query_day(day, "datetime")
