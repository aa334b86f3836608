"""Factories for the alerts tests: inventory, telemetry state, channels and routes, and a helper
that runs one evaluation in its own transaction (as the worker does)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from services.core.alerts.evaluate import escalate_due, evaluate_practices
from services.core.alerts.models import Incident, IncidentEvent, NotificationChannel, NotificationOutbox, NotificationRoute
from services.core.db import Database, Scope
from services.core.inventory.models import BackupJob, BackupJobSystem, Link, System
from services.core.secrets import encrypt
from services.core.telemetry.models_ingest import Agent
from services.core.telemetry.models_state import BackupJobState, BackupRun, FailoverEvent, LinkState, RestoreTest
from tests.factories import Tenant, unique

T0 = datetime(2030, 1, 7, 9, 0, tzinfo=timezone.utc)  # a Monday morning


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


async def add(db: Database, msp_id: uuid.UUID, *rows: Any) -> None:
    async with db.transaction(Scope(msp_id)) as s:
        for row in rows:
            await s.merge(row)


async def system(db: Database, t: Tenant, *, rpo: int = 1440, rto: int = 240, tier: int = 2, onsite: bool = True,
                 offsite: bool = True) -> System:
    s = System(msp_id=t.msp_id, id=uuid.uuid4(), practice_id=t.practice.id, name=unique("EHR"), tier=tier, rpo_minutes=rpo,
               rto_minutes=rto, mtd_minutes=max(rto, 2880), requires_onsite_copy=onsite, requires_offsite_copy=offsite)
    await add(db, t.msp_id, s)
    return s


async def job(db: Database, t: Tenant, *, location: str = "onsite", systems: list[System] = (), site_id: uuid.UUID | None = None,
              **state: Any) -> BackupJob:
    j = BackupJob(msp_id=t.msp_id, id=uuid.uuid4(), practice_id=t.practice.id, site_id=site_id or t.site.id,
                  name=unique("job"), location=location, tool="restic", schedule="", expected_interval_minutes=1440,
                  encrypted=True, immutable=False, verifies=False, provider="", baa_on_file=True)
    await add(db, t.msp_id, j)
    await add(db, t.msp_id, *[BackupJobSystem(msp_id=t.msp_id, backup_job_id=j.id, system_id=s.id, practice_id=t.practice.id)
                              for s in systems])
    if state:
        await job_state(db, t, j, **state)
    return j


async def job_state(db: Database, t: Tenant, j: BackupJob, **values: Any) -> None:
    await add(db, t.msp_id, BackupJobState(msp_id=t.msp_id, backup_job_id=j.id, practice_id=t.practice.id,
                                           consecutive_failures=values.pop("consecutive_failures", 0), **values))


async def run(db: Database, t: Tenant, j: BackupJob, at: datetime, restore_point: datetime, status: str = "success") -> None:
    await add(db, t.msp_id, BackupRun(msp_id=t.msp_id, id=uuid.uuid4(), run_at=at, practice_id=t.practice.id, backup_job_id=j.id,
                                      run_key=str(at), source="agent", status=status, started_at=at - minutes(10),
                                      finished_at=at, restore_point_at=restore_point, report_event_id=uuid.uuid4().hex,
                                      reported_at=at))


async def restore_test(db: Database, t: Tenant, j: BackupJob, finished: datetime, minutes_taken: float) -> None:
    await add(db, t.msp_id, RestoreTest(msp_id=t.msp_id, id=uuid.uuid4(), started_at=finished - minutes(minutes_taken),
                                        practice_id=t.practice.id, backup_job_id=j.id, finished_at=finished,
                                        duration_seconds=minutes_taken * 60, success=True, source_id=uuid.uuid4(),
                                        report_event_id=uuid.uuid4().hex))


async def link(db: Database, t: Tenant, *, role: str = "primary", site_id: uuid.UUID | None = None,
               created: datetime = T0, **state: Any) -> Link:
    """Added at `created` (the scenario's T0, not the wall clock: a backup link added years
    before the scenario would be untested, link.backup_not_exercised)."""
    site = site_id or t.site.id
    li = Link(msp_id=t.msp_id, id=uuid.uuid4(), practice_id=t.practice.id, site_id=site, name=unique(role), role=role,
              created_at=created)
    await add(db, t.msp_id, li)
    if state:
        await link_state(db, t, li, **state)
    return li


async def link_state(db: Database, t: Tenant, li: Link, **values: Any) -> None:
    """A state as samples leave it: a link that reports up or down was last sampled at T0, or when
    its state began if that is later (unless `last_sample_at` says otherwise); five minutes after
    that it has no data (link.no_data)."""
    if values.get("up") is not None:
        values.setdefault("last_sample_at", max(T0, values.get("state_since") or T0))
    values = {"flaps_last_hour": 0, "transitions": [], **values}
    await add(db, t.msp_id, LinkState(msp_id=t.msp_id, link_id=li.id, practice_id=t.practice.id, site_id=li.site_id,
                                      **values))


async def failover(db: Database, t: Tenant, from_link: Link, to_link: Link, started: datetime,
                   ended: datetime | None = None) -> None:
    """A failover as the telemetry worker stores it (failover_event)."""
    await add(db, t.msp_id, FailoverEvent(msp_id=t.msp_id, id=uuid.uuid4(), site_id=to_link.site_id, practice_id=t.practice.id,
                                          from_link_id=from_link.id, to_link_id=to_link.id, started_at=started,
                                          ended_at=ended))


async def agent(db: Database, t: Tenant, last_seen: datetime | None, site_id: uuid.UUID | None = None,
                enrolled: datetime | None = None, interval_seconds: int = 60, probe_interval_seconds: int = 60) -> Agent:
    """Enrolled at `enrolled`, else a minute before it was last seen, else at T0."""
    enrolled = enrolled or (last_seen - minutes(1) if last_seen else T0)
    a = Agent(msp_id=t.msp_id, id=uuid.uuid4(), practice_id=t.practice.id, site_id=site_id or t.site.id, hostname=unique("pc"),
              agent_version="0.1.0", credential_hash=uuid.uuid4().bytes, last_seen_at=last_seen,
              heartbeat_interval_seconds=interval_seconds, probe_interval_seconds=probe_interval_seconds, created_at=enrolled)
    await add(db, t.msp_id, a)
    return a


async def seen(db: Database, t: Tenant, a: Agent, at: datetime) -> None:
    a.last_seen_at = at
    await add(db, t.msp_id, a)


async def channel(db: Database, msp_id: uuid.UUID, kind: str, *, secret: str | None = None, to: list[str] | None = None,
                  signing_secret: str | None = None) -> NotificationChannel:
    c = NotificationChannel(msp_id=msp_id, id=uuid.uuid4(), name=unique(kind), kind=kind, enabled=True,
                            config={"to": to} if to else {}, secret_encrypted=encrypt(secret) if secret else None,
                            secret_hint="", signing_secret_encrypted=encrypt(signing_secret) if signing_secret else None)
    await add(db, msp_id, c)
    return c


async def route(db: Database, msp_id: uuid.UUID, c: NotificationChannel, *, min_severity: str = "low", **kw: Any) -> NotificationRoute:
    r = NotificationRoute(msp_id=msp_id, id=uuid.uuid4(), channel_id=c.id, min_severity=min_severity,
                          include_low_urgency=kw.pop("include_low_urgency", False), enabled=True, **kw)
    await add(db, msp_id, r)
    return r


async def evaluate(db: Database, t: Tenant, now: datetime, include_findings: bool = False) -> None:
    async with db.transaction(Scope(t.msp_id)) as s:
        await evaluate_practices(s, t.msp_id, [t.practice.id, t.sibling.id], now, include_findings=include_findings)


async def escalate(db: Database, msp_id: uuid.UUID, now: datetime) -> int:
    async with db.transaction(Scope(msp_id)) as s:
        return await escalate_due(s, msp_id, now)


async def incidents(db: Database, msp_id: uuid.UUID, rule_id: str | None = None, active: bool | None = None) -> list[Incident]:
    async with db.transaction(Scope(msp_id)) as s:
        q = select(Incident).where(Incident.msp_id == msp_id)
        if rule_id:
            q = q.where(Incident.rule_id == rule_id)
        if active is not None:
            q = q.where(Incident.resolved_at.is_(None) if active else Incident.resolved_at.is_not(None))
        return list((await s.scalars(q.order_by(Incident.opened_at))).all())


async def outbox(db: Database, msp_id: uuid.UUID) -> list[NotificationOutbox]:
    async with db.transaction(Scope(msp_id)) as s:
        return list((await s.scalars(select(NotificationOutbox).where(NotificationOutbox.msp_id == msp_id)
                                     .order_by(NotificationOutbox.created_at))).all())


async def timeline(db: Database, msp_id: uuid.UUID, incident_id: uuid.UUID) -> list[str]:
    async with db.transaction(Scope(msp_id)) as s:
        return list((await s.scalars(select(IncidentEvent.kind).where(
            IncidentEvent.msp_id == msp_id, IncidentEvent.incident_id == incident_id).order_by(IncidentEvent.at, IncidentEvent.created_at))).all())
