"""Incidents: the MSP-wide queue, a practice's incidents, acknowledge, resolve and notes."""

from __future__ import annotations

import uuid
from typing import Literal

from fastapi import APIRouter, Query

from services.api.deps import DbSession, MspReader, PracticeOperator, PracticeReader
from services.core.alerts import service
from services.core.alerts.schemas import IncidentDetail, IncidentEventOut, IncidentOut, IncidentPage, NoteIn, ResolveIn

router = APIRouter(tags=["incidents"])

StatusFilter = Literal["active", "open", "acknowledged", "resolved"]
SeverityFilter = Literal["critical", "high", "medium", "low"]


@router.get("/api/v1/incidents", operation_id="list_incidents", response_model=IncidentPage)
async def list_incidents(principal: MspReader, db: DbSession, status: StatusFilter | None = "active",
                         severity: SeverityFilter | None = None, practice_id: uuid.UUID | None = None,
                         rule_id: str | None = Query(default=None, max_length=64),
                         limit: int = Query(default=50, ge=1, le=200), offset: int = Query(default=0, ge=0, le=100_000)):
    """The MSP-wide incident queue (only practices the caller can see), worst first."""
    items, total = await service.list_incidents(db, principal.msp_id, principal.visible_practices, practice_id=practice_id,
                                                status=status, severity=severity, rule_id=rule_id, limit=limit, offset=offset)
    return {"items": items, "total": total}


@router.get("/api/v1/practices/{practice_id}/incidents", operation_id="list_practice_incidents", response_model=IncidentPage)
async def list_practice_incidents(access: PracticeReader, db: DbSession, status: StatusFilter | None = "active",
                                  severity: SeverityFilter | None = None, rule_id: str | None = Query(default=None, max_length=64),
                                  limit: int = Query(default=50, ge=1, le=200), offset: int = Query(default=0, ge=0, le=100_000)):
    """One practice's incidents, worst first."""
    items, total = await service.list_incidents(db, access.msp_id, None, practice_id=access.practice_id, status=status,
                                                severity=severity, rule_id=rule_id, limit=limit, offset=offset)
    return {"items": items, "total": total}


@router.get("/api/v1/practices/{practice_id}/incidents/{incident_id}", operation_id="get_incident", response_model=IncidentDetail)
async def get_incident(incident_id: uuid.UUID, access: PracticeReader, db: DbSession):
    """One incident with its timeline, notes and the incidents grouped under it."""
    inc = await service.get_incident(db, access.msp_id, access.practice_id, incident_id)
    return await service.detail(db, inc)


@router.post("/api/v1/practices/{practice_id}/incidents/{incident_id}/acknowledge", operation_id="acknowledge_incident",
             response_model=IncidentOut)
async def acknowledge_incident(incident_id: uuid.UUID, access: PracticeOperator, db: DbSession):
    """Say someone is on it: stops escalation and tells the channels that were notified."""
    return await service.acknowledge(db, access.msp_id, access.practice_id, incident_id, access.actor)


@router.post("/api/v1/practices/{practice_id}/incidents/{incident_id}/resolve", operation_id="resolve_incident",
             response_model=IncidentOut)
async def resolve_incident(incident_id: uuid.UUID, access: PracticeOperator, db: DbSession, body: ResolveIn | None = None):
    """Resolve by hand (if the condition persists, the next evaluation re-opens it)."""
    return await service.resolve(db, access.msp_id, access.practice_id, incident_id, access.actor, body.note if body else "")


@router.post("/api/v1/practices/{practice_id}/incidents/{incident_id}/notes", operation_id="add_incident_note",
             response_model=IncidentEventOut, status_code=201)
async def add_incident_note(incident_id: uuid.UUID, body: NoteIn, access: PracticeOperator, db: DbSession):
    """Add a note to the incident's timeline."""
    inc = await service.get_incident(db, access.msp_id, access.practice_id, incident_id)
    return await service.add_note(db, inc, access.actor, body.text)
