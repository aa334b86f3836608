"""The practice dashboard in one call: score, trend, systems (target vs achieved RPO/RTO), backups,
links with a 24-hour chart, agents, open incidents and plan status.

About a dozen indexed queries whatever the practice's size; the score is the stored one (the worker
keeps it fresh), so the page never waits on the findings being recomputed.
"""

from __future__ import annotations

import dataclasses
import importlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import units
from services.core.alerts.liveness import LinkScreen, graces, link_screen
from services.core.inventory.models import BackupJob, BackupJobSystem, Link, System
from services.core.plans.models import Plan, PlanAcknowledgement, PlanVersion, RoleAssignment, VersionStatus
from services.core.practices.models import Practice, Site
from services.core.readiness import service
from services.core.readiness.judged import newest_success_is_stale, stale_runs
from services.core.readiness.portfolio import trends
from services.core.telemetry import liveness
from services.core.telemetry.models_ingest import Agent
from services.core.telemetry.models_state import BackupJobState, LinkState

CHART_HOURS = 24

_LINK_CHART = text("""
SELECT link_id, date_trunc('hour', bucket) AS hour, sum(samples)::int AS samples, sum(up_samples)::int AS up_samples,
       sum(latency_sum) / nullif(sum(latency_count), 0) AS latency_ms, max(latency_max) AS latency_max_ms,
       sum(loss_sum) / nullif(sum(loss_count), 0) AS loss_pct, sum(jitter_sum) / nullif(sum(jitter_count), 0) AS jitter_ms
FROM link_sample_5m WHERE msp_id = :msp AND link_id = ANY(:links) AND bucket >= :since
GROUP BY link_id, hour ORDER BY link_id, hour
""")

_OPEN_INCIDENTS = text("""
SELECT id, rule_id, severity, component, status, title, opened_at, acknowledged_at, site_id
FROM incident WHERE msp_id = :msp AND practice_id = :practice AND resolved_at IS NULL AND parent_id IS NULL
ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END, opened_at DESC
""")


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):  # an instance, not a dataclass itself
        return dataclasses.asdict(obj)
    if hasattr(obj, "model_dump"):
        return obj.model_dump()
    return dict(vars(obj))


async def _recovery(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, now: datetime) -> dict[str, dict] | None:
    """Achieved RPO/RTO per system from services/core/telemetry/recovery.py, None when it is not installed."""
    try:
        module = importlib.import_module("services.core.telemetry.recovery")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("services."):
            return None
        raise
    fn = getattr(module, "system_recovery", None)
    if fn is None:
        return None
    out = {}
    for item in await fn(session, msp_id, practice_id, now):
        d = _as_dict(item)
        sid = d.get("system_id") or d.get("id")
        if sid is not None:
            out[str(sid)] = d
    return out


async def _systems(session: AsyncSession, practice: Practice, now: datetime) -> tuple[list[dict], bool]:
    scoped = {"msp_id": practice.msp_id, "practice_id": practice.id}
    systems = (await session.scalars(select(System).filter_by(**scoped).order_by(System.tier, System.name))).all()
    jobs_of: dict[uuid.UUID, list[str]] = {}
    for job_id, system_id in (await session.execute(
            select(BackupJobSystem.backup_job_id, BackupJobSystem.system_id).filter_by(**scoped))).all():
        jobs_of.setdefault(system_id, []).append(str(job_id))
    recovery = await _recovery(session, practice.msp_id, practice.id, now)
    out = []
    for s in systems:
        out.append({"id": s.id, "name": s.name, "category": s.category, "tier": s.tier, "holds_ephi": s.holds_ephi,
                    "target_rpo_minutes": s.rpo_minutes, "target_rto_minutes": s.rto_minutes, "mtd_minutes": s.mtd_minutes,
                    "backup_job_ids": jobs_of.get(s.id, []), "achieved": (recovery or {}).get(str(s.id))})
    return out, recovery is not None


