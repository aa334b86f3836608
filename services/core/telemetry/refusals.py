"""What ingest refused, kept per agent so the MSP sees what the agent sent and why.

Written in a short transaction of its own after the refusal (the refused request stores nothing),
like the audit of foreign objects in ingest.py; the accepted path never comes here. Bounded three
ways, since an agent may resend a refused batch until it gives up (and is already rate-limited per
agent): the same body refused again is one more repeat of the newest row, not a new row; only the
newest REFUSALS_KEPT rows per agent stay; errors and the body excerpt are capped in size.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.db import Database, Scope
from services.core.errors import DomainError
from services.core.telemetry.schemas_dead_letter import IngestRefusalOut, RefusalSummaryOut, refusal_errors

log = structlog.get_logger("seawall.telemetry.refusals")

REFUSALS_KEPT = 50
KEPT_STATUSES = frozenset({413, 415, 422})  # the batch's own fault: too large, not readable, not valid
ERRORS_KEPT = 20
EXCERPT_CHARS = 2_000
TEXT_CHARS = 300

_REPEAT = text(
    "UPDATE ingest_refusal SET repeats = repeats + 1, last_at = now() WHERE msp_id = :m AND id = ("
    " SELECT id FROM ingest_refusal WHERE msp_id = :m AND agent_id = :a ORDER BY last_at DESC, id DESC LIMIT 1)"
    " AND body_digest = :digest AND status = :status RETURNING id"
)
_INSERT = text(
    "INSERT INTO ingest_refusal (msp_id, id, created_at, practice_id, agent_id, status, code, detail, errors, body_excerpt,"
    " body_bytes, body_digest, repeats, last_at)"
    " VALUES (:m, :id, now(), :p, :a, :status, :code, :detail, CAST(:errors AS jsonb), :excerpt, :size, :digest, 1, now())"
)
_TRIM = text(
    "DELETE FROM ingest_refusal WHERE msp_id = :m AND id IN (SELECT id FROM ingest_refusal WHERE msp_id = :m AND agent_id = :a"
    f" ORDER BY last_at DESC, id DESC OFFSET {REFUSALS_KEPT})"
)


def _types_by_index(body: bytes | None) -> dict[int, str]:
    """Each event's type where the body says it (the errors carry index and id, not the type)."""
    if not body:
        return {}
    try:
        events = json.loads(body).get("events")
    except (ValueError, AttributeError, RecursionError):
        return {}
    if not isinstance(events, list):
        return {}
    return {i: _text(e["type"], 40) for i, e in enumerate(events) if isinstance(e, dict) and isinstance(e.get("type"), str)}


def _text(value: str, limit: int) -> str:
    # PostgreSQL keeps no NUL in text or jsonb, and a refusal is often about exactly that character.
    return value[:limit].replace("\x00", "\ufffd")


def _errors(exc: DomainError, body: bytes | None) -> list[dict[str, Any]]:
    types = _types_by_index(body)
    out = []
    for err in exc.errors[:ERRORS_KEPT]:
        item = {k: (_text(v, TEXT_CHARS) if isinstance(v, str) else v) for k, v in err.as_dict().items()
                if k in ("field", "message", "event_index", "event_id")}
        index = item.get("event_index")
        if isinstance(index, int) and index in types:
            item["event_type"] = types[index]
        out.append(item)
    return out


async def record(database: Database, msp_id: uuid.UUID, practice_id: uuid.UUID, agent_id: uuid.UUID, exc: DomainError,
                 body: bytes | None) -> None:
    """Keep one refusal of this agent's batch. Never raises: the agent's answer is the refusal itself."""
    digest = hashlib.sha256(body or b"").digest()
    params = {"m": msp_id, "a": agent_id, "p": practice_id, "digest": digest, "status": exc.status}
    try:
        async with database.transaction(Scope(msp_id)) as session:
            if (await session.execute(_REPEAT, params)).first() is not None:
                return
            excerpt = _text((body or b"")[:EXCERPT_CHARS * 4].decode("utf-8", "replace"), EXCERPT_CHARS)
            await session.execute(_INSERT, {**params, "id": uuid.uuid4(), "code": exc.code[:40], "detail": _text(exc.detail, 1000),
                                            "errors": json.dumps(_errors(exc, body)), "excerpt": excerpt,
                                            "size": len(body or b"")})
            await session.execute(_TRIM, params)
    except Exception:
        log.exception("ingest_refusal_not_recorded", msp_id=str(msp_id), agent_id=str(agent_id))


async def for_agent(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, agent_id: uuid.UUID,
                    limit: int = REFUSALS_KEPT) -> list[IngestRefusalOut]:
    rows = (await session.execute(text(
        "SELECT id, agent_id, status, code, detail, errors, body_bytes, repeats, created_at AS first_at, last_at"
        " FROM ingest_refusal WHERE msp_id = :m AND practice_id = :p AND agent_id = :a ORDER BY last_at DESC, id DESC LIMIT :n"),
        {"m": msp_id, "p": practice_id, "a": agent_id, "n": limit})).mappings().all()
    return [IngestRefusalOut(**{**dict(r), "errors": refusal_errors(r["errors"])}) for r in rows]


async def summaries(session: AsyncSession, msp_id: uuid.UUID, visible: frozenset[uuid.UUID] | None) -> list[RefusalSummaryOut]:
    """Per agent with refusals kept, how many (repeats included) and the newest, for the agent list."""
    sql = ("SELECT agent_id, practice_id, count(*) AS batches, sum(repeats) AS attempts, max(last_at) AS last_at"
           " FROM ingest_refusal WHERE msp_id = :m")
    params: dict[str, Any] = {"m": msp_id}
    if visible is not None:
        sql += " AND practice_id = ANY(CAST(:visible AS uuid[]))"
        params["visible"] = list(visible)
    rows = (await session.execute(text(sql + " GROUP BY agent_id, practice_id"), params)).mappings().all()
    return [RefusalSummaryOut(**dict(r)) for r in rows]
