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

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import metrics
from services.core.db import Database, Scope
from services.core.readiness import events as live_events
from services.core.telemetry import dead_letters, hooks, payloads, stalls
from services.core.telemetry.claim import ClaimedBatch, claim_and_append
from services.core.telemetry.history import (
    Claimed,
    append_agent_runs,
    append_failovers,
    append_restore_tests,
    apply_pings,
)
from services.core.telemetry.state_updates import recompute_backup_jobs, update_links, update_on_backup
from services.core.telemetry.unapplicable import UnapplicableEvent, raise_all

log = structlog.get_logger("seawall.telemetry.processing")

BATCH_SIZE = 1_000
MAX_BATCH_SIZE = 8_000  # when backlogged: the per-batch costs (hooks above all) are paid once per batch
BUSY = -1  # another worker holds this MSP

_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended('telemetry:' || CAST(:msp AS text), 0)), now()")

# Rounds of "set aside what was found, apply again" per call; each round sets aside at least one event,
# and each check names every offender it finds, so a batch needs a round per check that refuses, not per event.
MAX_ATTEMPTS = 20


async def apply_batch(session: AsyncSession, msp_id: uuid.UUID, batch: ClaimedBatch) -> hooks.StateChange:
    """Apply what the claim statement left to Python, inside the caller's transaction; returns what
    changed. The batch's rows are already marked processed (same transaction)."""
    by_type: dict[str, list[Claimed]] = defaultdict(list)
    # What the appliers below read, checked before they read it: every invalid payload at once.
    raise_all(payloads.problems([(e.seq, e.type, e.payload) for e in batch.others]))
    for e in sorted(batch.others, key=lambda e: (e.occurred_at, e.event_id)):
        by_type[e.type].append(e)

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
    """One batch of one MSP: the number of events taken off the inbox (applied or set aside), 0 when
    none is pending, BUSY when another worker holds the MSP.

    Only an event that is itself invalid is set aside (UnapplicableEvent, from the appliers or from
    payloads.check), and every check names all the offenders it finds at once: they go to the dead
    letters and the batch is applied again without them, in the same call. When the rounds run out,
    what was found is set aside on its own and committed, so every call makes progress. Any other exception fails the batch: rolled back, logged, recorded as the MSP's
    stall, and raised, so the consumer backs off and retries it; the MSP's later telemetry waits
    behind it (docs/decisions/0006-dead-letters.md).
    """
    aside: dict[int, UnapplicableEvent] = {}
    size = batch_size
    for _ in range(MAX_ATTEMPTS):
        try:
            n = await _attempt(db, msp_id, size, list(aside.values()))
        except UnapplicableEvent as exc:
            named = _by_seq(exc.each())
            if not named:
                # The applier could not say which event: narrow the batch down (this exception only).
                if size > 1:
                    size = max(1, size // 2)
                    continue
                await _failed(db, msp_id, size, exc)  # still unnamed: the applier's fault, not the event's
                raise
            aside.update(named)
        except Exception as error:
            if _cancelling():
                raise
            # A statement may have refused a payload (the claim casts link samples in SQL): only
            # what the schema check finds is the events' fault; nothing found means a bug or an outage.
            found = _by_seq(await _screen(db, msp_id, size, aside))
            if not found:
                await _failed(db, msp_id, size, error)
                raise
            aside.update(found)
        else:
            if n != BUSY:
                _said(msp_id, aside)
            return n
    # Out of rounds with events already found: set those aside on their own, committed, so the next
    # call starts past them. Without this every call redid the same rounds, rolled back, and the
    # MSP's telemetry waited for good (docs/decisions/0012-set-aside-all-at-once.md).
    n = await _set_aside_alone(db, msp_id, list(aside.values()))
    if n == BUSY:
        return BUSY
    _said(msp_id, aside)
    log.warning("telemetry_batch_out_of_rounds", msp_id=str(msp_id), batch_size=size, set_aside=n)
    return n


def _by_seq(events: Iterable[UnapplicableEvent]) -> dict[int, UnapplicableEvent]:
    """The events that name their inbox row (every one the schema check finds does), by its seq."""
    return {e.seq: e for e in events if e.seq is not None}


def _said(msp_id: uuid.UUID, aside: dict[int, UnapplicableEvent]) -> None:
    for e in aside.values():  # committed: said and counted once
        log.warning("telemetry_event_set_aside", msp_id=str(msp_id), seq=e.seq, why=e.code, reason=e.reason)
        metrics.TELEMETRY_EVENTS_SET_ASIDE.labels(e.code).inc()


async def _set_aside_alone(db: Database, msp_id: uuid.UUID, aside: list[UnapplicableEvent]) -> int:
    """Commit these set-asides in a transaction of their own, under the MSP's lock; BUSY when another worker holds it."""
    async with db.transaction(Scope(msp_id)) as session:
        if not await session.scalar(_TRY_LOCK, {"msp": msp_id}):
            return BUSY
        return len(await dead_letters.set_aside(session, msp_id, aside))


async def _attempt(db: Database, msp_id: uuid.UUID, size: int, aside: list[UnapplicableEvent]) -> int:
    async with db.transaction(Scope(msp_id)) as session:
        if aside:
            # The lock first: the claim's own try-lock is re-entrant, and nothing is set aside unheld.
            if not await session.scalar(_TRY_LOCK, {"msp": msp_id}):
                return BUSY
        set_aside = len(await dead_letters.set_aside(session, msp_id, aside)) if aside else 0
        batch = await claim_and_append(session, msp_id, size)
        if batch is None:
            return BUSY
        try:
            if batch.count:
                await apply_batch(session, msp_id, batch)
        except UnapplicableEvent as exc:
            seqs = _seqs(batch)
            for e in exc.each():
                if e.seq is None and batch.count == 1 and len(seqs) == 1:
                    e.seq = seqs[0]
                elif e.seq is not None and e.seq not in seqs:
                    # Only an event of this batch can be set aside by it: naming another is the applier's bug.
                    raise RuntimeError(f"an applier named event {e.seq}, which is not in its batch") from exc
            raise
        return batch.count + set_aside


def _seqs(batch: ClaimedBatch) -> list[int]:
    """The seqs the batch handed to Python (heartbeats are applied in SQL and never named)."""
    return [e.seq for e in batch.others] + [s.seq for s in batch.samples]


_PENDING = text(
    "SELECT seq, type, payload FROM telemetry_event WHERE msp_id = :msp AND processed_at IS NULL"
    " ORDER BY seq LIMIT :n"
)


async def _screen(db: Database, msp_id: uuid.UUID, size: int, aside: dict[int, UnapplicableEvent]) -> list[UnapplicableEvent]:
    """The invalid payloads among the batch's events (as claimed: the oldest pending), not yet set aside."""
    try:
        async with db.transaction(Scope(msp_id)) as session:
            rows = (await session.execute(_PENDING, {"msp": msp_id, "n": size + len(aside)})).all()
    except Exception:
        log.exception("telemetry_screen_failed", msp_id=str(msp_id))
        return []
    return [e for e in payloads.problems([(r.seq, r.type, r.payload) for r in rows]) if e.seq not in aside][:size]


async def _failed(db: Database, msp_id: uuid.UUID, size: int, error: BaseException) -> None:
    """Loud: an error log with the MSP, the batch size and the exception, and the stall row that counts
    the failures for the MSP and for operators (GET /api/v1/telemetry/stall), and the Prometheus counter."""
    metrics.TELEMETRY_BATCH_FAILURES.labels(type(error).__name__).inc()
    log.error("telemetry_batch_failed", msp_id=str(msp_id), batch_size=size, error_type=type(error).__name__,
              error=repr(error)[:2000], exc_info=error)
    try:
        await stalls.record_failure(db, msp_id, size, error)
    except Exception:  # the database may be what failed; the log line above still tells
        log.exception("telemetry_stall_not_recorded", msp_id=str(msp_id))


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


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
