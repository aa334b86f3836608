"""Fill the rules' snapshots (facts.py) from the inventory and the telemetry state tables.

Set-based queries, whatever the number of practices, sent together in one pipeline (one round
trip): the evaluation runs inside telemetry batches, and with one ORM query after another the
round trips were most of its time (nine statements at 0.5–5 ms each on the 2-core machine).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.alerts.facts import AgentFacts, JobFacts, LinkFacts, PracticeFacts, SiteFacts, SystemFacts
from services.core.db import driver_connection
from services.core.inventory.copies import OFFSITE_SQL
from services.core.telemetry import liveness
from services.core.telemetry.recovery import NEWEST_TESTS, RestoreTestResult

# The practices go as a binary array (`%(…)b`): every query here takes the list, and psycopg builds
# a text array in Python element by element (services/core/telemetry/state_updates.py has figures).
_WHERE = "msp_id = %(msp)s AND practice_id = ANY(%(practices)b)"

_PRACTICES = "SELECT id, name FROM practice WHERE msp_id = %(msp)s AND id = ANY(%(practices)b) AND active ORDER BY id"
_SITES = f"SELECT id, practice_id, name FROM site WHERE {_WHERE} ORDER BY id"
_JOBS = f"""
SELECT j.id, j.practice_id, j.site_id, j.name, {OFFSITE_SQL}, j.expected_interval_minutes,
       s.backup_job_id IS NOT NULL, s.last_run_at, s.last_status, s.last_success_at, s.last_restore_point_at,
       s.consecutive_failures, s.last_duration_seconds, s.last_bytes, s.baseline_duration_seconds, s.baseline_bytes
  FROM backup_job j LEFT JOIN backup_job_state s ON s.msp_id = j.msp_id AND s.backup_job_id = j.id
 WHERE j.msp_id = %(msp)s AND j.practice_id = ANY(%(practices)b) ORDER BY j.id"""
# The two newest successful runs of each job (stale success). It walks the (msp_id, job,
# finished_at) index from the newest end with a LIMIT per job: the evaluation runs inside every
# telemetry batch, so it must never scan history.
_LAST_TWO_SUCCESSES = """
SELECT j.id, r.restore_point_at, r.finished_at
  FROM backup_job j
 CROSS JOIN LATERAL (
   SELECT b.restore_point_at, b.finished_at, b.run_at FROM backup_run b
    WHERE b.msp_id = j.msp_id AND b.backup_job_id = j.id AND b.finished_at IS NOT NULL
      AND b.status = 'success' AND b.restore_point_at IS NOT NULL
    ORDER BY b.finished_at DESC, b.run_at DESC LIMIT 2) r
 WHERE j.msp_id = %(msp)s AND j.practice_id = ANY(%(practices)b)
 ORDER BY j.id, r.finished_at DESC, r.run_at DESC"""
_SYSTEMS = f"""SELECT id, practice_id, name, tier, rpo_minutes, rto_minutes, requires_onsite_copy, requires_offsite_copy
  FROM system WHERE {_WHERE} ORDER BY id"""
_JOB_SYSTEMS = f"SELECT system_id, backup_job_id FROM backup_job_system WHERE {_WHERE} ORDER BY system_id, backup_job_id"
# The newest restore test per system comes from services/core/telemetry/recovery.py, the one
# definition of achieved RTO that the dashboard uses too (written there with SQLAlchemy's binds).
_NEWEST_TESTS = re.sub(r"(?<!:):practices\b", "%(practices)b", re.sub(r"(?<!:):msp\b", "%(msp)s", NEWEST_TESTS.text))
_LINKS = """
SELECT l.id, l.practice_id, l.site_id, l.name, l.role, l.loss_threshold_pct, l.latency_threshold_ms, l.jitter_threshold_ms,
       l.created_at, s.link_id IS NOT NULL, s.up, s.state_since, s.on_backup_since, s.loss_pct, s.latency_ms, s.jitter_ms,
       s.transitions, s.last_sample_at
  FROM link l LEFT JOIN link_state s ON s.msp_id = l.msp_id AND s.link_id = l.id
 WHERE l.msp_id = %(msp)s AND l.practice_id = ANY(%(practices)b) ORDER BY l.id"""
# When each backup or hotspot link last carried the site's traffic: the newest failover onto it.
# It walks the site's failovers on the (msp_id, site_id, started_at) index from the newest end and
# stops at the first onto the link; failovers are rare (a few a month per site), so even a link
# never failed over to reads only its site's few rows, never the MSP's history.
_LAST_FAILOVERS = """
SELECT l.id, f.started_at
  FROM link l
 CROSS JOIN LATERAL (
   SELECT fe.started_at FROM failover_event fe
    WHERE fe.msp_id = l.msp_id AND fe.site_id = l.site_id AND fe.to_link_id = l.id
    ORDER BY fe.started_at DESC LIMIT 1) f
 WHERE l.msp_id = %(msp)s AND l.practice_id = ANY(%(practices)b) AND l.role IN ('backup', 'hotspot')"""
_AGENTS = f"""SELECT id, practice_id, site_id, hostname, last_seen_at, heartbeat_interval_seconds, created_at,
       probe_interval_seconds
  FROM agent WHERE {_WHERE} AND revoked_at IS NULL ORDER BY id"""

_QUERIES = (_PRACTICES, _SITES, _JOBS, _LAST_TWO_SUCCESSES, _SYSTEMS, _JOB_SYSTEMS, _NEWEST_TESTS, _LINKS, _LAST_FAILOVERS,
            _AGENTS)


async def load(session: AsyncSession, msp_id: uuid.UUID, practice_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, PracticeFacts]:
    ids = list(practice_ids)
    if not ids:
        return {}
    await session.flush()  # the queries below go to the driver directly: the session's changes first
    pg = await driver_connection(session)
    params = {"msp": msp_id, "practices": ids}
    async with pg.pipeline():
        cursors = [await pg.execute(sql, params) for sql in _QUERIES]
    (practices, sites, jobs, successes, systems, job_systems, tests, links, failovers,
     agents) = [await c.fetchall() for c in cursors]

    out = {pid: PracticeFacts(pid, name) for pid, name in practices}
    for site_id, pid, name in sites:
        if pid in out:
            out[pid].sites[site_id] = SiteFacts(site_id, name)

    by_job: dict[uuid.UUID, JobFacts] = {}
    for (job_id, pid, site_id, name, offsite, interval, has_state, last_run, status, last_success, point, failures,
         duration, size, base_duration, base_size) in jobs:
        if pid not in out:
            continue
        f = JobFacts(job_id, pid, site_id, name, offsite, interval)
        if has_state:
            f.last_run_at, f.last_status, f.last_success_at = last_run, status, last_success
            f.last_restore_point_at, f.consecutive_failures = point, failures
            f.last_duration_seconds, f.last_bytes = duration, size
            f.baseline_duration_seconds, f.baseline_bytes = base_duration, base_size
        out[pid].jobs[job_id] = by_job[job_id] = f
    seen: set[uuid.UUID] = set()
    for job_id, point, finished in successes:  # newest first within each job
        if job_id not in by_job:
            continue
        if job_id in seen:
            by_job[job_id].previous_success_restore_point = point
        else:
            by_job[job_id].newest_success_restore_point = point
            by_job[job_id].newest_success_finished_at = finished
            seen.add(job_id)

    by_system: dict[uuid.UUID, SystemFacts] = {}
    for system_id, pid, name, tier, rpo, rto, onsite, offsite in systems:
        if pid in out:
            by_system[system_id] = SystemFacts(system_id, pid, name, tier, rpo, rto, onsite, offsite)
            out[pid].systems.append(by_system[system_id])
    for system_id, job_id in job_systems:
        if system_id in by_system:
            by_system[system_id].job_ids.append(job_id)
    for system_id, *test in tests:
        if system_id in by_system:
            by_system[system_id].last_test = RestoreTestResult(*test)

    for agent_id, pid, site_id, hostname, last_seen, interval, enrolled_at, probe_interval in agents:
        if pid in out:
            out[pid].agents.append(AgentFacts(agent_id, pid, site_id, hostname or str(agent_id)[:8], last_seen, interval,
                                              enrolled_at, probe_interval))
    # The agents are the non-revoked ones (_AGENTS): how often each site's links are sampled.
    sampling = liveness.site_sampling((a.site_id, a.probe_interval_seconds, a.enrolled_at)
                                      for p in out.values() for a in p.agents if a.site_id is not None)

    last_failover: dict[uuid.UUID, datetime] = dict(failovers)  # link id → its newest failover's start
    for (link_id, pid, site_id, name, role, loss_limit, latency_limit, jitter_limit, created_at, has_state, up, since,
         on_backup, loss, latency, jitter, transitions, last_sample) in links:
        if pid not in out:
            continue
        lf = LinkFacts(link_id, pid, site_id, name, role, loss_limit, latency_limit, jitter_limit, created_at,
                       last_failover_at=last_failover.get(link_id))
        if has_state:
            lf.up, lf.state_since, lf.on_backup_since = up, since, on_backup
            lf.loss_pct, lf.latency_ms, lf.jitter_ms = loss, latency, jitter
            lf.transitions = list(transitions or [])
            lf.last_sample_at = last_sample
        lf.sampling = sampling.get(site_id, liveness.SiteSampling())
        out[pid].links.append(lf)
    return out


async def plan_findings(session: AsyncSession, msp_id: uuid.UUID, practice_ids: list[uuid.UUID],
                        now: datetime) -> dict[uuid.UUID, list]:
    """The plan and inventory checks' findings of these practices (low-urgency incidents): the
    inventories in one load for all of them, the plan checks one practice at a time."""
    from services.core.inventory.checks import inventory_findings_many
    from services.core.plans.checks import plan_findings as plan_checks

    inventory = await inventory_findings_many(session, msp_id, practice_ids, now)
    return {pid: [*inventory[pid], *await plan_checks(session, msp_id, pid, now)] for pid in practice_ids}
