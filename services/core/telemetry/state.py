"""Current telemetry state of a practice, for the API and for other domains (alerts, readiness).

    backup_states(session, msp_id, practice_id)   every backup job with its state (None fields: never reported)
    link_states(session, msp_id, practice_id)     every link with its state
    agents(session, msp_id, practice_id, now)     every agent with its liveness

Every query filters by msp_id and practice_id (row-level security is the second wall).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.base import utcnow
from services.core.telemetry import liveness
from services.core.telemetry.schemas_state import AgentStateOut, BackupJobStateOut, LinkStateOut

_JOBS = text("""
SELECT j.id AS backup_job_id, j.name, j.location, j.tool, j.verifies, j.expected_interval_minutes, s.last_run_at,
       s.last_status, s.last_exit_code, s.last_success_at, s.last_restore_point_at, s.running_since,
       coalesce(s.consecutive_failures, 0) AS consecutive_failures, s.last_duration_seconds, s.last_bytes,
       s.baseline_duration_seconds, s.baseline_bytes, s.last_log_tail
  FROM backup_job j
  LEFT JOIN backup_job_state s ON s.msp_id = j.msp_id AND s.backup_job_id = j.id
 WHERE j.msp_id = :m AND j.practice_id = :p
 ORDER BY j.name
""")

_LINKS = text("""
SELECT l.id AS link_id, l.site_id, l.name, l.role, l.medium, s.up, s.state_since, s.last_sample_at, s.loss_pct,
       s.latency_ms, s.jitter_ms, l.loss_threshold_pct, l.latency_threshold_ms, l.jitter_threshold_ms,
       coalesce(s.flaps_last_hour, 0) AS flaps_last_hour, s.on_backup_since
  FROM link l
  LEFT JOIN link_state s ON s.msp_id = l.msp_id AND s.link_id = l.id
 WHERE l.msp_id = :m AND l.practice_id = :p
 ORDER BY l.site_id, l.role, l.name
""")

_AGENTS = text("""
SELECT a.id AS agent_id, a.site_id, a.hostname, a.agent_version, a.heartbeat_interval_seconds, a.last_seen_at,
       a.created_at AS enrolled_at, a.revoked_at IS NOT NULL AS revoked, s.silent_since
  FROM agent a
  LEFT JOIN agent_state s ON s.msp_id = a.msp_id AND s.agent_id = a.id
 WHERE a.msp_id = :m AND a.practice_id = :p
 ORDER BY a.site_id, a.hostname, a.id
""")


async def backup_states(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID) -> list[BackupJobStateOut]:
    # Imported here: readiness reads this module too.
    from services.core.readiness.judged import newest_success_is_stale, stale_runs, stored_findings

    rows = (await session.execute(_JOBS, {"m": msp_id, "p": practice_id})).mappings()
    stale = stale_runs(await stored_findings(session, msp_id, practice_id))
    return [BackupJobStateOut.model_validate({
        **r, "stale_success": newest_success_is_stale(stale, r["backup_job_id"], r["last_success_at"]),
        "stale_success_at": stale.get(str(r["backup_job_id"]))}) for r in rows]


async def link_states(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID,
                      now: datetime | None = None) -> list[LinkStateOut]:
    from services.core.alerts.liveness import link_screen  # the threshold is an alert-policy setting

    rows = [dict(r) for r in (await session.execute(_LINKS, {"m": msp_id, "p": practice_id})).mappings()]
    if not rows:
        return []
    shown = await link_screen(session, msp_id, practice_id, now or utcnow())
    out = []
    for r in rows:
        link = shown(r["site_id"], r["up"], r["last_sample_at"])
        out.append(LinkStateOut.model_validate({**r, "state": link.state, "no_data_since": link.no_data_since}))
    return out


async def agents(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID,
                 now: datetime | None = None) -> list[AgentStateOut]:
    from services.core.alerts.liveness import graces  # the grace is an alert-policy setting

    now = now or utcnow()
    rows = [dict(r) for r in (await session.execute(_AGENTS, {"m": msp_id, "p": practice_id})).mappings()]
    if not rows:  # no policy read for a practice without agents
        return []
    grace = await graces(session, msp_id, [practice_id])
    for r in rows:
        r["silent"] = not r["revoked"] and liveness.is_silent(r["last_seen_at"], r.pop("enrolled_at"), r["heartbeat_interval_seconds"],
                                                             grace(practice_id, r["site_id"]), now)
    return [AgentStateOut.model_validate(r) for r in rows]
