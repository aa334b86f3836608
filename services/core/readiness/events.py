"""Live updates: events published with PostgreSQL NOTIFY, fanned out to each signed-in user's stream.

Publishing (any domain, any process):

    await publish(session, msp_id, practice_id, "incident.opened", {"incident_id": …, "severity": …})

runs `pg_notify('seawall_live', …)` in the caller's transaction, so an event is delivered if and
only if the change that caused it commits. Payloads must stay small (NOTIFY's limit is 8000 bytes):
ids, scores and statuses — a client refetches details through the API.

Receiving (the API process): one LISTEN connection per process (LiveBus) hands every event to the
queues of the streams whose principal may see it (same MSP, practice visible, role allowed).
Events published while the listener reconnects are not replayed; clients refetch on reconnect.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.db import driver_connection
from services.core.identity.policy import Permission
from services.core.identity.principal import Principal

log = structlog.get_logger("seawall.live")

CHANNEL = "seawall_live"
MAX_PAYLOAD = 7000  # bytes, under NOTIFY's 8000 with room for the envelope
QUEUE_SIZE = 256

# Every event type, and what a principal needs (for the event's practice) to receive it.
EVENT_PERMISSION: dict[str, Permission] = {
    "incident.opened": Permission.practice_read,
    "incident.acknowledged": Permission.practice_read,
    "incident.resolved": Permission.practice_read,
    "readiness.changed": Permission.practice_read,
    "agent.online": Permission.practice_read,
    "agent.offline": Permission.practice_read,
}


def _payload(msp_id: uuid.UUID, practice_id: uuid.UUID | None, type: str, data: dict[str, Any] | None) -> str:
    if type not in EVENT_PERMISSION:
        raise ValueError(f"unknown live event type {type!r}; add it to EVENT_PERMISSION")
    payload = json.dumps({"msp_id": str(msp_id), "practice_id": str(practice_id) if practice_id else None, "type": type,
                          "data": data or {}}, default=str, separators=(",", ":"))
    if len(payload.encode()) > MAX_PAYLOAD:
        raise ValueError(f"live event {type} is too large ({len(payload)} bytes): send ids, not documents")
    return payload


async def publish(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID | None, type: str,
                  data: dict[str, Any] | None = None) -> None:
    """Queue a live event for delivery when the session's transaction commits."""
    await session.execute(text("SELECT pg_notify(:channel, :payload)"),
                          {"channel": CHANNEL, "payload": _payload(msp_id, practice_id, type, data)})


@dataclass
class Held:
    """Live events gathered while a caller changes many things, published together by flush():
    one statement instead of one per event (an evaluation that opens a hundred incidents)."""

    events: list[str] = field(default_factory=list)

    def add(self, msp_id: uuid.UUID, practice_id: uuid.UUID | None, type: str, data: dict[str, Any] | None = None) -> None:
        self.events.append(_payload(msp_id, practice_id, type, data))

    async def flush(self, session: AsyncSession) -> None:
        if self.events:
            # On the driver, the payloads as a binary array: through SQLAlchemy, psycopg would quote
            # each JSON document into a text array in Python (db.driver_connection). A notification
            # needs nothing pending written first: it goes out when the transaction commits.
            pg = await driver_connection(session)
            await pg.execute("SELECT count(pg_notify(%(channel)s, p)) FROM unnest(%(payloads)b::text[]) AS p",
                             {"channel": CHANNEL, "payloads": self.events})
            self.events = []


def may_see(principal: Principal, event: dict[str, Any]) -> bool:
    if event.get("msp_id") != str(principal.msp_id):
        return False
    permission = EVENT_PERMISSION.get(event.get("type", ""))
    if permission is None:
        return False
    practice = event.get("practice_id")
    if practice is None:  # MSP-wide: only for those who see every practice of the MSP
        return principal.visible_practices is None and principal.can(Permission.msp_read)
    try:
        return principal.can(permission, uuid.UUID(practice))
    except ValueError:
        return False


@dataclass(eq=False)
class Subscriber:
    principal: Principal
    queue: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False


class LiveBus:
    """One LISTEN connection, many subscribers; reconnects with backoff if the connection drops."""

    def __init__(self, conninfo: str):
        self.conninfo = conninfo
        self.subscribers: set[Subscriber] = set()
        self.listening = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="live-bus")

    async def wait_listening(self, timeout: float = 10.0) -> bool:
        try:
            await asyncio.wait_for(self.listening.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None

    def subscribe(self, principal: Principal) -> Subscriber:
        sub = Subscriber(principal)
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.subscribers.discard(sub)

    def dispatch(self, payload: str) -> int:
        """Hand one NOTIFY payload to every subscriber allowed to see it; returns how many got it."""
        try:
            event = json.loads(payload)
        except ValueError:
            log.warning("live event is not JSON", size=len(payload))
            return 0
        delivered = 0
        for sub in list(self.subscribers):
            if sub.overflowed or not may_see(sub.principal, event):
                continue
            try:
                sub.queue.put_nowait(event)
                delivered += 1
            except asyncio.QueueFull:
                # A stream that cannot keep up is ended (the client reconnects and refetches)
                # rather than silently missing events.
                sub.overflowed = True
        return delivered

    async def _run(self) -> None:
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    delay = 0.5
                    async for notify in conn.notifies():
                        self.dispatch(notify.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database went away: retry, streams stay open meanwhile
                log.warning("live listener lost its connection", error=str(exc)[:200])
            self.listening.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30)