async def _backups(session: AsyncSession, practice: Practice, findings: list) -> list[dict]:
    stale = stale_runs(findings)  # the stored judgement, as the Backups view reads it
    rows = (await session.execute(
        select(BackupJob, BackupJobState).outerjoin(BackupJobState, (BackupJobState.msp_id == BackupJob.msp_id)
                                                    & (BackupJobState.backup_job_id == BackupJob.id))
        .where(BackupJob.msp_id == practice.msp_id, BackupJob.practice_id == practice.id).order_by(BackupJob.name))).all()
    return [{"id": j.id, "name": j.name, "location": j.location, "tool": j.tool, "site_id": j.site_id,
             "encrypted": j.encrypted, "immutable": j.immutable, "expected_interval_minutes": j.expected_interval_minutes,
             "last_run_at": st.last_run_at if st else None, "last_status": st.last_status if st else None,
             "last_success_at": st.last_success_at if st else None,
             "last_restore_point_at": st.last_restore_point_at if st else None,
             "consecutive_failures": st.consecutive_failures if st else 0,
             "stale_success": newest_success_is_stale(stale, j.id, st.last_success_at if st else None),
             "stale_success_at": stale.get(str(j.id)),
             "running_since": st.running_since if st else None} for j, st in rows]


async def _links(session: AsyncSession, practice: Practice, now: datetime) -> list[dict]:
    rows = (await session.execute(
        select(Link, LinkState, Site.name).join(Site, (Site.msp_id == Link.msp_id) & (Site.id == Link.site_id))
        .outerjoin(LinkState, (LinkState.msp_id == Link.msp_id) & (LinkState.link_id == Link.id))
        .where(Link.msp_id == practice.msp_id, Link.practice_id == practice.id).order_by(Site.name, Link.role, Link.name))).all()
    charts: dict[uuid.UUID, list[dict]] = {}
    if rows:
        for r in (await session.execute(_LINK_CHART, {"msp": practice.msp_id, "links": [link.id for link, _, _ in rows],
                                                      "since": now - timedelta(hours=CHART_HOURS)})).mappings():
            # The sums are numeric in SQL: rounded to floats here, never sent as decimal strings.
            charts.setdefault(r["link_id"], []).append({
                "hour": r["hour"], "uptime_pct": round(100 * r["up_samples"] / r["samples"], 1) if r["samples"] else None,
                "latency_ms": units.ms(r["latency_ms"]), "latency_max_ms": units.ms(r["latency_max_ms"]),
                "loss_pct": units.loss_pct(r["loss_pct"]), "jitter_ms": units.ms(r["jitter_ms"])})
    # The state as the rules read it: "no data" after N sample intervals, never the last state (liveness.link_reading).
    shown = await link_screen(session, practice.msp_id, practice.id, now) if rows else None
    return [{"id": link.id, "name": link.name, "site_id": link.site_id, "site_name": site_name, "role": link.role,
             "isp": link.isp, "medium": link.medium, "up": st.up if st else None, "state_since": st.state_since if st else None,
             **_shown(shown, link.site_id, st),
             "last_sample_at": st.last_sample_at if st else None, "loss_pct": units.loss_pct(st.loss_pct) if st else None,
             "latency_ms": units.ms(st.latency_ms) if st else None, "jitter_ms": units.ms(st.jitter_ms) if st else None,
             "on_backup_since": st.on_backup_since if st else None,
             "thresholds": {"loss_pct": link.loss_threshold_pct, "latency_ms": link.latency_threshold_ms,
                            "jitter_ms": link.jitter_threshold_ms},
             "chart_24h": charts.get(link.id, [])} for link, st, site_name in rows]


def _shown(shown: LinkScreen | None, site_id: uuid.UUID, st: LinkState | None) -> dict[str, Any]:
    if shown is None:
        return {"state": "unknown", "no_data_since": None}
    link = shown(site_id, st.up if st else None, st.last_sample_at if st else None)
    return {"state": link.state, "no_data_since": link.no_data_since}


