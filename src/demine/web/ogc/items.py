"""Reading features: /ogc/collections/{collectionId}/items[/{featureId}], and OPTIONS on both."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from demine.services.reads import features
from demine.services.records import crud as record_service
from demine.web.api.serialise import etag
from demine.web.deps import ActorDep, DatabaseDep
from demine.web.ogc import crs as crs_refs
from demine.web.ogc import html
from demine.web.ogc.geojson import GeoJSONResponse, feature, feature_texts
from demine.web.ogc.links import collection_of, items_links, link, record_id, root
from demine.web.ogc.params import items_request, wants_html
from demine.web.ogc.spec import GEOJSON, HTML, JSON

router = APIRouter()


def content_crs(uri: str) -> dict[str, str]:
    """The Content-Crs header of a response in ``uri`` (OGC API - Features Part 2)."""
    return {"Content-Crs": f"<{uri}>"}


@router.api_route("/collections/{collection_id}/items", methods=["GET", "HEAD"])
def get_items(collection_id: str, request: Request, actor: ActorDep,
              database: DatabaseDep) -> Response:
    """A page of features the caller may see: bbox, datetime and property filters, any CRS."""
    found = collection_of(collection_id)
    as_html = wants_html(request)
    with database.read() as uow:
        allowed = crs_refs.supported(features.region_bounds(uow, actor=actor))
        asked = items_request(request.query_params, found.id, allowed)
        rows, total = features.list_features(
            uow, actor=actor, layer=found.id, query=asked.query,
            geometry_text=not as_html and asked.crs == crs_refs.CRS84,
            counts=request.app.state.count_cache)
        codes = features.organisation_codes(uow)
    query = asked.query
    body = {"type": "FeatureCollection",
            "features": [feature(row, codes, asked.crs) for row in rows] if as_html
            else feature_texts(rows, codes, asked.crs),
            "numberMatched": total, "numberReturned": len(rows),
            "timeStamp": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "links": items_links(request, found.id, query.offset, query.limit, total)}
    if as_html:
        return _items_page(request, found.title, body)
    return GeoJSONResponse(body, headers=content_crs(asked.crs))


def _items_page(request: Request, title: str, body: dict) -> Response:
    base = root(request)
    collection = request.path_params["collection_id"]
    names = sorted({k for f in body["features"] for k in f["properties"]} - {"id"})
    rows = [[html.Cell(f["id"], f"{base}/collections/{collection}/items/{f['id']}?f=html"),
             *(html.Cell(html.text(f["properties"].get(n))) for n in names)]
            for f in body["features"]]
    return html.page(base, title, links=body["links"], table=html.Table(["id", *names], rows),
                     facts=[f"{body['numberReturned']} of {body['numberMatched']} features"],
                     crumbs=[{"href": f"{base}/collections/{collection}?f=html",
                              "title": title}])


@router.api_route("/collections/{collection_id}/items/{feature_id}", methods=["GET", "HEAD"])
def get_item(collection_id: str, feature_id: str, request: Request, actor: ActorDep,
             database: DatabaseDep) -> Response:
    """One feature (404 when the caller may not see it), with its ETag."""
    found = collection_of(collection_id)
    as_html = wants_html(request)
    with database.read() as uow:
        allowed = crs_refs.supported(features.region_bounds(uow, actor=actor))
        uri = crs_refs.check(request.query_params.get("crs"), allowed, "crs")
        row = record_service.get_record(uow, actor=actor, layer=found.id,
                                        record_id=record_id(feature_id))
        codes = features.organisation_codes(uow)
    body = feature(row, codes, uri)
    href = f"{root(request)}/collections/{found.id}"
    body["links"] = [link(f"{href}/items/{body['id']}", "self", GEOJSON, "this feature"),
                     link(f"{href}/items/{body['id']}?f=html", "alternate", HTML, "as HTML"),
                     link(href, "collection", JSON, found.title)]
    headers = {"ETag": etag(row), **content_crs(uri)}
    if as_html:
        rows = [[html.Cell(k), html.Cell(html.text(v))] for k, v in body["properties"].items()]
        return html.page(root(request), f"{found.title}: {body['id']}", links=body["links"],
                         table=html.Table(["property", "value"], rows), headers=headers,
                         crumbs=[{"href": f"{href}/items?f=html", "title": found.title}])
    return GeoJSONResponse(body, headers=headers)


@router.options("/collections/{collection_id}/items")
def items_options(collection_id: str, actor: ActorDep, database: DatabaseDep) -> Response:
    """Allow: the methods the caller may use on the collection's items (POST to create)."""
    found = collection_of(collection_id)
    with database.read() as uow:
        verbs = features.allowed_methods(uow, actor=actor, layer=found.id)
    return Response(status_code=200, headers={"Allow": ", ".join(verbs)})


@router.options("/collections/{collection_id}/items/{feature_id}")
def item_options(collection_id: str, feature_id: str, actor: ActorDep,
                 database: DatabaseDep) -> Response:
    """Allow: the methods the caller may use on this feature (404 when it may not see it)."""
    found = collection_of(collection_id)
    with database.read() as uow:
        verbs = features.allowed_methods(uow, actor=actor, layer=found.id,
                                         record_id=record_id(feature_id))
    return Response(status_code=200, headers={"Allow": ", ".join(verbs)})
