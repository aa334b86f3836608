"""Append to and verify an MSP's hash-chained audit trail.

Each event's hash covers the previous event's hash and a canonical JSON of its own fields, so a
changed, removed or reordered row breaks every hash after it. Appends to one MSP are serialised by a
transaction-scoped advisory lock, which also makes `seq` gap-free. It is the last lock a transaction
takes: callers record after their own changes (docs/decisions/0005-lock-order.md).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.models import AuditEvent
from services.core.base import utcnow

GENESIS = b"\x00" * 32


@dataclass(frozen=True)
class Actor:
    type: str  # user, token, agent, system, anonymous
    id: uuid.UUID | None = None
    label: str = ""
    ip: str | None = None


SYSTEM = Actor("system", label="seawall")


def _canonical(e: AuditEvent) -> bytes:
    occurred = e.occurred_at.astimezone(timezone.utc).isoformat(timespec="microseconds")
    payload = {
        "msp_id": str(e.msp_id), "seq": e.seq, "occurred_at": occurred, "actor_type": e.actor_type,
        "actor_id": str(e.actor_id) if e.actor_id else None, "actor_label": e.actor_label, "action": e.action,
        "object_type": e.object_type, "object_id": e.object_id,
        "practice_id": str(e.practice_id) if e.practice_id else None, "ip": e.ip, "changes": e.changes,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def event_hash(prev_hash: bytes, e: AuditEvent) -> bytes:
    return hashlib.sha256(prev_hash + _canonical(e)).digest()


def _jsonable(value: Any) -> Any:
    if isinstance(value, (uuid.UUID, datetime)):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value


async def record(session: AsyncSession, *, msp_id: uuid.UUID, actor: Actor, action: str, object_type: str = "",
                 object_id: Any = "", practice_id: uuid.UUID | None = None, changes: dict[str, Any] | None = None) -> AuditEvent:
    """Append one event to the MSP's chain, in the caller's transaction."""
    # The chain's lock is the last a transaction takes (docs/decisions/0005-lock-order.md): the
    # caller's pending changes take their row locks now, not after it, while every audited write
    # of the MSP waits.
    await session.flush()
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('audit:' || :m, 0))"), {"m": str(msp_id)})
    head = (await session.execute(text("SELECT seq, hash FROM audit_chain_head(:m)"), {"m": msp_id})).first()
    prev_seq, prev_hash = (head[0], head[1]) if head else (0, GENESIS)
    # Round to microseconds now so the hash matches what PostgreSQL stores.
    event = AuditEvent(
        msp_id=msp_id, seq=prev_seq + 1, occurred_at=utcnow(), actor_type=actor.type, actor_id=actor.id,
        actor_label=actor.label, action=action, object_type=object_type, object_id=str(object_id or ""),
        practice_id=practice_id, ip=actor.ip, changes=_jsonable(changes or {}), prev_hash=prev_hash,
    )
    event.hash = event_hash(prev_hash, event)
    session.add(event)
    await session.flush()
    return event


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Changed fields as {field: [old, new]}."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


class ChainVerifier:
    """Checks events one at a time, in seq order, so a long chain never has to sit in memory."""

    def __init__(self) -> None:
        self.prev_hash, self.expected_seq, self.checked = GENESIS, 1, 0

    def check(self, e: AuditEvent) -> ChainReport | None:
        """None while the chain holds; the failure report at the first event that breaks it."""
        self.checked += 1
        if e.seq != self.expected_seq:
            return ChainReport(False, self.checked, e.seq, f"sequence jumps from {self.expected_seq - 1} to {e.seq}")
        if e.prev_hash != self.prev_hash:
            return ChainReport(False, self.checked, e.seq, "previous-hash link does not match")
        if event_hash(self.prev_hash, e) != e.hash:
            return ChainReport(False, self.checked, e.seq, "event content does not match its hash")
        self.prev_hash, self.expected_seq = e.hash, self.expected_seq + 1
        return None


def verify_events(events: Iterable[AuditEvent]) -> ChainReport:
    verifier = ChainVerifier()
    for e in events:
        if (failure := verifier.check(e)) is not None:
            return failure
    return ChainReport(True, verifier.checked)


async def verify_chain(session: AsyncSession, msp_id: uuid.UUID) -> ChainReport:
    """Recompute the whole chain of an MSP (the caller must see every practice)."""
    query = select(AuditEvent).where(AuditEvent.msp_id == msp_id).order_by(AuditEvent.seq).execution_options(yield_per=1000)
    verifier = ChainVerifier()
    result = await session.stream_scalars(query)
    try:
        async for e in result:
            if (failure := verifier.check(e)) is not None:
                return failure
    finally:
        await result.close()
    return ChainReport(True, verifier.checked)
