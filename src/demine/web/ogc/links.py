"""Links between the OGC API resources: absolute URLs from the request's base."""

from __future__ import annotations

from starlette.requests import Request

from demine.domain.errors import NotFound
from demine.web.ogc.spec import COLLECTIONS, GEOJSON, HTML, JSON, Collection

MAX_ID = 2**31 - 1


def root(request: Request) -> str:
    """The landing page's URL."""
    return str(request.base_url).rstrip("/") + "/ogc"


def link(href: str, rel: str, type_: str | None = None, title: str | None = None) -> dict:
    """One link object."""
    out = {"href": href, "rel": rel}
    if type_:
        out["type"] = type_
    if title:
        out["title"] = title
    return out


def formats(href: str, json_type: str = JSON, title: str = "") -> list[dict]:
    """self (JSON) and alternate (HTML) links of a resource at ``href`` (no query)."""
    return [link(href, "self", json_type, f"{title} as JSON".strip()),
            link(f"{href}?f=html", "alternate", HTML, f"{title} as HTML".strip())]


def with_query(request: Request, **params) -> str:
    """The request's own URL with some query parameters replaced."""
    return str(request.url.include_query_params(**params))


def collection_of(collection_id: str) -> Collection:
    """The published collection called ``collection_id`` (NotFound otherwise)."""
    found = COLLECTIONS.get(collection_id)
    if found is None:
        raise NotFound(f"no collection {collection_id!r}")
    return found


def record_id(feature_id: str) -> int:
    """A feature id as the record id it is (NotFound when it cannot be one)."""
    if not feature_id.isdigit() or not 0 < int(feature_id) <= MAX_ID:
        raise NotFound(f"no feature {feature_id!r}")
    return int(feature_id)


def items_links(request: Request, collection: str, offset: int, limit: int,
                total: int) -> list[dict]:
    """self, alternate, next/prev and collection links of a page of items."""
    base = f"{root(request)}/collections/{collection}"
    links = [link(with_query(request, f="json"), "self", GEOJSON, "this page as GeoJSON"),
             link(with_query(request, f="html"), "alternate", HTML, "this page as HTML")]
    if offset + limit < total:
        links.append(link(with_query(request, offset=offset + limit, limit=limit), "next",
                          GEOJSON, "next page"))
    if offset > 0:
        links.append(link(with_query(request, offset=max(offset - limit, 0), limit=limit),
                          "prev", GEOJSON, "previous page"))
    links.append(link(base, "collection", JSON, "the collection"))
    return links
