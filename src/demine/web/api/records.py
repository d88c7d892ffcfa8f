"""CRUD for every layer: /api/v1/{layer}[/{id}], paged and filtered lists, ETag/If-Match.

(No `from __future__ import annotations` here: FastAPI reads the per-layer body models from
the annotations of functions made in a closure.)
"""

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import create_model

from demine.domain.dates import check_query_day
from demine.domain.entities import ENTITIES
from demine.domain.errors import Invalid, Problem
from demine.services.loading.reference_data import organisation_codes
from demine.services.reads.queries import MAX_LIMIT, ListQuery, list_records
from demine.services.records import crud as record_service
from demine.services.records.review import review_record
from demine.web.api.serialise import etag, item, payload
from demine.web.deps import ActorDep, DatabaseDep, WriterDep
from demine.web.preconditions import REST, matching_record
from demine.web.schemas import MODELS, ReviewDecision

router = APIRouter(prefix="/api/v1")
RecordId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _bbox(value: str | None) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        parts = tuple(float(v) for v in value.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3]:
        raise Invalid(Problem("request", "bbox", "expected minx,miny,maxx,maxy (lon/lat)"))
    return parts  # type: ignore[return-value]


def _next_link(request: Request, offset: int, limit: int, total: int) -> str | None:
    if offset + limit >= total:
        return None
    return str(request.url.include_query_params(offset=offset + limit, limit=limit))


def _list_route(layer: str, public):
    def list_items(
        request: Request, actor: ActorDep, database: DatabaseDep,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
        offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
        bbox: Annotated[str | None, Query(description="minx,miny,maxx,maxy")] = None,
        status: Annotated[str | None, Query(max_length=40)] = None,
        type: Annotated[str | None, Query(max_length=40)] = None,
        organisation: Annotated[str | None, Query(max_length=48)] = None,
        admin_area: Annotated[str | None, Query(max_length=48)] = None,
        date_from: dt.date | None = None, date_to: dt.date | None = None,
        q: Annotated[str | None, Query(max_length=200)] = None,
    ) -> dict[str, Any]:
        query = ListQuery(bbox=_bbox(bbox), status=status, type=type, organisation=organisation,
                          admin_area=admin_area, date_from=check_query_day(date_from, "date_from"),
                          date_to=check_query_day(date_to, "date_to"), q=q,
                          limit=limit, offset=offset)
        with database.read() as uow:
            rows, total = list_records(uow, actor=actor, layer=layer, query=query)
            codes = organisation_codes(uow)
        return {"items": [item(r, codes) for r in rows], "total": total, "limit": limit,
                "offset": offset, "next": _next_link(request, offset, limit, total)}

    list_items.__name__ = f"list_{layer}"
    return list_items


def _get_route(layer: str):
    def get_item(record_id: RecordId, response: Response, actor: ActorDep,
                 database: DatabaseDep) -> dict[str, Any]:
        with database.read() as uow:
            row = record_service.get_record(uow, actor=actor, layer=layer, record_id=record_id)
            codes = organisation_codes(uow)
        response.headers["ETag"] = etag(row)
        return item(row, codes)

    get_item.__name__ = f"get_{layer}"
    return get_item


def _write_routes(layer: str, create_body, update_body):
    label = ENTITIES[layer].label

    def create_item(body: Annotated[create_body, Body()], response: Response,
                    actor: WriterDep, database: DatabaseDep) -> dict[str, Any]:
        data = payload(body.model_dump(exclude_unset=True), f"{label} (new)")
        with database.transaction() as uow:
            row = record_service.create_record(uow, actor=actor, layer=layer, data=data)
            codes = organisation_codes(uow)
        response.status_code = 201
        response.headers["ETag"] = etag(row)
        response.headers["Location"] = f"/api/v1/{layer}/{row['id']}"
        return item(row, codes)

    def update_item(record_id: RecordId, body: Annotated[update_body, Body()], response: Response,
                    actor: WriterDep, database: DatabaseDep,
                    if_match: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        data = payload(body.model_dump(exclude_unset=True), f"{label} {record_id}")
        with database.transaction() as uow:
            current = matching_record(uow, actor=actor, layer=layer, record_id=record_id,
                                      if_match=if_match, policy=REST)
            row = record_service.update_record(
                uow, actor=actor, layer=layer, record_id=record_id, changes=data,
                expected_version=current.get("version"))
            codes = organisation_codes(uow)
        response.headers["ETag"] = etag(row)
        return item(row, codes)

    def delete_item(record_id: RecordId, actor: WriterDep, database: DatabaseDep,
                    if_match: Annotated[str | None, Header()] = None) -> Response:
        with database.transaction() as uow:
            current = matching_record(uow, actor=actor, layer=layer, record_id=record_id,
                                      if_match=if_match, policy=REST)
            waiting = record_service.delete_record(uow, actor=actor, layer=layer,
                                                   record_id=record_id,
                                                   expected_version=current.get("version"))
            codes = organisation_codes(uow) if waiting is not None else {}
        if waiting is not None:  # an approved record: the deletion waits for the authority
            return JSONResponse(jsonable_encoder(item(waiting, codes)), status_code=202,
                                headers={"ETag": etag(waiting)})
        return Response(status_code=204)

    create_item.__name__, update_item.__name__ = f"create_{layer}", f"update_{layer}"
    delete_item.__name__ = f"delete_{layer}"
    return create_item, update_item, delete_item


def _review_route(layer: str):
    def review_item(record_id: RecordId, decision: Annotated[ReviewDecision, Body()],
                    response: Response,
                    actor: WriterDep, database: DatabaseDep,
                    if_match: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        with database.transaction() as uow:
            current = matching_record(uow, actor=actor, layer=layer, record_id=record_id,
                                      if_match=if_match, policy=REST)
            row = review_record(uow, actor=actor, layer=layer, record_id=record_id,
                                decision=decision.decision, reason=decision.reason,
                                expected_version=current.get("version"))
            codes = organisation_codes(uow)
        response.headers["ETag"] = etag(row)
        return item(row, codes)

    review_item.__name__ = f"review_{layer}"
    return review_item


def _register(layer: str) -> None:
    create_body, update_body, public = MODELS[layer]
    tags: list = [layer]
    path, item_path = f"/{layer}", f"/{layer}/{{record_id}}"
    page = create_model(f"{public.__name__.removesuffix('Public')}Page",
                        items=(list[public], ...), total=(int, ...), limit=(int, ...),
                        offset=(int, ...), next=(str | None, None))
    router.add_api_route(path, _list_route(layer, public), methods=["GET"], tags=tags,
                         response_model=page, summary=f"List {layer}")
    router.add_api_route(item_path, _get_route(layer), methods=["GET"], tags=tags,
                         response_model=public, summary=f"Get one of {layer}")
    create, update, delete = _write_routes(layer, create_body, update_body)
    router.add_api_route(path, create, methods=["POST"], tags=tags, response_model=public,
                         status_code=201, summary=f"Create in {layer}")
    router.add_api_route(item_path, update, methods=["PATCH"], tags=tags,
                         response_model=public, summary=f"Update (JSON merge patch) {layer}")
    router.add_api_route(item_path, delete, methods=["DELETE"], tags=tags, status_code=204,
                         summary=f"Delete from {layer}",
                         responses={202: {"model": public, "description": "an approved "
                                          "record: the deletion waits for the authority"}})
    if ENTITIES[layer].versioned:
        router.add_api_route(f"{item_path}/review", _review_route(layer), methods=["POST"],
                             tags=tags, response_model=public,
                             summary=f"Approve or reject submitted {layer}")


for _layer in ENTITIES:
    _register(_layer)
