"""Telemetry factories: agents with real credentials, ping keys, and wire events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import text

from services.core.audit.service import SYSTEM
from services.core.db import Database, Scope
from services.core.inventory.models import BackupJob
from services.core.practices.models import Site
from services.core.telemetry import agents, pings


@dataclass
class EnrolledAgent:
    agent_id: uuid.UUID
    credential: str
    msp_id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential}"}


async def create_agent(db: Database, site: Site, hostname: str = "frontdesk-pc") -> EnrolledAgent:
    async with db.transaction(Scope(site.msp_id)) as s:
        agent, credential = await agents.create_agent(s, site.msp_id, site.practice_id, site.id, hostname=hostname,
                                                      agent_version="0.1.0", enrolled_by=None)
        return EnrolledAgent(agent.id, credential, site.msp_id, site.practice_id, site.id)


async def ping_url(db: Database, job: BackupJob) -> str:
    """The job's ping path (/ping/<key>), created through the service."""
    async with db.transaction(Scope(job.msp_id)) as s:
        out = await pings.get_or_create_url(s, job, SYSTEM)
    return "/ping/" + out.url.rsplit("/ping/", 1)[1]


def now() -> datetime:
    return datetime.now(timezone.utc)


def event(type_: str = "heartbeat", occurred_at: datetime | None = None, **fields: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"id": str(uuid.uuid4()), "type": type_, "occurred_at": (occurred_at or now()).isoformat()}
    if type_ == "backup_run":
        fields.setdefault("status", "success")
        fields.setdefault("started_at", (now() - timedelta(minutes=10)).isoformat())
        fields.setdefault("finished_at", now().isoformat())
    e.update(fields)
    return e


async def inbox(db: Database, msp_id: uuid.UUID) -> list[dict[str, Any]]:
    """The MSP's inbox rows in arrival order."""
    async with db.transaction(Scope(msp_id)) as s:
        rows = (await s.execute(text(
            "SELECT source_id, event_id, practice_id, site_id, type, occurred_at, payload FROM telemetry_event"
            " WHERE msp_id = :m ORDER BY seq"), {"m": msp_id})).mappings().all()
    return [dict(r) for r in rows]


async def audit_actions(db: Database, msp_id: uuid.UUID, action: str) -> list[dict[str, Any]]:
    async with db.transaction(Scope(msp_id)) as s:
        rows = (await s.execute(text("SELECT action, practice_id, changes FROM audit_event WHERE msp_id = :m AND action = :a"),
                                {"m": msp_id, "a": action})).mappings().all()
    return [dict(r) for r in rows]
