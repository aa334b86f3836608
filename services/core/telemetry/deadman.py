"""The dead man's switch: an agent silent past its heartbeat interval plus a grace of two
intervals is marked silent (agent_state.silent_since) and the practice's hooks are called, so the
alerts engine can act. The mark is lifted by the next event processed from that agent."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import text

from services.core.base import utcnow
from services.core.db import Database, Scope
from services.core.telemetry import hooks

# Re-checked under the tenant scope: an agent heard from since the sweep's query stays unmarked.
_MARK = text("""
INSERT INTO agent_state AS s (msp_id, agent_id, practice_id, silent_since, updated_at)
SELECT a.msp_id, a.id, a.practice_id, v.since, now()
  FROM unnest(CAST(:ids AS uuid[]), CAST(:since AS timestamptz[])) AS v(id, since)
  JOIN agent a ON a.msp_id = :msp AND a.id = v.id
 WHERE a.revoked_at IS NULL
   AND coalesce(a.last_seen_at, a.created_at) < now() - make_interval(secs => a.heartbeat_interval_seconds * 3)
ON CONFLICT (msp_id, agent_id) DO UPDATE SET silent_since = EXCLUDED.silent_since, updated_at = now()
 WHERE s.silent_since IS NULL
RETURNING s.practice_id
""")


async def sweep(db: Database, now: datetime | None = None) -> int:
    """Mark newly silent agents and call the hooks of their practices; returns how many were marked."""
    async with db.transaction() as session:
        rows = (await session.execute(text("SELECT msp_id, agent_id, silent_since FROM telemetry_newly_silent_agents()"))).all()
    by_msp: dict[uuid.UUID, list[tuple[uuid.UUID, datetime]]] = defaultdict(list)
    for msp_id, agent_id, since in rows:
        by_msp[msp_id].append((agent_id, since))
    marked = 0
    for msp_id, agents in by_msp.items():
        async with db.transaction(Scope(msp_id)) as session:
            practice_of_marked = (await session.scalars(_MARK, {"msp": msp_id, "ids": [a for a, _ in agents],
                                                                "since": [s for _, s in agents]})).all()
            marked += len(practice_of_marked)
            await hooks.state_changed(session, msp_id, set(practice_of_marked), now or utcnow())
    return marked
