"""/ogc, /ogc/conformance, /ogc/api, /ogc/collections and /ogc/collections/{collectionId}."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from starlette.responses import Response

from demine.services.reads import features
from demine.web.deps import ActorDep, DatabaseDep
from demine.web.ogc import crs as crs_refs
from demine.web.ogc import html
from demine.web.ogc.geojson import OgcJSONResponse
from demine.web.ogc.links import collection_of, formats, link, root
from demine.web.ogc.openapi import document
from demine.web.ogc.params import wants_html
from demine.web.ogc.spec import (
    COLLECTIONS,
    CONFORMANCE,
    GEOJSON,
    HTML,
    JSON,
    OPENAPI,
    REL_CONFORMANCE,
    REL_DATA,
    REL_ITEMS,
    TRS,
    Collection,
)

router = APIRouter()
TITLE = "demine OGC API - Features"
DESCRIPTION = ("Mine action information: hazardous areas, land release, EO finds, accidents, "
               "EORE and the gazetteer, each party seeing what it is entitled to see.")


@router.api_route("", methods=["GET", "HEAD"])
def landing(request: Request) -> Response:
    """The landing page: links to the API description, conformance and the collections."""
    base = root(request)
    links = [*formats(base, JSON, "this page"),
             link(f"{base}/api", "service-desc", OPENAPI, "the API definition (OpenAPI 3.0)"),
             link(f"{base}/api?f=html", "service-doc", HTML, "the API documentation"),
             link(f"{base}/conformance", REL_CONFORMANCE, JSON, "conformance classes"),
             link(f"{base}/collections", REL_DATA, JSON, "feature collections")]
    if wants_html(request):
        return html.page(base, TITLE, links=links, description=DESCRIPTION)
    return OgcJSONResponse({"title": TITLE, "description": DESCRIPTION, "links": links})


@router.api_route("/conformance", methods=["GET", "HEAD"])
def conformance(request: Request) -> Response:
    """The conformance classes this API implements."""
    base = root(request)
    links = formats(f"{base}/conformance", JSON, "conformance")
    if wants_html(request):
        table = html.Table(["conformance class"], [[html.Cell(uri, uri)] for uri in CONFORMANCE])
        return html.page(base, "Conformance", links=links, table=table)
    return OgcJSONResponse({"conformsTo": list(CONFORMANCE), "links": links})


@router.api_route("/api", methods=["GET", "HEAD"])
def api(request: Request) -> Response:
    """The OpenAPI 3.0 definition of this API."""
    base = root(request)
    doc = document(base)
    if wants_html(request):
        rows = [[html.Cell(path), html.Cell(", ".join(m.upper() for m in ops)),
                 html.Cell(next(iter(ops.values())).get("summary", ""))]
                for path, ops in doc["paths"].items()]
        return html.page(base, "API definition", table=html.Table(["path", "methods", "what"],
                                                                  rows),
                         links=[link(f"{base}/api", "service-desc", OPENAPI, "as OpenAPI 3.0")],
                         description=doc["info"]["description"])
    return OgcJSONResponse(doc, media_type=OPENAPI)


@router.api_route("/collections", methods=["GET", "HEAD"])
def collections(request: Request, actor: ActorDep, database: DatabaseDep) -> Response:
    """Every published collection, with the extent of what the caller may see."""
    base = root(request)
    with database.read() as uow:
        allowed = crs_refs.supported(features.region_bounds(uow, actor=actor))
        described = [_describe(request, c, *features.layer_extent(uow, actor=actor, layer=c.id),
                               allowed) for c in COLLECTIONS.values()]
    links = formats(f"{base}/collections", JSON, "the collections")
    if wants_html(request):
        rows = [[html.Cell(d["title"], f"{base}/collections/{d['id']}?f=html"),
                 html.Cell(d["description"])] for d in described]
        return html.page(base, "Collections", links=links,
                         table=html.Table(["collection", "description"], rows))
    return OgcJSONResponse({"links": links, "collections": described, "crs": allowed})


@router.api_route("/collections/{collection_id}", methods=["GET", "HEAD"])
def collection(collection_id: str, request: Request, actor: ActorDep,
               database: DatabaseDep) -> Response:
    """One collection: extent, CRSs and links to its items."""
    found = collection_of(collection_id)
    base = root(request)
    with database.read() as uow:
        allowed = crs_refs.supported(features.region_bounds(uow, actor=actor))
        described = _describe(request, found, *features.layer_extent(
            uow, actor=actor, layer=found.id), allowed)
    if wants_html(request):
        facts = [f"Spatial extent (lon/lat): {described.get('extent', {}).get('spatial')}",
                 f"Temporal extent: {described.get('extent', {}).get('temporal')}",
                 f"Coordinate reference systems: {', '.join(allowed)}"]
        return html.page(base, found.title, description=found.description, facts=facts,
                         links=described["links"],
                         crumbs=[{"href": f"{base}/collections?f=html", "title": "Collections"}])
    return OgcJSONResponse(described)


def _describe(request: Request, c: Collection, bbox, period: tuple[date, date] | None,
              allowed: list[str]) -> dict:
    href = f"{root(request)}/collections/{c.id}"
    out = {"id": c.id, "title": c.title, "description": c.description, "itemType": "feature",
           "links": [*formats(href, JSON, c.title),
                     link(f"{href}/items", REL_ITEMS, GEOJSON, f"{c.title} as GeoJSON"),
                     link(f"{href}/items?f=html", REL_ITEMS, HTML, f"{c.title} as HTML")],
           "crs": allowed, "storageCrs": crs_refs.CRS84}
    extent: dict = {}
    if bbox is not None:
        extent["spatial"] = {"bbox": [list(bbox)], "crs": crs_refs.CRS84}
    if period is not None:
        extent["temporal"] = {"interval": [[f"{period[0].isoformat()}T00:00:00Z",
                                            f"{period[1].isoformat()}T23:59:59Z"]], "trs": TRS}
    if extent:
        out["extent"] = extent
    return out