async def _agents(session: AsyncSession, practice: Practice, now: datetime) -> list[dict]:
    agents = (await session.scalars(select(Agent).where(Agent.msp_id == practice.msp_id, Agent.practice_id == practice.id,
                                                        Agent.revoked_at.is_(None)).order_by(Agent.hostname))).all()
    # Online = heard from and not silent by the alert rule's definition, with the site's grace.
    if not agents:  # no policy read for a practice without agents
        return []
    grace = await graces(session, practice.msp_id, [practice.id])
    return [{"id": a.id, "hostname": a.hostname, "site_id": a.site_id, "agent_version": a.agent_version,
             "last_seen_at": a.last_seen_at,
             "online": a.last_seen_at is not None
             and not liveness.is_silent(a.last_seen_at, a.created_at, a.heartbeat_interval_seconds, grace(practice.id, a.site_id), now)}
            for a in agents]


async def _incidents(session: AsyncSession, practice: Practice) -> dict[str, Any]:
    rows = [dict(r) for r in (await session.execute(_OPEN_INCIDENTS, {"msp": practice.msp_id, "practice": practice.id})).mappings()]
    counts = {s: sum(1 for r in rows if r["severity"] == s) for s in ("critical", "high", "medium", "low")}
    return {"counts": {**counts, "total": len(rows)}, "open": rows[:20]}


async def _plan(session: AsyncSession, practice: Practice, now: datetime) -> dict[str, Any]:
    plan = await session.scalar(select(Plan).where(Plan.msp_id == practice.msp_id, Plan.practice_id == practice.id))
    if plan is None:
        return {"exists": False, "status": "none"}
    versions = (await session.scalars(select(PlanVersion).where(
        PlanVersion.msp_id == plan.msp_id, PlanVersion.plan_id == plan.id,
        PlanVersion.status != VersionStatus.superseded.value))).all()
    approved = next((v for v in versions if v.status == VersionStatus.approved.value), None)
    working = next((v for v in versions if v.status != VersionStatus.approved.value), None)
    out: dict[str, Any] = {"exists": True, "plan_id": plan.id, "status": "approved" if approved else "not_approved",
                           "approved_version": None, "working_version": None}
    if working is not None:
        out["working_version"] = {"number": working.number, "status": working.status, "updated_at": working.updated_at}
    if approved is not None:
        holders = (await session.scalars(select(RoleAssignment.user_id).where(
            RoleAssignment.msp_id == practice.msp_id, RoleAssignment.practice_id == practice.id))).all()
        acked = set((await session.scalars(select(PlanAcknowledgement.user_id).where(
            PlanAcknowledgement.msp_id == practice.msp_id, PlanAcknowledgement.plan_version_id == approved.id))).all())
        out["approved_version"] = {"number": approved.number, "approved_at": approved.approved_at,
                                   "approved_by": approved.approved_by_label, "effective_date": approved.effective_date,
                                   "next_review_date": approved.next_review_date,
                                   "review_overdue": approved.next_review_date is not None
                                   and approved.next_review_date < now.date(),
                                   "role_holders": len(set(holders)), "acknowledged": len(set(holders) & acked)}
    return out


async def dashboard(session: AsyncSession, practice: Practice, now: datetime) -> dict[str, Any]:
    readiness = await service.current(session, practice.msp_id, practice.id)
    systems, recovery_available = await _systems(session, practice, now)
    return {
        "practice_id": practice.id, "name": practice.name,
        "readiness": readiness_out(readiness),
        "trend": (await trends(session, practice.msp_id, [practice.id], now))[practice.id],
        "systems": systems, "recovery_available": recovery_available,
        "backups": await _backups(session, practice, readiness.findings),
        "links": await _links(session, practice, now),
        "agents": await _agents(session, practice, now),
        "incidents": await _incidents(session, practice),
        "plan": await _plan(session, practice, now),
    }


def readiness_out(row) -> dict[str, Any]:
    return {"practice_id": row.practice_id, "score": row.score, "status": row.status, "components": row.components,
            "findings": row.findings, "sources": row.sources, "computed_at": row.computed_at, "changed_at": row.changed_at}
