"""Readiness factories: a practice built to be perfect, faults to break it, and a scored portfolio."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import text

from services.core.base import utcnow
from services.core.db import Database, Scope
from services.core.inventory.models import BackupJob, Link, System
from services.core.plans import templates as T
from services.core.plans.models import Plan, PlanExport, PlanVersion
from services.core.practices.models import Practice, Site
from services.core.telemetry.models_state import BackupJobState, LinkState
from tests.factories_inventory import create_job, create_link, create_system


@dataclass
class PerfectPractice:
    practice: Practice
    site: Site
    ehr: System
    onsite: BackupJob
    offsite: BackupJob
    primary: Link
    backup: Link
    plan_version_id: uuid.UUID


def complete_sections() -> list[dict]:
    """Every built-in section, written in full (no [[blanks]])."""
    return [{**s, "body": f"{s['title']}: written for this practice, reviewed with the MSP."} for s in T.default_sections()]


async def build_perfect_practice(db: Database, practice: Practice, site: Site, now: datetime | None = None) -> PerfectPractice:
    """Everything every check asks for: redundant links that are up, an ePHI system backed up on site
    and off site (encrypted, immutable, BAA), fresh restore points, a recent restore test within
    the RTO, and an approved, complete, exported plan."""
    now = now or utcnow()
    ehr = await create_system(db, practice, "EHR", tier=1, holds_ephi=True, rpo_minutes=1440, rto_minutes=240, mtd_minutes=480)
    onsite = await create_job(db, practice, "NAS nightly", systems=[ehr], location="onsite", site_id=site.id, immutable=True)
    offsite = await create_job(db, practice, "Cloud nightly", systems=[ehr], location="cloud", site_id=site.id, immutable=True,
                               baa_on_file=True, provider="Wasabi")
    primary = await create_link(db, site, "Fiber", "primary")
    backup = await create_link(db, site, "LTE", "backup", medium="5g_lte")
    m, p = practice.msp_id, practice.id
    async with db.transaction(Scope(m)) as s:
        for job in (onsite, offsite):
            s.add(BackupJobState(msp_id=m, backup_job_id=job.id, practice_id=p, last_run_at=now - timedelta(hours=1),
                                 last_status="success", last_success_at=now - timedelta(hours=1),
                                 last_restore_point_at=now - timedelta(hours=1), consecutive_failures=0,
                                 last_duration_seconds=600, last_bytes=10_000_000, baseline_duration_seconds=600,
                                 baseline_bytes=10_000_000))
        for link in (primary, backup):
            s.add(LinkState(msp_id=m, link_id=link.id, practice_id=p, site_id=site.id, up=True, state_since=now - timedelta(days=2),
                            last_sample_at=now - timedelta(minutes=1), loss_pct=0.0, latency_ms=20.0, jitter_ms=2.0))
        await s.execute(text(
            "INSERT INTO restore_test (msp_id, id, created_at, started_at, practice_id, backup_job_id, system_id, finished_at,"
            " duration_seconds, success, source_id, report_event_id) VALUES (:m, :id, now(), :start, :p, :job, :sys, :end, 3600,"
            " true, :src, :ev)"),
            {"m": m, "id": uuid.uuid4(), "start": now - timedelta(days=3), "end": now - timedelta(days=3) + timedelta(hours=1),
             "p": p, "job": onsite.id, "sys": ehr.id, "src": onsite.id, "ev": uuid.uuid4().hex})
        plan = Plan(msp_id=m, practice_id=p, template_name="Seawall default")
        s.add(plan)
        await s.flush()
        version = PlanVersion(msp_id=m, practice_id=p, plan_id=plan.id, number=1, status="approved", sections=complete_sections(),
                              approved_at=now - timedelta(days=2), approved_by_label="Owner", effective_date=(now - timedelta(days=2)).date(),
                              review_interval_months=12, next_review_date=(now + timedelta(days=300)).date())
        s.add(version)
        await s.flush()
        s.add(PlanExport(msp_id=m, practice_id=p, plan_version_id=version.id, format="pdf", exported_at=now - timedelta(days=1),
                         exported_by_label="Owner", sha256="0" * 64, size_bytes=1000))
    return PerfectPractice(practice, site, ehr, onsite, offsite, primary, backup, version.id)


async def execute(db: Database, msp_id: uuid.UUID, sql: str, **params) -> None:
    async with db.transaction(Scope(msp_id)) as s:
        await s.execute(text(sql), params)


async def seed_scores(owner_db: Database, msp_id: uuid.UUID, scores: dict[uuid.UUID, int], today: date) -> None:
    """Write readiness rows directly (as the owner): a portfolio with known scores and a 3-day trend."""
    from services.core.readiness.weights import status_for

    async with owner_db.transaction() as s:
        for pid, score in scores.items():
            await s.execute(text(
                "INSERT INTO readiness_current (msp_id, practice_id, score, status, components, findings, sources, inputs_hash,"
                " computed_at, changed_at) VALUES (:m, :p, :score, :status, '{}', '[]', '[]', 'seed', now(), now())"
                " ON CONFLICT (msp_id, practice_id) DO UPDATE SET score = excluded.score, status = excluded.status"),
                {"m": msp_id, "p": pid, "score": score, "status": status_for(score)})
            for back in range(3):
                day = today - timedelta(days=back)
                await s.execute(text(
                    "INSERT INTO readiness_snapshot (msp_id, practice_id, day, score, min_score, status, lost, findings, updated_at)"
                    " VALUES (:m, :p, :day, :score, :score, :status, '{}', 0, now()) ON CONFLICT DO NOTHING"),
                    {"m": msp_id, "p": pid, "day": day, "score": score, "status": status_for(score)})


async def open_incident(owner_db: Database, msp_id: uuid.UUID, practice_id: uuid.UUID, severity: str, rule_id: str = "link.down") -> None:
    async with owner_db.transaction() as s:
        await s.execute(text(
            "INSERT INTO incident (msp_id, id, created_at, practice_id, rule_id, subject_type, subject_id, severity, component,"
            " urgency, title, remediation, hipaa, status, opened_at, last_fired_at, clear_evaluations, reopen_count, updated_at)"
            " VALUES (:m, :id, now(), :p, :rule, 'link', :subject, :sev, 'connectivity', 'high', 'Link down', '', '', 'open',"
            " now(), now(), 0, 0, now())"),
            {"m": msp_id, "id": uuid.uuid4(), "p": practice_id, "rule": rule_id, "subject": uuid.uuid4().hex, "sev": severity})
