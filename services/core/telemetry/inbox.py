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
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple

import psycopg
import structlog
from pydantic_core import to_json

from services.core.database_server import libpq
from services.core.db import Database

log = structlog.get_logger("seawall.telemetry.inbox")

CHANNEL = "seawall_telemetry"  # spelled out in _RECORD too
LAST_SEEN_EVERY = 30.0  # seconds: agent.last_seen_at is a liveness hint, not a log
MAX_ROWS_PER_TRANSACTION = 5_000
MAX_CONCURRENT_TRANSACTIONS = 2


class Row(NamedTuple):  # a tuple: built 100 times per request, and transposed into columns by zip
    event_id: str
    type: str
    occurred_at: datetime
    payload: dict[str, Any]  # JSON-able: encoded with the whole group


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
    # Set by InboxWriter.submit, the one way a submission is written; never compared or printed.
    future: asyncio.Future[Outcome] = field(init=False, repr=False, compare=False)


@dataclass(frozen=True)
class Outcome:
    authorised: bool
    accepted: int = 0
    duplicates: int = 0


# One statement per MSP and group: which credentials are still valid (a rotated-out agent
# credential until previous_valid_until; never a revoked agent; only a ping key's current hash),
# the rows of valid submissions inserted with ON CONFLICT DO NOTHING, last_seen_at refreshed, and
# the worker notified (delivered at commit, only when something new was recorded). Duplicate
# (source, event id) pairs inside the statement are fine for DO NOTHING: the first one is kept.
#
# How the rows travel: what is per submission (source, practice, site, credential) as small binary
# arrays, and the rows themselves as one JSON document of [submission, event id, type, occurred_at,
# payload] — encoded in one call from Python and parsed once by PostgreSQL. Sending every column as
# an array made psycopg pack each element in Python: most of an API process's CPU on 100-event
# requests (its text array format, tried first, was slower still).
_RECORD = """
WITH subs AS (
  SELECT * FROM unnest(%(src)b::uuid[], %(pid)b::uuid[], %(sid)b::uuid[], %(h)b::bytea[]) WITH ORDINALITY AS s(src, pid, sid, h, i)
),
-- FOR KEY SHARE: the inbox has no foreign keys (migration 0009), so a practice deletion, which
-- cascades to its agents and ping keys, must wait for this transaction and then remove its rows.
-- Each source is looked up by its key, one probe each (LATERAL): joined instead, the planner could
-- read every agent of the MSP per statement when its statistics predate the MSP's agents.
agents AS (
  SELECT a.id, c.h FROM (SELECT DISTINCT src, h FROM subs) c
   CROSS JOIN LATERAL (
     SELECT a.id FROM agent a
      WHERE a.msp_id = %(msp)s AND a.id = c.src AND a.revoked_at IS NULL
        AND (a.credential_hash = c.h OR (a.previous_credential_hash = c.h AND a.previous_valid_until > now()))
        FOR KEY SHARE) a
),
keys AS (
  SELECT k.id, c.h FROM (SELECT DISTINCT src, h FROM subs) c
   CROSS JOIN LATERAL (
     SELECT k.backup_job_id AS id FROM ping_key k
      WHERE k.msp_id = %(msp)s AND k.backup_job_id = c.src AND k.key_hash = c.h
        FOR KEY SHARE) k
),
valid AS (SELECT * FROM agents UNION ALL SELECT * FROM keys),
ins AS (
  INSERT INTO telemetry_event (msp_id, source_id, event_id, practice_id, site_id, type, occurred_at, payload)
  SELECT %(msp)s, s.src, r.e->>1, s.pid, s.sid, r.e->>2, (r.e->>3)::timestamptz, r.e->4
    FROM jsonb_array_elements(%(rows)s::jsonb) WITH ORDINALITY AS r(e, n)
    JOIN subs s ON s.i = (r.e->>0)::bigint
   WHERE EXISTS (SELECT 1 FROM valid v WHERE v.id = s.src AND v.h = s.h)
   ORDER BY r.n  -- seq follows the order the events were sent in
  ON CONFLICT (msp_id, source_id, event_id) DO NOTHING
  RETURNING source_id, event_id
),
-- last_seen_at, only when some agent of the group is due (cardinality: a one-time filter, so that a
-- group with none reads no agent row here).
touch AS (
  UPDATE agent SET last_seen_at = now()
   WHERE cardinality(%(touch)b::uuid[]) > 0
     AND msp_id = %(msp)s AND id = ANY(%(touch)b::uuid[]) AND id IN (SELECT id FROM valid)
     AND (last_seen_at IS NULL OR last_seen_at < now() - interval '30 seconds')
  RETURNING 1
)
SELECT 'v', id::text, encode(h, 'hex') FROM valid
UNION ALL {inserted}
UNION ALL SELECT 'n', NULL, NULL FROM (SELECT pg_notify('seawall_telemetry', %(msp_text)s) FROM (SELECT 1 FROM ins LIMIT 1) AS any_new) AS n
"""
# What comes back of the inserted rows: when every submission of the group has its own source
# (the usual case), a count per source says how many of each submission's rows were new; when a
# source sent several concurrent requests, the ids themselves, to tell which request carried each
# new row first. Returning every id cost ~3 µs of API and ~1.5 µs of PostgreSQL CPU per event
# (100-event requests, 16 connections: 35–37k events/s with ids, 41–42k with counts; 2026-11-23).
_RECORD_COUNTED = _RECORD.format(inserted="SELECT 'c', source_id::text, count(*)::text FROM ins GROUP BY source_id")
_RECORD_IDS = _RECORD.format(inserted="SELECT 'i', source_id::text, event_id FROM ins")
_SCOPE = "SELECT set_config('app.msp_id', %s, true), set_config('app.practice_ids', '*', true)"


