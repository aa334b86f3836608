"""Scheduled telemetry upkeep: partitions, retention, the dead man's switch.

Each periodic job holds a queueing lock, so a slow run is never stacked with its successors, and
is safe to run twice (every step is idempotent).
"""

from __future__ import annotations

import structlog

from services.core.telemetry import dead_letters, deadman, partitions
from services.worker.app import app
from services.worker.context import database

log = structlog.get_logger("seawall.worker.telemetry")


@app.periodic(cron="17 * * * *")
@app.task(name="telemetry.partition_upkeep", queue="maintenance", queueing_lock="telemetry.partition_upkeep")
async def partition_upkeep(timestamp: int) -> None:
    """Create the next partitions ahead of need (hourly; a run creates weeks ahead)."""
    created = await partitions.upkeep(database())
    if created:
        log.info("telemetry_partitions_created", count=created)


@app.periodic(cron="43 3 * * *")
@app.task(name="telemetry.retention", queue="maintenance", queueing_lock="telemetry.retention")
async def retention(timestamp: int) -> None:
    """Drop history partitions past retention; purge processed inbox rows past the dedup window, ping
    timeline steps past theirs and resolved dead letters past theirs."""
    dropped = await partitions.drop_expired(database())
    purged = await partitions.purge_processed_inbox(database())
    letters = await dead_letters.purge_resolved(database())
    steps = await partitions.purge_ping_steps(database())
    log.info("telemetry_retention", dropped_partitions=dropped, purged_inbox_rows=purged, purged_dead_letters=letters,
             purged_ping_steps=steps)


@app.periodic(cron="* * * * * */20")
@app.task(name="telemetry.dead_mans_switch", queue="maintenance", queueing_lock="telemetry.dead_mans_switch")
async def dead_mans_switch(timestamp: int) -> None:
    """Mark agents silent past heartbeat interval + grace, and let the alerts engine act."""
    marked = await deadman.sweep(database())
    if marked:
        log.info("agents_fell_silent", count=marked)
