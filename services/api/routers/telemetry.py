"""Telemetry as the worker left it: current state, achieved RPO/RTO per system, and history."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.api.deps import DbSession, PracticeReader
from services.core.base import utcnow
from services.core.errors import FieldError, ValidationFailed
from services.core.periods import EARLIEST, Instant
from services.core.telemetry import history_reads, recovery, state
from services.core.telemetry.schemas_state import (
    BackupRunOut,
    FailoverOut,
    LinkSampleOut,
    Page,
    RestoreTestOut,
    SystemRecoveryOut,
    TelemetryStateOut,
)

router = APIRouter(prefix="/api/v1/practices/{practice_id}/telemetry", tags=["telemetry"])

From = Annotated[Instant | None, Query(alias="from", description="start of the range (inclusive), with offset")]
To = Annotated[Instant | None, Query(alias="to", description="end of the range (exclusive), with offset; default: now")]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor from the previous page")]
Limit = Annotated[int, Query(ge=1, le=1000)]
DEFAULT_SPAN = timedelta(days=30)


def _range(start: datetime | None, end: datetime | None, default_span: timedelta = DEFAULT_SPAN) -> tuple[datetime, datetime]:
    end = end or utcnow()
    if start is None and end <= EARLIEST:
        # The default start would be before any data (and, near year 1, before what a date can hold).
        raise ValidationFailed("The range ends before Seawall holds any data; give a later end.",
                               errors=[FieldError("to", "must be after 2000-01-01")])
    return start or end - default_span, end


@router.get("/state", operation_id="get_telemetry_state", response_model=TelemetryStateOut)
async def get_telemetry_state(access: PracticeReader, db: DbSession) -> TelemetryStateOut:
    """Current state of the practice's backup jobs, links and agents."""
    now = utcnow()
    m, p = access.msp_id, access.practice_id
    return TelemetryStateOut(generated_at=now, backup_jobs=await state.backup_states(db, m, p),
                             links=await state.link_states(db, m, p, now), agents=await state.agents(db, m, p, now))


@router.get("/systems/recovery", operation_id="list_system_recovery", response_model=list[SystemRecoveryOut])
async def list_system_recovery(access: PracticeReader, db: DbSession) -> list[SystemRecoveryOut]:
    """Target versus achieved RPO (on-site and off-site) and RTO for every system of the practice."""
    return await recovery.system_recovery(db, access.msp_id, access.practice_id, utcnow())


@router.get("/backup-jobs/{backup_job_id}/runs", operation_id="list_backup_runs", response_model=Page[BackupRunOut])
async def list_backup_runs(backup_job_id: uuid.UUID, access: PracticeReader, db: DbSession, start: From = None, end: To = None,
                           cursor: Cursor = None, limit: Limit = 100) -> Page[BackupRunOut]:
    """A backup job's runs that started in the range, newest first."""
    start, end = _range(start, end)
    return await history_reads.backup_runs(db, access.msp_id, access.practice_id, backup_job_id, start, end, cursor, limit)


@router.get("/restore-tests", operation_id="list_restore_tests", response_model=Page[RestoreTestOut])
async def list_restore_tests(access: PracticeReader, db: DbSession, start: From = None, end: To = None,
                             cursor: Cursor = None, limit: Limit = 100) -> Page[RestoreTestOut]:
    """The practice's restore tests that started in the range, newest first."""
    start, end = _range(start, end, timedelta(days=366))
    return await history_reads.restore_tests(db, access.msp_id, access.practice_id, start, end, cursor, limit)


@router.get("/links/{link_id}/samples", operation_id="list_link_samples", response_model=Page[LinkSampleOut])
async def list_link_samples(link_id: uuid.UUID, access: PracticeReader, db: DbSession, start: From = None, end: To = None,
                            resolution: Literal["raw", "5m"] = "5m", cursor: Cursor = None,
                            limit: Limit = 300) -> Page[LinkSampleOut]:
    """A link's samples in the range, newest first: raw (kept 14 days) or 5-minute aggregates (kept 13 months)."""
    start, end = _range(start, end, timedelta(days=1))
    return await history_reads.link_samples(db, access.msp_id, access.practice_id, link_id, start, end, resolution, cursor, limit)


@router.get("/failovers", operation_id="list_failovers", response_model=Page[FailoverOut])
async def list_failovers(access: PracticeReader, db: DbSession, start: From = None, end: To = None,
                         cursor: Cursor = None, limit: Limit = 100) -> Page[FailoverOut]:
    """The practice's failovers (traffic moved to another link) that started in the range, newest first."""
    start, end = _range(start, end, timedelta(days=366))
    return await history_reads.failovers(db, access.msp_id, access.practice_id, start, end, cursor, limit)
