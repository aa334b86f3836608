"""Durable recording into the telemetry inbox, with concurrent requests grouped into one commit.

Every accepted request must be on disk before it is answered 202, so each costs a WAL flush. One
flush per request caps an API process near the disk's flush rate; grouping the requests that
arrive while a commit is in progress into the next transaction ("group commit") pays one flush
for all of them, and lets every request of the group share one multi-row INSERT … ON CONFLICT DO
NOTHING. A request is answered only after the transaction holding its rows has committed.

The credential (or ping key) is checked again inside that transaction, against the agent (or ping
key) row, so a revocation or rotation committed before the request is honoured even when the
request's identity came from a cache.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.core.db import Database

log = structlog.get_logger("seawall.telemetry.inbox")

CHANNEL = "seawall_telemetry"
LAST_SEEN_EVERY = 30.0  # seconds: agent.last_seen_at is a liveness hint, not a log
MAX_ROWS_PER_TRANSACTION = 5_000
MAX_CONCURRENT_TRANSACTIONS = 2


@dataclass(frozen=True)
class Row:
    event_id: str
    type: str
    occurred_at: object  # datetime
    payload: str  # JSON text


@dataclass
class Submission:
    """One request's rows, and whose credential they depend on."""

    kind: Literal["agent", "ping"]
    msp_id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID | None
    source_id: uuid.UUID  # the agent, or the backup job of a ping key
    credential_hash: bytes
    rows: list[Row]
    future: asyncio.Future = field(default=None, repr=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class Outcome:
    authorised: bool
    accepted: int = 0
    duplicates: int = 0


_INSERT = text(
    "INSERT INTO telemetry_event (msp_id, source_id, event_id, practice_id, site_id, type, occurred_at, payload)"
    " SELECT CAST(:msp AS uuid), * FROM unnest(CAST(:src AS uuid[]), CAST(:eid AS text[]), CAST(:pid AS uuid[]),"
    " CAST(:sid AS uuid[]), CAST(:typ AS text[]), CAST(:occ AS timestamptz[]), CAST(:pay AS jsonb[]))"
    " ON CONFLICT (msp_id, source_id, event_id) DO NOTHING RETURNING source_id, event_id"
)
# A rotated-out credential keeps working until previous_valid_until; a revoked agent never does.
_VALID_AGENTS = text(
    "SELECT a.id, c.h FROM agent a JOIN unnest(CAST(:ids AS uuid[]), CAST(:hashes AS bytea[])) AS c(id, h) ON a.id = c.id"
    " WHERE a.msp_id = :msp AND a.revoked_at IS NULL"
    " AND (a.credential_hash = c.h OR (a.previous_credential_hash = c.h AND a.previous_valid_until > now()))"
)
_VALID_PING_KEYS = text(
    "SELECT k.backup_job_id, c.h FROM ping_key k"
    " JOIN unnest(CAST(:ids AS uuid[]), CAST(:hashes AS bytea[])) AS c(id, h) ON k.backup_job_id = c.id AND k.key_hash = c.h"
    " WHERE k.msp_id = :msp"
)
_TOUCH = text(
    "UPDATE agent SET last_seen_at = now() WHERE msp_id = :msp AND id = ANY(CAST(:ids AS uuid[]))"
    " AND (last_seen_at IS NULL OR last_seen_at < now() - make_interval(secs => :every))"
)
_SCOPE = text("SELECT set_config('app.msp_id', :msp, true), set_config('app.practice_ids', '*', true)")
# The whole API → worker contract: delivered at commit, and only if something new was recorded.
_NOTIFY = text("SELECT pg_notify(:channel, :msp)")


class InboxWriter:
    """One per API process and event loop; no background task outlives the requests it serves."""

    def __init__(self, database: Database, max_concurrent: int = MAX_CONCURRENT_TRANSACTIONS) -> None:
        self.database = database
        self.max_concurrent = max_concurrent
        self._pending: list[Submission] = []
        self._active = 0
        self._tasks: set[asyncio.Task] = set()
        self._touched: dict[uuid.UUID, float] = {}

    async def submit(self, submission: Submission) -> Outcome:
        submission.future = asyncio.get_running_loop().create_future()
        self._pending.append(submission)
        if self._active < self.max_concurrent:
            self._active += 1
            task = asyncio.create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # shield: a client hanging up must not cancel the future the writer will resolve.
        return await asyncio.shield(submission.future)

    async def _drain(self) -> None:
        try:
            while self._pending:
                group, rows = [], 0
                while self._pending and (not group or rows + len(self._pending[0].rows) <= MAX_ROWS_PER_TRANSACTION):
                    item = self._pending.pop(0)
                    group.append(item)
                    rows += len(item.rows)
                await self._write_group(group)
        finally:
            self._active -= 1

    async def _write_group(self, group: list[Submission]) -> None:
        try:
            outcomes = await self._write(group)
        except Exception:  # one bad request must not fail the others it was grouped with
            if len(group) == 1:
                log.exception("inbox_write_failed")
                _settle(group[0], error=RuntimeError("the events could not be recorded"))
                return
            for item in group:
                await self._write_group([item])
            return
        for item, outcome in zip(group, outcomes):
            _settle(item, outcome)

    async def _write(self, group: list[Submission]) -> list[Outcome]:
        by_msp: dict[uuid.UUID, list[int]] = defaultdict(list)
        for i, item in enumerate(group):
            by_msp[item.msp_id].append(i)
        outcomes: list[Outcome | None] = [None] * len(group)
        async with self.database.engine.begin() as conn:
            for msp_id, indexes in by_msp.items():
                items = [group[i] for i in indexes]
                for i, outcome in zip(indexes, await self._write_msp(conn, msp_id, items)):
                    outcomes[i] = outcome
        return outcomes  # type: ignore[return-value]

    async def _write_msp(self, conn: AsyncConnection, msp_id: uuid.UUID, items: list[Submission]) -> list[Outcome]:
        await conn.execute(_SCOPE, {"msp": str(msp_id)})
        valid: set[tuple[uuid.UUID, bytes]] = set()
        for kind, query in (("agent", _VALID_AGENTS), ("ping", _VALID_PING_KEYS)):
            creds = {(i.source_id, i.credential_hash) for i in items if i.kind == kind}
            if creds:
                ids, hashes = zip(*creds)
                result = await conn.execute(query, {"msp": msp_id, "ids": list(ids), "hashes": list(hashes)})
                valid.update((r[0], bytes(r[1])) for r in result)

        # Within the group the first request to carry an (source, event id) owns it; any later
        # copy — in the same request or another — is a duplicate, exactly as if it came later.
        owner: dict[tuple[uuid.UUID, str], int] = {}
        columns: dict[str, list] = {k: [] for k in ("src", "eid", "pid", "sid", "typ", "occ", "pay")}
        for n, item in enumerate(items):
            if (item.source_id, item.credential_hash) not in valid:
                continue
            for row in item.rows:
                key = (item.source_id, row.event_id)
                if key in owner:
                    continue
                owner[key] = n
                for col, value in zip(columns.values(), (item.source_id, row.event_id, item.practice_id, item.site_id, row.type,
                                                         row.occurred_at, row.payload)):
                    col.append(value)
        inserted: set[tuple[uuid.UUID, str]] = set()
        if owner:
            result = await conn.execute(_INSERT, {"msp": msp_id, **columns})
            inserted = {(r[0], r[1]) for r in result}
            if inserted:
                await conn.execute(_NOTIFY, {"channel": CHANNEL, "msp": str(msp_id)})
        await self._touch_agents(conn, msp_id, {i.source_id for i in items if i.kind == "agent" and (i.source_id, i.credential_hash) in valid})

        accepted = [0] * len(items)
        for key in inserted:
            accepted[owner[key]] += 1
        return [Outcome(True, accepted[n], len(item.rows) - accepted[n]) if (item.source_id, item.credential_hash) in valid
                else Outcome(False) for n, item in enumerate(items)]

    async def _touch_agents(self, conn: AsyncConnection, msp_id: uuid.UUID, agent_ids: set[uuid.UUID]) -> None:
        now = time.monotonic()
        due = [a for a in agent_ids if now - self._touched.get(a, -LAST_SEEN_EVERY) >= LAST_SEEN_EVERY]
        if due:
            await conn.execute(_TOUCH, {"msp": msp_id, "ids": due, "every": LAST_SEEN_EVERY})
            for a in due:
                self._touched[a] = now
            if len(self._touched) > 100_000:
                self._touched.clear()


def _settle(item: Submission, outcome: Outcome | None = None, error: Exception | None = None) -> None:
    if item.future.done():
        return
    if error is not None:
        item.future.set_exception(error)
    else:
        item.future.set_result(outcome)


_writers: dict[int, InboxWriter] = {}


def writer_for(database: Database) -> InboxWriter:
    """The process's writer for this database (tests and the API each hold one Database)."""
    w = _writers.get(id(database))
    if w is None or w.database is not database:
        w = _writers[id(database)] = InboxWriter(database)
    return w
