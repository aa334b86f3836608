"""Fill the rules' snapshots (facts.py) from the inventory and the telemetry state tables.

A handful of set-based queries per evaluation, whatever the number of practices, so the hook can
run inside every telemetry batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts.facts import AgentFacts, JobFacts, LinkFacts, PracticeFacts, SiteFacts, SystemFacts
from services.core.inventory.models import BackupJob, BackupJobSystem, Link, System
from services.core.practices.models import Practice, Site
from services.core.telemetry.models_ingest import Agent
from services.core.telemetry.models_state import BackupJobState, LinkState
from services.core.telemetry.recovery import newest_tests

# The two newest successful runs of each job (stale success). It walks the (msp_id, job,
# finished_at) index from the newest end with a LIMIT per job: the evaluation runs inside every
# telemetry batch, so it must never scan history. The newest restore test per system (no restore
# test / RTO above target) comes from services/core/telemetry/recovery.py, the one definition of
# achieved RTO that the dashboard uses too.
_LAST_TWO_SUCCESSES = text("""
SELECT j.id AS backup_job_id, r.restore_point_at
FROM backup_job j
CROSS JOIN LATERAL (
  SELECT b.restore_point_at FROM backup_run b
  WHERE b.msp_id = j.msp_id AND b.backup_job_id = j.id AND b.finished_at IS NOT NULL
    AND b.status = 'success' AND b.restore_point_at IS NOT NULL
  ORDER BY b.finished_at DESC, b.run_at DESC LIMIT 2
) r
WHERE j.msp_id = :msp AND j.practice_id = ANY(:practices)
ORDER BY j.id
""")


async def load(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, PracticeFacts]:
    ids = list(practice_ids)
    if not ids:
        return {}
    out = {p.id: PracticeFacts(p.id, p.name) for p in (await session.scalars(
        select(Practice).where(Practice.msp_id == msp_id, Practice.id.in_(ids), Practice.active.is_(True)))).all()}
    ids = list(out)
    if not ids:
        return out
    for site in (await session.scalars(select(Site).where(Site.msp_id == msp_id, Site.practice_id.in_(ids)))).all():
        out[site.practice_id].sites[site.id] = SiteFacts(site.id, site.name)

    rows = (await session.execute(
        select(BackupJob, BackupJobState).outerjoin(BackupJobState, (BackupJobState.msp_id == BackupJob.msp_id)
                                                    & (BackupJobState.backup_job_id == BackupJob.id))
        .where(BackupJob.msp_id == msp_id, BackupJob.practice_id.in_(ids)))).all()
    for job, st in rows:
        f = JobFacts(job.id, job.practice_id, job.site_id, job.name, job.offsite, job.expected_interval_minutes)
        if st is not None:
            f.last_run_at, f.last_status, f.last_success_at = st.last_run_at, st.last_status, st.last_success_at
            f.last_restore_point_at, f.consecutive_failures = st.last_restore_point_at, st.consecutive_failures
            f.last_duration_seconds, f.last_bytes = st.last_duration_seconds, st.last_bytes
            f.baseline_duration_seconds, f.baseline_bytes = st.baseline_duration_seconds, st.baseline_bytes
        out[job.practice_id].jobs[job.id] = f
    jobs = {j.id: j for p in out.values() for j in p.jobs.values()}
    seen: set[uuid.UUID] = set()
    for job_id, point in (await session.execute(_LAST_TWO_SUCCESSES, {"msp": msp_id, "practices": ids})).all():
        if job_id not in jobs:
            continue
        if job_id in seen:
            jobs[job_id].previous_success_restore_point = point
        else:
            jobs[job_id].newest_success_restore_point = point
            seen.add(job_id)

    systems: dict[uuid.UUID, SystemFacts] = {}
    for s in (await session.scalars(select(System).where(System.msp_id == msp_id, System.practice_id.in_(ids)))).all():
        systems[s.id] = SystemFacts(s.id, s.practice_id, s.name, s.tier, s.rpo_minutes, s.rto_minutes,
                                    s.requires_onsite_copy, s.requires_offsite_copy)
        out[s.practice_id].systems.append(systems[s.id])
    for link_row in (await session.scalars(select(BackupJobSystem).where(
            BackupJobSystem.msp_id == msp_id, BackupJobSystem.practice_id.in_(ids)))).all():
        if link_row.system_id in systems:
            systems[link_row.system_id].job_ids.append(link_row.backup_job_id)
    for system_id, test in (await newest_tests(session, msp_id, ids)).items():
        if system_id in systems:
            systems[system_id].last_test = test

    rows = (await session.execute(
        select(Link, LinkState).outerjoin(LinkState, (LinkState.msp_id == Link.msp_id) & (LinkState.link_id == Link.id))
        .where(Link.msp_id == msp_id, Link.practice_id.in_(ids)))).all()
    for link, st in rows:
        f = LinkFacts(link.id, link.practice_id, link.site_id, link.name, link.role, link.loss_threshold_pct,
                      link.latency_threshold_ms, link.jitter_threshold_ms)
        if st is not None:
            f.up, f.state_since, f.on_backup_since = st.up, st.state_since, st.on_backup_since
            f.loss_pct, f.latency_ms, f.jitter_ms = st.loss_pct, st.latency_ms, st.jitter_ms
        out[link.practice_id].links.append(f)

    for a in (await session.scalars(select(Agent).where(Agent.msp_id == msp_id, Agent.practice_id.in_(ids),
                                                        Agent.revoked_at.is_(None)))).all():
        out[a.practice_id].agents.append(AgentFacts(a.id, a.practice_id, a.site_id, a.hostname or str(a.id)[:8],
                                                    a.last_seen_at, a.heartbeat_interval_seconds))
    return out


async def plan_findings(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, now: datetime) -> list:
    """The plan and inventory checks' findings for one practice (low-urgency incidents)."""
    from services.core.inventory.checks import inventory_findings
    from services.core.plans.checks import plan_findings as plan_checks

    return [*await inventory_findings(session, msp_id, practice_id, now), *await plan_checks(session, msp_id, practice_id, now)]