class InboxWriter:
    """One per API process and event loop; no background task outlives the requests it serves."""

    def __init__(self, database: Database, max_concurrent: int = MAX_CONCURRENT_TRANSACTIONS) -> None:
        self.database = database
        self.max_concurrent = max_concurrent
        self._pending: deque[Submission] = deque()
        self._active = 0
        self._tasks: set[asyncio.Task] = set()
        self._touched: dict[uuid.UUID, float] = {}
        # Connections kept by the writer itself: taking one from the engine's pool would cost a
        # pre-ping round trip per transaction, and the pipeline needs psycopg directly.
        self._idle: list[psycopg.AsyncConnection] = []

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
                group: list[Submission] = []
                rows = 0
                while self._pending and (not group or rows + len(self._pending[0].rows) <= MAX_ROWS_PER_TRANSACTION):
                    item = self._pending.popleft()
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
                _settle(group[0], RuntimeError("the events could not be recorded"))
                return
            for item in group:
                await self._write_group([item])
            return
        for item, outcome in zip(group, outcomes):
            _settle(item, outcome)

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._idle:
            return self._idle.pop()
        url = libpq(self.database.engine.url.render_as_string(hide_password=False))
        return await psycopg.AsyncConnection.connect(url, autocommit=False)

    async def _write(self, group: list[Submission]) -> list[Outcome]:
        """One transaction, sent as one pipeline: scope, record (per MSP), commit — one round trip."""
        by_msp: dict[uuid.UUID, list[int]] = defaultdict(list)
        for i, item in enumerate(group):
            by_msp[item.msp_id].append(i)
        outcomes: list[Outcome | None] = [None] * len(group)
        conn = await self._connection()
        try:
            async with conn.pipeline():
                cursors = []
                for msp_id, indexes in by_msp.items():
                    await conn.execute(_SCOPE, (str(msp_id),))
                    items = [group[i] for i in indexes]
                    counted = len({item.source_id for item in items}) == len(items)
                    cursors.append((indexes, items, await conn.execute(_RECORD_COUNTED if counted else _RECORD_IDS,
                                                                       self._params(msp_id, items))))
                await conn.commit()
            for indexes, items, cursor in cursors:
                for i, outcome in zip(indexes, self._outcomes(items, await cursor.fetchall())):
                    outcomes[i] = outcome
        except BaseException:
            await conn.close()
            raise
        self._idle.append(conn)
        return outcomes  # type: ignore[return-value]

    def _params(self, msp_id: uuid.UUID, items: list[Submission]) -> dict[str, object]:
        rows: list[list] = []
        for number, item in enumerate(items, start=1):  # WITH ORDINALITY counts from 1
            rows.extend([number, row.event_id, row.type, row.occurred_at, row.payload] for row in item.rows)
        now = time.monotonic()
        touch = sorted({i.source_id for i in items if i.kind == "agent"
                        and now - self._touched.get(i.source_id, -LAST_SEEN_EVERY) >= LAST_SEEN_EVERY})
        for agent_id in touch:
            self._touched[agent_id] = now
        if len(self._touched) > 100_000:
            self._touched.clear()
        return {"msp": msp_id, "msp_text": str(msp_id), "src": [i.source_id for i in items], "pid": [i.practice_id for i in items],
                "sid": [i.site_id for i in items], "h": [i.credential_hash for i in items], "rows": to_json(rows).decode(),
                "touch": touch}

    @staticmethod
    def _outcomes(items: list[Submission], result: list[tuple]) -> list[Outcome]:
        # Ids come back as text: comparing strings is cheaper than building a UUID per inserted row.
        valid = {(r[1], r[2]) for r in result if r[0] == "v"}
        inserted = {(r[1], r[2]) for r in result if r[0] == "i"}
        counts = {r[1]: int(r[2]) for r in result if r[0] == "c"}  # one submission per source
        outcomes = []
        for item in items:
            source = str(item.source_id)
            if (source, item.credential_hash.hex()) not in valid:
                outcomes.append(Outcome(False))
                continue
            # Each new row counts once, for the first valid submission that carried it; every other
            # copy — in the same request or a concurrent one — is a duplicate.
            accepted = counts.get(source, 0)
            if inserted:
                for row in item.rows:
                    key = (source, row.event_id)
                    if key in inserted:
                        inserted.discard(key)
                        accepted += 1
            outcomes.append(Outcome(True, accepted, len(item.rows) - accepted))
        return outcomes


def _settle(item: Submission, result: Outcome | Exception) -> None:
    if item.future.done():
        return
    if isinstance(result, Exception):
        item.future.set_exception(result)
    else:
        item.future.set_result(result)


_writers: dict[int, InboxWriter] = {}


def writer_for(database: Database) -> InboxWriter:
    """The process's writer for this database (tests and the API each hold one Database)."""
    w = _writers.get(id(database))
    if w is None or w.database is not database:
        w = _writers[id(database)] = InboxWriter(database)
    return w
