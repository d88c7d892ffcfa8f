"""Writing features (OGC API - Features Part 4): POST, PUT, PATCH (merge patch), DELETE.

Each call is one service call in one transaction, so the ledger, review workflow, history and
audit apply as for every other write. PUT, PATCH and DELETE honour If-Match with the feature's
ETag (412 when it is stale). QGIS sends no If-Match, so a missing one is accepted unless
DEMINE_OGC_REQUIRE_IF_MATCH is set (then 428). Geometry may come in any supported CRS, named by
the Content-Crs header (CRS84 when absent).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, HTTPException, Request
from starlette.responses import Response

from demine.domain.actors import Actor
from demine.domain.entities import ENTITIES
from demine.services.reads import features
from demine.services.records import crud as record_service
from demine.storage.database import UnitOfWork
from demine.web.api.serialise import etag
from demine.web.deps import DatabaseDep, WriterDep
from demine.web.ogc import crs as crs_refs
from demine.web.ogc.geojson import GeoJSONResponse, feature, feature_in
from demine.web.ogc.items import content_crs
from demine.web.ogc.links import collection_of, record_id, root
from demine.web.preconditions import matching_record, ogc_policy

router = APIRouter()
FeatureBody = Annotated[dict[str, Any], Body()]
ContentCrs = Annotated[str | None, Header(alias="Content-Crs")]
IfMatch = Annotated[str | None, Header(alias="If-Match")]


def _writable_layer(collection_id: str) -> str:
    layer = collection_of(collection_id).id
    if not features.writable_properties(layer):
        raise HTTPException(405, f"{layer} is read-only: land is released by writing activities",
                            headers={"Allow": "GET, HEAD, OPTIONS"})
    return layer


def _input_crs(uow: UnitOfWork, actor: Actor, header: str | None) -> str:
    allowed = crs_refs.supported(features.region_bounds(uow, actor=actor))
    return crs_refs.check(header, allowed, "Content-Crs")


def _matching(uow: UnitOfWork, actor: Actor, layer: str, rid: int, if_match: str | None) -> dict:
    """The current feature, provided ``if_match`` names its ETag (web.preconditions)."""
    return matching_record(uow, actor=actor, layer=layer, record_id=rid, if_match=if_match,
                           policy=ogc_policy(uow))


def _written_response(request: Request, layer: str, row: dict, codes: dict,
                      status: int = 200) -> Response:
    headers = {"ETag": etag(row), **content_crs(crs_refs.CRS84)}
    if status == 201:
        headers["Location"] = f"{root(request)}/collections/{layer}/items/{row['id']}"
    return GeoJSONResponse(feature(row, codes, crs_refs.CRS84), status_code=status,
                           headers=headers)


@router.post("/collections/{collection_id}/items")
def create_feature(collection_id: str, body: FeatureBody, request: Request, actor: WriterDep,
                   database: DatabaseDep, content_crs_header: ContentCrs = None) -> Response:
    """Create a feature (its id is assigned): 201 with Location and ETag."""
    layer = _writable_layer(collection_id)
    with database.transaction() as uow:
        uri = _input_crs(uow, actor, content_crs_header)
        data = feature_in(body, layer, uri, record=f"{ENTITIES[layer].label} (new)")
        row = record_service.create_record(uow, actor=actor, layer=layer, data=data)
        codes = features.organisation_codes(uow)
    return _written_response(request, layer, row, codes, status=201)


@router.put("/collections/{collection_id}/items/{feature_id}")
def replace_feature(collection_id: str, feature_id: str, body: FeatureBody, request: Request,
                    actor: WriterDep, database: DatabaseDep, if_match: IfMatch = None,
                    content_crs_header: ContentCrs = None) -> Response:
    """Replace a feature: properties left out are cleared where they may be empty."""
    layer, rid = _writable_layer(collection_id), record_id(feature_id)
    with database.transaction() as uow:
        current = _matching(uow, actor, layer, rid, if_match)
        uri = _input_crs(uow, actor, content_crs_header)
        data = feature_in(body, layer, uri, record=f"{ENTITIES[layer].label} {rid}",
                          mode="replace")
        row = features.replace_feature(uow, actor=actor, layer=layer, record_id=rid, data=data,
                                       expected_version=current.get("version"))
        codes = features.organisation_codes(uow)
    return _written_response(request, layer, row, codes)


@router.patch("/collections/{collection_id}/items/{feature_id}")
def update_feature(collection_id: str, feature_id: str, body: FeatureBody, request: Request,
                   actor: WriterDep, database: DatabaseDep, if_match: IfMatch = None,
                   content_crs_header: ContentCrs = None) -> Response:
    """Update a feature with a JSON merge patch of it (properties and/or geometry)."""
    layer, rid = _writable_layer(collection_id), record_id(feature_id)
    with database.transaction() as uow:
        current = _matching(uow, actor, layer, rid, if_match)
        uri = _input_crs(uow, actor, content_crs_header)
        changes = feature_in(body, layer, uri, record=f"{ENTITIES[layer].label} {rid}",
                             mode="patch")
        row = features.update_feature(uow, actor=actor, layer=layer, record_id=rid,
                                      changes=changes, expected_version=current.get("version"))
        codes = features.organisation_codes(uow)
    return _written_response(request, layer, row, codes)


@router.delete("/collections/{collection_id}/items/{feature_id}")
def delete_feature(collection_id: str, feature_id: str, request: Request, actor: WriterDep,
                   database: DatabaseDep, if_match: IfMatch = None) -> Response:
    """Delete a feature (its last version stays in history): 204; 202 when it waits for the
    authority (an operator's deletion of an approved feature)."""
    layer, rid = _writable_layer(collection_id), record_id(feature_id)
    with database.transaction() as uow:
        current = _matching(uow, actor, layer, rid, if_match)
        waiting = record_service.delete_record(uow, actor=actor, layer=layer, record_id=rid,
                                               expected_version=current.get("version"))
        codes = features.organisation_codes(uow) if waiting is not None else {}
    if waiting is not None:  # an approved record: the deletion waits for the authority
        return _written_response(request, layer, waiting, codes, status=202)
    return Response(status_code=204)
