"""A stalled MSP: its telemetry batch keeps failing for a reason that is not the events' own.

The worker records the failure in a short transaction of its own (the batch's rolled back) and
keeps retrying with a back-off; the MSP's later telemetry waits behind the failing batch, because
state is applied in order and skipping ahead would apply a newer event before an older one. The
stall is over once the batch's oldest event is no longer pending, whoever applied it, so the
successful batch writes nothing here (docs/decisions/0006-dead-letters.md).
"""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.db import Database, Scope
from services.core.telemetry.schemas_dead_letter import TelemetryStallOut

ERROR_CHARS = 500

# A failure at the same oldest pending event continues the stall; at a later one, it is a new stall.
_RECORD = text("""
INSERT INTO telemetry_stall AS s (msp_id, first_seq, since, last_failed_at, failures, batch_size, error_type, error)
SELECT :msp, p.seq, now(), now(), 1, :size, :error_type, :error
  FROM (SELECT min(seq) AS seq FROM telemetry_event WHERE msp_id = :msp AND processed_at IS NULL) p
 WHERE p.seq IS NOT NULL
ON CONFLICT (msp_id) DO UPDATE SET
  since = CASE WHEN s.first_seq = EXCLUDED.first_seq THEN s.since ELSE EXCLUDED.since END,
  failures = CASE WHEN s.first_seq = EXCLUDED.first_seq THEN s.failures + 1 ELSE 1 END,
  first_seq = EXCLUDED.first_seq, last_failed_at = now(), batch_size = EXCLUDED.batch_size,
  error_type = EXCLUDED.error_type, error = EXCLUDED.error
""")


async def record_failure(db: Database, msp_id: uuid.UUID, batch_size: int, error: BaseException) -> None:
    async with db.transaction(Scope(msp_id)) as session:
        await session.execute(_RECORD, {"msp": msp_id, "size": batch_size, "error_type": type(error).__name__[:100],
                                        "error": repr(error)[:ERROR_CHARS]})


_CURRENT = text("""
SELECT s.since, s.last_failed_at, s.failures,
       (SELECT count(*) FROM telemetry_event e WHERE e.msp_id = s.msp_id AND e.processed_at IS NULL) AS pending
  FROM telemetry_stall s
 WHERE s.msp_id = :msp
   AND EXISTS (SELECT 1 FROM telemetry_event e WHERE e.msp_id = s.msp_id AND e.seq = s.first_seq AND e.processed_at IS NULL)
""")


async def current(session: AsyncSession, msp_id: uuid.UUID) -> TelemetryStallOut:
    """Whether the MSP's telemetry is stalled now, since when, and how much waits behind it."""
    row = (await session.execute(_CURRENT, {"msp": msp_id})).first()
    if row is None:
        return TelemetryStallOut(stalled=False)
    return TelemetryStallOut(stalled=True, since=row.since, last_failed_at=row.last_failed_at, failures=row.failures,
                             pending_events=row.pending)
