"""The dead man's switch: an agent silent past its heartbeat interval plus the grace of its site
(liveness.py — the alert rule agent.silent's definition; an agent that never reported counts from
its enrollment) is marked silent (agent_state.silent_since),
"agent.offline" goes out on the live stream, and the practice's hooks are called so the alerts
engine can act. The mark is lifted by the next event processed from that agent (claim.py), which
publishes "agent.online"."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy import text

from services.core import locks, pacing
from services.core.base import utcnow
from services.core.db import Database, Scope
from services.core.telemetry import hooks, liveness
from services.core.telemetry.processing import agent_event

_CANDIDATES = text("SELECT msp_id, agent_id, practice_id, site_id, last_seen_at, enrolled_at, heartbeat_interval_seconds"
                   " FROM telemetry_possibly_silent_agents(:min_grace_seconds)")

# Compare-and-set under the tenant scope: an agent heard from since the sweep judged it (its
# last_seen_at moved, also from never to once) stays unmarked.
_MARK = text("""
INSERT INTO agent_state AS s (msp_id, agent_id, practice_id, silent_since, updated_at)
SELECT a.msp_id, a.id, a.practice_id, v.since, now()
  FROM unnest(CAST(:ids AS uuid[]), CAST(:seen AS timestamptz[]), CAST(:since AS timestamptz[])) AS v(id, seen, since)
  JOIN agent a ON a.msp_id = :msp AND a.id = v.id
 WHERE a.revoked_at IS NULL AND a.last_seen_at IS NOT DISTINCT FROM v.seen
ON CONFLICT (msp_id, agent_id) DO UPDATE SET silent_since = EXCLUDED.silent_since, updated_at = now()
 WHERE s.silent_since IS NULL
RETURNING s.agent_id, s.practice_id, s.silent_since
""")
_AGENTS = text("SELECT id, site_id, hostname FROM agent WHERE msp_id = :msp AND id = ANY(CAST(:ids AS uuid[]))")


async def sweep(db: Database, now: datetime | None = None) -> int:
    """Mark newly silent agents, publish agent.offline and call the hooks of their practices;
    returns how many were marked."""
    from services.core.alerts.liveness import graces  # the grace is an alert-policy setting

    now = now or utcnow()
    async with db.transaction() as session:
        rows = (await session.execute(_CANDIDATES, {"min_grace_seconds": liveness.MIN_GRACE_MINUTES * 60.0})).all()
    by_msp: dict[uuid.UUID, list] = defaultdict(list)
    for row in rows:
        by_msp[row.msp_id].append(row)
    marked = 0
    for msp_id, candidates in by_msp.items():
        await pacing.background_turn()
        async with db.transaction(Scope(msp_id)) as session:
            grace = await graces(session, msp_id, {c.practice_id for c in candidates})
            silent = [c for c in candidates if liveness.is_silent(c.last_seen_at, c.enrolled_at, c.heartbeat_interval_seconds,
                                                                  grace(c.practice_id, c.site_id), now)]
            if not silent:
                continue
            # Marks agents and then, through the hooks, takes the practices' incident locks, as a
            # batch does: so it excludes the MSP's batches first (docs/decisions/0005-lock-order.md).
            await locks.wait_for_telemetry(session, msp_id)
            done = (await session.execute(_MARK, {
                "msp": msp_id, "ids": [c.agent_id for c in silent], "seen": [c.last_seen_at for c in silent],
                "since": [liveness.silent_since(c.last_seen_at, c.enrolled_at, c.heartbeat_interval_seconds,
                                                grace(c.practice_id, c.site_id))
                          for c in silent]})).all()
            if not done:
                continue
            agents = {r.id: r for r in (await session.execute(_AGENTS, {"msp": msp_id, "ids": [d.agent_id for d in done]})).all()}
            for d in done:
                a = agents.get(d.agent_id)
                await agent_event(session, msp_id, "agent.offline", d.agent_id, d.practice_id, a.site_id if a else None,
                                  (a.hostname if a else None) or str(d.agent_id)[:8], d.silent_since)
            marked += len(done)
            await hooks.state_changed(session, msp_id, {d.practice_id for d in done}, now)
    return marked
