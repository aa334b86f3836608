"""Telemetry that did not go through: dead letters (replay, discard), an agent's refused batches, a stalled MSP."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.api.deps import DbSession, PracticeTelemetryInspector, TelemetryInspector, TelemetryReplayer
from services.core.telemetry import agents, dead_letters, refusals, stalls
from services.core.telemetry.schemas_dead_letter import (
    DeadLetterActionOut,
    DeadLetterPage,
    IngestRefusalOut,
    RefusalSummaryOut,
    TelemetryStallOut,
)

router = APIRouter(tags=["telemetry"])

Status = Literal["open", "replayed", "discarded", "all"]
EventType = Literal["heartbeat", "backup_run", "restore_test", "link_sample", "failover", "ping"]


@router.get("/api/v1/telemetry/dead-letters", operation_id="list_telemetry_dead_letters", response_model=DeadLetterPage)
async def list_dead_letters(principal: TelemetryInspector, db: DbSession, practice_id: uuid.UUID | None = None,
                            status: Status = "open", type: EventType | None = None,
                            cursor: Annotated[str | None, Query(max_length=200)] = None,
                            limit: Annotated[int, Query(ge=1, le=200)] = 50) -> DeadLetterPage:
    """Events set aside because they could not be applied, in the practices the caller sees, newest failure first."""
    if practice_id is not None and not principal.sees_practice(practice_id):
        return DeadLetterPage(items=[], open_count=0)
    return await dead_letters.list_dead_letters(db, principal.msp_id, principal.visible_practices, practice_id, status, type,
                                                dead_letters.parse_cursor(cursor), limit)


@router.post("/api/v1/practices/{practice_id}/telemetry/dead-letters/replay", operation_id="replay_telemetry_dead_letters",
             response_model=DeadLetterActionOut)
async def replay_dead_letters(access: TelemetryReplayer, db: DbSession) -> DeadLetterActionOut:
    """Send the practice's open dead letters back to be applied (once their cause is fixed), at most 1,000 per
    request, oldest first; `remaining` says how many are still open."""
    replayed = await dead_letters.replay(db, access.msp_id, access.practice_id, access.actor)
    return DeadLetterActionOut(replayed=replayed, remaining=await dead_letters.open_left(db, access.msp_id, access.practice_id))


@router.post("/api/v1/practices/{practice_id}/telemetry/dead-letters/{dead_letter_id}/replay", operation_id="replay_telemetry_dead_letter",
             response_model=DeadLetterActionOut)
async def replay_dead_letter(dead_letter_id: uuid.UUID, access: TelemetryReplayer, db: DbSession) -> DeadLetterActionOut:
    """Send one open dead letter back to be applied (once its cause is fixed)."""
    replayed = await dead_letters.replay(db, access.msp_id, access.practice_id, access.actor, dead_letter_id)
    return DeadLetterActionOut(replayed=replayed, remaining=await dead_letters.open_left(db, access.msp_id, access.practice_id))


@router.post("/api/v1/practices/{practice_id}/telemetry/dead-letters/discard", operation_id="discard_telemetry_dead_letters",
             response_model=DeadLetterActionOut)
async def discard_dead_letters(access: TelemetryReplayer, db: DbSession) -> DeadLetterActionOut:
    """Give up on the practice's open dead letters (they stay listed as discarded), at most 1,000 per request,
    oldest first; `remaining` says how many are still open."""
    discarded = await dead_letters.discard(db, access.msp_id, access.practice_id, access.actor)
    return DeadLetterActionOut(discarded=discarded, remaining=await dead_letters.open_left(db, access.msp_id, access.practice_id))


@router.post("/api/v1/practices/{practice_id}/telemetry/dead-letters/{dead_letter_id}/discard",
             operation_id="discard_telemetry_dead_letter", response_model=DeadLetterActionOut)
async def discard_dead_letter(dead_letter_id: uuid.UUID, access: TelemetryReplayer, db: DbSession) -> DeadLetterActionOut:
    """Give up on one open dead letter (it stays listed as discarded)."""
    discarded = await dead_letters.discard(db, access.msp_id, access.practice_id, access.actor, dead_letter_id)
    return DeadLetterActionOut(discarded=discarded, remaining=await dead_letters.open_left(db, access.msp_id, access.practice_id))


@router.get("/api/v1/practices/{practice_id}/agents/{agent_id}/refusals", operation_id="list_agent_refusals",
            response_model=list[IngestRefusalOut])
async def list_agent_refusals(agent_id: uuid.UUID, access: PracticeTelemetryInspector, db: DbSession) -> list[IngestRefusalOut]:
    """The agent's most recent batches that ingest refused, newest first, with what was wrong."""
    await agents.get_agent(db, access.msp_id, access.practice_id, agent_id)
    return await refusals.for_agent(db, access.msp_id, access.practice_id, agent_id)


@router.get("/api/v1/telemetry/refusals", operation_id="list_refusal_summaries", response_model=list[RefusalSummaryOut])
async def list_refusal_summaries(principal: TelemetryInspector, db: DbSession) -> list[RefusalSummaryOut]:
    """Per agent of the practices the caller sees: how many of its batches were refused lately, and the newest."""
    return await refusals.summaries(db, principal.msp_id, principal.visible_practices)


@router.get("/api/v1/telemetry/stall", operation_id="get_telemetry_stall", response_model=TelemetryStallOut)
async def get_telemetry_stall(principal: TelemetryInspector, db: DbSession) -> TelemetryStallOut:
    """Whether the MSP's telemetry is held up by a batch failing on Seawall's side, and since when."""
    return await stalls.current(db, principal.msp_id)
