"""Partition upkeep and retention for telemetry history, and the purge of the processed inbox.

The application role owns no table, so the DDL runs in SECURITY DEFINER functions created by
migration 0005. Retention periods are fixed there, not passed in, so no caller can shorten them:

| table | partition | kept |
|---|---|---|
| backup_run, restore_test | month | ≥ 6 years (HIPAA evidence, 45 CFR 164.316(b)(2)) |
| link_sample (raw) | day | 14 days |
| link_sample_5m | month | ≥ 13 months |
| telemetry_event (processed) | — | 31 days: the ingest window is 30, so a late duplicate is still recognised |

A partition is dropped only when its whole range is older than the period, so every row is kept
at least that long. Rows outside every partition land in a DEFAULT partition and move into the
right one when upkeep creates it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from services.core.base import utcnow
from services.core.db import Database

# The ingest window reaches 30 days back; monthly partitions two months ahead (daily ones are
# kept to ±15 days by the function: raw samples are never stored older than 14 days).
BEHIND = timedelta(days=32)
AHEAD = timedelta(days=62)
PURGE_CHUNK = 50_000


async def upkeep(db: Database, now: datetime | None = None) -> int:
    """Create the partitions the coming weeks need; returns how many were created."""
    now = now or utcnow()
    async with db.transaction() as session:
        return await session.scalar(text("SELECT telemetry_create_partitions(:lo, :hi)"),
                                    {"lo": now - BEHIND, "hi": now + AHEAD})


async def drop_expired(db: Database) -> list[str]:
    """Drop the partitions past retention; returns their names."""
    async with db.transaction() as session:
        return list(await session.scalars(text("SELECT telemetry_drop_expired_partitions()")))


async def purge_processed_inbox(db: Database) -> int:
    """Delete processed inbox rows past the dedup window, in chunks so no transaction grows large."""
    total = 0
    while True:
        async with db.transaction() as session:
            n = await session.scalar(text("SELECT telemetry_purge_processed(:n)"), {"n": PURGE_CHUNK})
        total += n
        if n < PURGE_CHUNK:
            return total


async def purge_ping_steps(db: Database) -> int:
    """Delete ping timeline steps past retention (models_pings.RETENTION_DAYS), in chunks."""
    total = 0
    while True:
        async with db.transaction() as session:
            n = await session.scalar(text("SELECT ping_step_purge(:n)"), {"n": PURGE_CHUNK})
        total += n
        if n < PURGE_CHUNK:
            return total
