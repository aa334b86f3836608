"""Worker factories: send events through the real ingest API, then run the real batch processing."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy import text

from services.core.db import Database, Scope
from services.core.telemetry.processing import drain
from tests.factories_telemetry import EnrolledAgent


def at(minutes_ago: float = 0.0, base: datetime | None = None) -> datetime:
    return (base or datetime.now(timezone.utc)) - timedelta(minutes=minutes_ago)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def ev(type_: str, occurred_at: datetime, **fields: Any) -> dict[str, Any]:
    """A wire event; datetimes in fields become RFC 3339 strings."""
    e = {"id": str(uuid.uuid4()), "type": type_, "occurred_at": iso(occurred_at)}
    e.update({k: iso(v) if isinstance(v, datetime) else v for k, v in fields.items()})
    return e


def run_event(job: str, started: datetime, finished: datetime, status: str = "success", **fields: Any) -> dict[str, Any]:
    return ev("backup_run", finished, job=job, status=status, started_at=started, finished_at=finished, **fields)


def sample_event(link: str, moment: datetime, up: bool = True, latency_ms: float = 20.0, loss_pct: float = 0.0,
                 jitter_ms: float = 2.0) -> dict[str, Any]:
    return ev("link_sample", moment, link=link, up=up, latency_ms=latency_ms, loss_pct=loss_pct, jitter_ms=jitter_ms)


async def send(client: httpx.AsyncClient, agent: EnrolledAgent, events: list[dict[str, Any]]) -> dict[str, int]:
    r = await client.post("/api/v1/ingest", json={"events": events}, headers=agent.headers)
    assert r.status_code == 202, r.text
    return r.json()


async def send_and_process(client: httpx.AsyncClient, db: Database, agent: EnrolledAgent, events: list[dict[str, Any]]) -> int:
    await send(client, agent, events)
    return await drain(db, agent.msp_id)


async def rows(db: Database, msp_id: uuid.UUID, sql: str, **params: Any) -> list[dict[str, Any]]:
    async with db.transaction(Scope(msp_id)) as s:
        return [dict(r) for r in (await s.execute(text(sql), {"m": msp_id, **params})).mappings().all()]


async def one(db: Database, msp_id: uuid.UUID, sql: str, **params: Any) -> dict[str, Any] | None:
    found = await rows(db, msp_id, sql, **params)
    assert len(found) <= 1, found
    return found[0] if found else None


async def job_state(db: Database, msp_id: uuid.UUID, job_id: uuid.UUID) -> dict[str, Any] | None:
    return await one(db, msp_id, "SELECT * FROM backup_job_state WHERE msp_id = :m AND backup_job_id = :j", j=job_id)


async def link_state(db: Database, msp_id: uuid.UUID, link_id: uuid.UUID) -> dict[str, Any] | None:
    return await one(db, msp_id, "SELECT * FROM link_state WHERE msp_id = :m AND link_id = :l", l=link_id)


async def pending(db: Database, msp_id: uuid.UUID) -> int:
    found = await one(db, msp_id, "SELECT count(*) AS n FROM telemetry_event WHERE msp_id = :m AND processed_at IS NULL")
    return found["n"]
