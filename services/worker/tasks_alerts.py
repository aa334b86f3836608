"""Scheduled alert jobs: deliver the notification outbox, escalate unacknowledged incidents, and
evaluate the rules that change with time alone (RPO aging, silent agents, overdue tests), which
rescores the practices whose conditions changed in the same transaction. Telemetry-driven evaluation
runs in the telemetry batch itself (the ON_STATE_CHANGED hook); plan and inventory findings become
incidents when readiness computes them (services/worker/tasks_readiness.py).

Every job holds a queueing lock (a slow run is never stacked with its successors) and is safe to run
twice: evaluation converges on the same incidents, dispatch claims rows with SKIP LOCKED.
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import select, text

import services.core.models  # noqa: F401  (every table, so relationships between domains resolve)
from services.core import pacing
from services.core.alerts import config as alert_config
from services.core.alerts import dispatch, recent
from services.core.alerts.evaluate import escalate_due, evaluate_practices
from services.core.base import utcnow
from services.core.db import Database, Scope
from services.core.practices.models import Practice
from services.worker.app import app
from services.worker.context import database

log = structlog.get_logger("seawall.worker.alerts")

# Practices evaluated per transaction by the periodic passes: small enough that live telemetry
# never waits long behind one chunk (pacing.py), large enough that the set-based fact queries pay off.
EVALUATE_CHUNK = 25


async def _msps(db: Database) -> list[uuid.UUID]:
    async with db.transaction() as s:
        return list((await s.execute(text("SELECT alert_msps()"))).scalars().all())


async def evaluate_all(db: Database, include_findings: bool) -> int:
    """Evaluate every active practice, one transaction per chunk of an MSP's practices, giving way
    to live telemetry between chunks (pacing.py). Without findings, a practice this process
    evaluated within recent.RECENT is left out. Returns the number of practices evaluated."""
    units: list[tuple[uuid.UUID, list[uuid.UUID]]] = []
    for msp_id in await _msps(db):
        async with db.transaction(Scope(msp_id)) as s:
            ids = list((await s.scalars(select(Practice.id).where(Practice.msp_id == msp_id, Practice.active.is_(True))
                                        .order_by(Practice.id))).all())
        units += [(msp_id, ids[i:i + EVALUATE_CHUNK]) for i in range(0, len(ids), EVALUATE_CHUNK)]
    evaluated = 0
    for msp_id, chunk in units:
        await pacing.background_turn()
        # The time of the chunk, not of the pass: with telemetry queued, a pass gives way for seconds.
        now = utcnow()
        # What a telemetry batch evaluated a moment ago needs no second evaluation (recent.py).
        ids = chunk if include_findings else recent.stale(chunk, now)
        if not ids:
            continue
        async with db.transaction(Scope(msp_id)) as s:
            config = await alert_config.current_in(s, msp_id)
            await evaluate_practices(s, msp_id, ids, now, include_findings=include_findings, config=config)
        evaluated += len(ids)
    return evaluated


async def escalate_all(db: Database) -> int:
    escalated = 0
    for msp_id in await _msps(db):
        await pacing.background_turn()
        async with db.transaction(Scope(msp_id)) as s:
            escalated += await escalate_due(s, msp_id, utcnow(), config=await alert_config.current_in(s, msp_id))
    return escalated


@app.periodic(cron="* * * * * */15")
@app.task(name="alerts.dispatch_outbox", queue="notifications", queueing_lock="alerts.dispatch_outbox")
async def dispatch_outbox(timestamp: int) -> None:
    """Deliver due notifications (retries with backoff, dead letters, crash recovery)."""
    report = await dispatch.dispatch_all(database())
    if report.sent or report.dead or report.needs_review or report.retried:
        log.info("notifications_dispatched", **vars(report))


@app.periodic(cron="* * * * *")
@app.task(name="alerts.evaluate_time_based", queue="alerts", queueing_lock="alerts.evaluate_time_based")
async def evaluate_time_based(timestamp: int) -> None:
    """Rules that fire as time passes without telemetry: RPO aging, silence, overdue tests."""
    await evaluate_all(database(), include_findings=False)


@app.periodic(cron="* * * * *")
@app.task(name="alerts.escalate", queue="alerts", queueing_lock="alerts.escalate")
async def escalate(timestamp: int) -> None:
    """Escalate incidents nobody acknowledged in time to their routes' escalation channels."""
    escalated = await escalate_all(database())
    if escalated:
        log.info("incidents_escalated", count=escalated)
