"""Measured readiness of a practice, its one-call dashboard, and the MSP's readiness weights."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from services.api.deps import DbSession, MspManager, MspReader, PracticeReader, actor_of
from services.core.audit.service import record
from services.core.base import utcnow
from services.core.practices.models import Practice
from services.core.readiness import service
from services.core.readiness.dashboard import dashboard, readiness_out
from services.core.readiness.models import ReadinessWeights
from services.core.readiness.portfolio import trends
from services.core.readiness.schemas import DashboardOut, ReadinessOut, ReadinessTrendOut, WeightsIn, WeightsOut
from services.core.readiness.weights import AT_RISK_AT, READY_AT, columns_of, load_weights

router = APIRouter(tags=["readiness"])


def _weights_out(weights) -> dict:
    return {**weights.as_dict(), "ready_at": READY_AT, "at_risk_at": AT_RISK_AT}


@router.get("/api/v1/practices/{practice_id}/readiness", operation_id="get_readiness", response_model=ReadinessOut)
async def get_readiness(access: PracticeReader, db: DbSession):
    """The practice's readiness: score, status, components and every finding with the points it cost."""
    return readiness_out(await service.current(db, access.msp_id, access.practice_id))


@router.get("/api/v1/practices/{practice_id}/readiness/trend", operation_id="get_readiness_trend",
            response_model=ReadinessTrendOut)
async def get_readiness_trend(access: PracticeReader, db: DbSession):
    """The practice's score over the last 30 days (today's hours until there are two days), oldest first."""
    return {"points": (await trends(db, access.msp_id, [access.practice_id], utcnow()))[access.practice_id]}


@router.get("/api/v1/practices/{practice_id}/dashboard", operation_id="get_practice_dashboard", response_model=DashboardOut)
async def get_practice_dashboard(access: PracticeReader, db: DbSession):
    """Everything the practice page shows, in one call: score, trend, systems, backups, links, incidents, plan."""
    return await dashboard(db, access.practice, utcnow())


@router.get("/api/v1/readiness/weights", operation_id="get_readiness_weights", response_model=WeightsOut)
async def get_readiness_weights(principal: MspReader, db: DbSession):
    """The points per component and per finding severity that every practice of the MSP is scored with."""
    return _weights_out(await load_weights(db, principal.msp_id))


@router.put("/api/v1/readiness/weights", operation_id="set_readiness_weights", response_model=WeightsOut)
async def set_readiness_weights(body: WeightsIn, principal: MspManager, db: DbSession):
    """Set the MSP's own weights; every practice is rescored by the worker within a minute."""
    before = await load_weights(db, principal.msp_id)
    row = await db.scalar(select(ReadinessWeights).where(ReadinessWeights.msp_id == principal.msp_id))
    columns = columns_of(body.components, body.deductions)
    if row is None:
        row = ReadinessWeights(msp_id=principal.msp_id, **columns)
        db.add(row)
    else:
        for k, v in columns.items():
            setattr(row, k, v)
    await db.flush()
    after = await load_weights(db, principal.msp_id)
    await record(db, msp_id=principal.msp_id, actor=actor_of(principal), action="readiness_weights.updated",
                 object_type="readiness_weights", object_id=str(row.id),
                 changes={"before": before.as_dict(), "after": after.as_dict()})
    practice_ids = (await db.scalars(select(Practice.id).where(Practice.msp_id == principal.msp_id))).all()
    await service.mark_dirty_many(db, principal.msp_id, practice_ids)
    return _weights_out(after)
