"""Taskings over HTTP: /api/v1/hazards/{record_id}/taskings[/{organisation}]."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from demine.services.records import taskings
from demine.web.deps import ActorDep, DatabaseDep, WriterDep

router = APIRouter(prefix="/api/v1/hazards/{record_id}/taskings", tags=["hazards"])
HazardId = Annotated[int, Path(ge=1, le=2**31 - 1)]
OrganisationCode = Annotated[str, Path(min_length=1, max_length=32)]


class TaskingCreate(BaseModel):
    """Task an organisation on a hazard."""

    model_config = ConfigDict(extra="forbid")
    organisation: str = Field(min_length=1, max_length=32, description="organisation code")


class TaskingPublic(BaseModel):
    """An organisation tasked on a hazard."""

    hazard_id: int
    organisation: str
    created_at: dt.datetime
    created_by: str


@router.get("", response_model=list[TaskingPublic], summary="Organisations tasked on a hazard")
def list_taskings(record_id: HazardId, actor: ActorDep,
                  database: DatabaseDep) -> list[dict[str, Any]]:
    """Besides its owner, these organisations may record activities and finds on it."""
    with database.read() as uow:
        return taskings.list_taskings(uow, actor=actor, hazard_id=record_id)


@router.post("", response_model=TaskingPublic, status_code=201,
             summary="Task an organisation on a hazard (the authority)")
def add_tasking(record_id: HazardId, body: TaskingCreate, actor: WriterDep,
                database: DatabaseDep) -> dict[str, Any]:
    """The tasked organisation may then record activities and finds on the hazard."""
    with database.transaction() as uow:
        return taskings.task(uow, actor=actor, hazard_id=record_id,
                             organisation=body.organisation)


@router.delete("/{organisation}", status_code=204,
               summary="End an organisation's tasking on a hazard (the authority)")
def end_tasking(record_id: HazardId, organisation: OrganisationCode, actor: WriterDep,
                database: DatabaseDep) -> Response:
    """What the organisation recorded stays; it records nothing new on the hazard."""
    with database.transaction() as uow:
        taskings.untask(uow, actor=actor, hazard_id=record_id, organisation=organisation)
    return Response(status_code=204)
