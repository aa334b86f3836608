"""Scheduled readiness jobs: recompute what changed, recompute everything hourly, the daily
snapshot and the monthly practice reports.

Each periodic job holds a queueing lock (never stacked with its successors) and is idempotent:
a claimed dirty mark is removed in the transaction that stores the new score, snapshots are
upserts, and a month's scheduled report is made once per practice.
"""

from __future__ import annotations

from datetime import datetime, timezone

import structlog

from services.core.readiness import reports, service
from services.worker.app import app
from services.worker.context import database

log = structlog.get_logger("seawall.worker.readiness")


def _at(timestamp: int) -> datetime:
    return datetime.fromtimestamp(timestamp, timezone.utc)


@app.periodic(cron="* * * * *")
@app.task(name="readiness.recompute_dirty", queue="readiness", queueing_lock="readiness.recompute_dirty")
async def recompute_dirty(timestamp: int) -> None:
    """Rescore the practices whose plan, inventory or telemetry changed (marked by mark_dirty)."""
    done = await service.recompute_dirty(database())
    if done:
        log.info("readiness_recomputed", practices=done, reason="dirty")


@app.periodic(cron="7 * * * *")
@app.task(name="readiness.recompute_all", queue="readiness", queueing_lock="readiness.recompute_all")
async def recompute_all(timestamp: int) -> None:
    """Rescore every practice hourly: time alone breaches an RPO or makes a review overdue."""
    done = await service.recompute_all(database())
    log.info("readiness_recomputed", practices=done, reason="hourly")


@app.periodic(cron="55 23 * * *")
@app.task(name="readiness.daily_snapshot", queue="readiness", queueing_lock="readiness.daily_snapshot")
async def daily_snapshot(timestamp: int) -> None:
    """Give every scored practice its snapshot for the day, and drop snapshots past retention."""
    msps = await service.snapshot_all(database(), _at(timestamp))
    log.info("readiness_snapshots", msps=msps)


@app.periodic(cron="30 2 1 * *")
@app.task(name="readiness.monthly_reports", queue="reports", queueing_lock="readiness.monthly_reports")
async def monthly_reports(timestamp: int) -> None:
    """The previous month's PDF report for every active practice (only those not made yet)."""
    now = _at(timestamp)
    month = reports.previous_month(now.date())
    db = database()
    made = 0
    for msp_id in await service.msps(db):
        made += await reports.generate_scheduled(db, msp_id, month, now)
    log.info("readiness_reports", month=month, reports=made)
