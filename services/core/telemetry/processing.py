"""Applying recorded telemetry: claim a batch of one MSP's inbox, apply it, mark it, in ONE transaction.

A crash anywhere (SIGKILL included) rolls the whole batch back and the rows stay pending, so a
batch is applied exactly once. Only one worker applies an MSP's telemetry at a time (a try-lock
per MSP; other workers move on to other MSPs), so reading history back while applying a batch
never races another batch of the same tenant. Within a batch, events are applied in occurred_at
order, and every update is a function of the events rather than of their arrival order
(history.py, state_updates.py). The bulk of a batch — claiming and marking, link samples,
heartbeats — is one SQL statement (claim.py); Python handles the link state machine, the rare
event kinds and the hooks.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

import psycopg
import structlog
from sqlalchemy import text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.db import Database, Scope
from services.core.readiness import events as live_events
from services.core.telemetry import hooks
from services.core.telemetry.claim import AGENT_TYPES, ClaimedBatch, claim_and_append
from services.core.telemetry.history import (
    Claimed,
    append_agent_runs,
    append_failovers,
    append_restore_tests,
    apply_pings,
)
from services.core.telemetry.state_updates import recompute_backup_jobs, update_links, update_on_backup

log = structlog.get_logger("seawall.telemetry.processing")

BATCH_SIZE = 1_000
MAX_BATCH_SIZE = 8_000  # when backlogged: the per-batch costs (hooks above all) are paid once per batch
BUSY = -1  # another worker holds this MSP

_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended('telemetry:' || CAST(:msp AS text), 0)), now()")
_CLAIM_ONE = text(
    "SELECT seq, source_id, event_id, practice_id, site_id, type, occurred_at, payload FROM telemetry_event"
    " WHERE msp_id = :msp AND processed_at IS NULL ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED"
)
_MARK_ONE_FAILED = text("UPDATE telemetry_event SET processed_at = clock_timestamp() WHERE msp_id = :msp AND seq = :seq")

KNOWN_TYPES = set(AGENT_TYPES) | {"ping"}
# Errors that say "this batch cannot be applied" (bad data, a bug), as opposed to a lost connection.
UNAPPLICABLE = (DataError, IntegrityError, psycopg.DataError, psycopg.IntegrityError, ValueError, KeyError, TypeError)


async def apply_batch(session: AsyncSession, msp_id: uuid.UUID, batch: ClaimedBatch) -> hooks.StateChange:
    """Apply what the claim statement left to Python, inside the caller's transaction; returns what
    changed. The batch's rows are already marked processed (same transaction)."""
    by_type: dict[str, list[Claimed]] = defaultdict(list)
    for e in sorted(batch.others, key=lambda e: (e.occurred_at, e.event_id)):
        by_type[e.type].append(e)
    for unknown in set(by_type) - KNOWN_TYPES:
        log.warning("telemetry_unknown_type", msp_id=str(msp_id), type=unknown, count=len(by_type[unknown]))

    jobs = await append_agent_runs(session, msp_id, by_type["backup_run"])
    jobs |= await apply_pings(session, msp_id, by_type["ping"])
    await append_restore_tests(session, msp_id, by_type["restore_test"])
    sites = await append_failovers(session, msp_id, by_type["failover"])

    await recompute_backup_jobs(session, msp_id, jobs)
    links = await update_links(session, msp_id, batch.samples, batch.links)
    await update_on_backup(session, msp_id, sites)

    for agent in batch.back:
        await agent_event(session, msp_id, "agent.online", agent.agent_id, agent.practice_id, agent.site_id,
                          agent.hostname, agent.at)
    change = hooks.StateChange(batch.practices, events={e.practice_id for e in batch.others}, agents=batch.maybe_silent,
                               links=links, back=batch.back, config_version=batch.config_version)
    await hooks.state_changed(session, msp_id, change, batch.now)
    return change


async def agent_event(session: AsyncSession, msp_id: uuid.UUID, kind: str, agent_id: uuid.UUID, practice_id: uuid.UUID,
                      site_id: uuid.UUID | None, hostname: str, at: datetime) -> None:
    """agent.online / agent.offline on the live stream (the event carries the practice), delivered
    if the transaction commits."""
    await live_events.publish(session, msp_id, practice_id, kind, {
        "agent_id": str(agent_id), "site_id": str(site_id) if site_id else None, "hostname": hostname[:200],
        "at": at.isoformat()})


async def process_batch(db: Database, msp_id: uuid.UUID, batch_size: int = BATCH_SIZE) -> int:
    """One batch of one MSP: the number of events applied, 0 when none is pending, BUSY when
    another worker holds the MSP.

    An event that cannot be applied (a bug, or data the database refuses) must not hold up the
    MSP's telemetry forever: the batch is retried in halves down to the single event, which is
    then logged with its error and set aside (marked processed without effect).
    """
    try:
        async with db.transaction(Scope(msp_id)) as session:
            batch = await claim_and_append(session, msp_id, batch_size)
            if batch is None:
                return BUSY
            if batch.count:
                await apply_batch(session, msp_id, batch)
            return batch.count
    except UNAPPLICABLE as error:
        if batch_size > 1:
            log.warning("telemetry_batch_failed_retrying_smaller", msp_id=str(msp_id), batch_size=batch_size, error=str(error))
            return await process_batch(db, msp_id, max(1, batch_size // 2))
        await _set_aside(db, msp_id, error)
        return 1


async def _set_aside(db: Database, msp_id: uuid.UUID, error: Exception) -> None:
    async with db.transaction(Scope(msp_id)) as session:
        if not await session.scalar(_TRY_LOCK, {"msp": msp_id}):
            return
        row = (await session.execute(_CLAIM_ONE, {"msp": msp_id})).first()
        if row is None:
            return
        event = Claimed(*row)
        log.error("telemetry_event_set_aside", msp_id=str(msp_id), seq=event.seq, event_id=event.event_id, type=event.type,
                  error=repr(error))
        await session.execute(_MARK_ONE_FAILED, {"msp": msp_id, "seq": event.seq})


async def drain(db: Database, msp_id: uuid.UUID, batch_size: int = BATCH_SIZE) -> int:
    """Process an MSP's pending telemetry until none is left (or another worker holds it)."""
    total = 0
    while True:
        n = await process_batch(db, msp_id, batch_size)
        if n <= 0:
            return total
        total += n
        if n < batch_size:
            return total
