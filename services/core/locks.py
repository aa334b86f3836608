"""The advisory locks that serialise work on one MSP or one practice, in the one order every
transaction takes them (docs/decisions/0005-lock-order.md):

1. the MSP's telemetry lock — batches try it; whatever else takes it takes it first;
2. the practices' incident locks — sorted, in one statement;
3. rows (incidents, telemetry state, the practice's own rows);
4. the MSP's audit-chain lock (services/core/audit/service.record), last.

Nothing that holds a later one waits for an earlier one. Each is transaction-scoped and re-entrant.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# The telemetry batch's key (services/core/telemetry/claim.py LOCK_KEY, processing.py _TRY_LOCK).
_TELEMETRY = text("SELECT pg_advisory_xact_lock(hashtextextended('telemetry:' || CAST(:msp AS text), 0))")
# One statement, the locks taken in sorted order (so two callers never wait on each other in a
# cycle); one round trip instead of one per practice.
_PRACTICES = text(
    "SELECT count(pg_advisory_xact_lock(hashtextextended('incidents:' || p, 0)))"
    " FROM (SELECT p FROM unnest(CAST(:ps AS text[])) AS p ORDER BY p) AS ordered")
_TRY_PRACTICES = text(
    "SELECT CAST(p AS uuid) FROM (SELECT p FROM unnest(CAST(:ps AS text[])) AS p ORDER BY p) AS ordered"
    " WHERE pg_try_advisory_xact_lock(hashtextextended('incidents:' || p, 0))")


async def wait_for_telemetry(session: AsyncSession, msp_id: uuid.UUID) -> None:
    """Hold the MSP's telemetry lock: waits for the batch being applied, and batches skip the MSP
    until this transaction ends. For work that changes the rows a batch writes and then the
    incidents (removing a practice or a site, the dead man's switch): a batch takes those rows
    before the practices' incident locks, so such work must exclude batches before taking them."""
    await session.execute(_TELEMETRY, {"msp": str(msp_id)})


async def lock_practices(session: AsyncSession, practice_ids: Iterable[uuid.UUID]) -> None:
    """Serialise incident changes per practice (evaluations in several workers, API actions,
    escalation, removals)."""
    ids = sorted({str(p) for p in practice_ids})
    if ids:
        await session.execute(_PRACTICES, {"ps": ids})


async def try_lock_practices(session: AsyncSession, practice_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The practices whose incident locks this transaction now holds, without waiting for the others
    (for periodic work that can leave a busy practice to its next pass)."""
    ids = sorted({str(p) for p in practice_ids})
    if not ids:
        return set()
    return set((await session.execute(_TRY_PRACTICES, {"ps": ids})).scalars())
