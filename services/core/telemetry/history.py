"""Appending a batch's events to history: backup runs (from agents and from pings), restore tests and
failovers (raw link samples and their 5-minute aggregates: claim.py).

Every write is set-based (one statement per kind per batch) and order-independent:
- an agent's backup run is identified by (job, started_at); of several reports of one run the
  highest ranked wins (final over "running", then the later report, then the larger event id);
- a ping-reported run is identified by the ping that finished it; its start and log come from the
  job's ping timeline around it (ping_step), so a /start that arrives after its /success still counts;
- 5-minute aggregates are sums, counts and maxima, which any order adds up to the same.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.telemetry.site_scope import refuse_misplaced
from services.core.telemetry.models_pings import PING_LOG_LIMIT

RAW_SAMPLE_RETENTION = timedelta(days=14)
# A /start pairs with a finish at most this long after it (Healthchecks' longest run timer).
MAX_PING_RUN = timedelta(hours=72)


@dataclass(frozen=True)
class Claimed:
    """One inbox row claimed by the worker."""

    seq: int
    source_id: uuid.UUID
    event_id: str
    practice_id: uuid.UUID
    site_id: uuid.UUID | None
    type: str
    occurred_at: datetime
    payload: dict[str, Any]


def ts(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def ts_required(value: str) -> datetime:
    """A timestamp the payload must have: payloads.py has checked it is there before any applier runs."""
    return datetime.fromisoformat(value)


def _unnest(columns: dict[str, str]) -> str:
    casts = ", ".join(f"CAST(:{name} AS {kind}[])" for name, kind in columns.items())
    return f"unnest({casts}) AS v({', '.join(columns)})"


def _columns(rows: list[dict[str, Any]], names: Any) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in names}


# --- backup runs reported by agents ------------------------------------------------------------

_RUN_COLUMNS = {
    "id": "uuid", "run_at": "timestamptz", "practice_id": "uuid", "backup_job_id": "uuid", "run_key": "text",
    "source": "text", "status": "text", "started_at": "timestamptz", "finished_at": "timestamptz",
    "duration_seconds": "float8", "bytes": "int8", "files": "int8", "restore_point_at": "timestamptz",
    "snapshot_id": "text", "verified": "bool", "exit_code": "int8", "log_tail": "text", "report_event_id": "text",
    "reported_at": "timestamptz",
}
_RUN_NAMES = ", ".join(_RUN_COLUMNS)
_REPORT_FIELDS = [c for c in _RUN_COLUMNS if c not in ("id", "run_at", "backup_job_id", "run_key")]

_UPSERT_AGENT_RUNS = text(
    f"INSERT INTO backup_run (msp_id, {_RUN_NAMES}) SELECT CAST(:msp AS uuid), {_RUN_NAMES} FROM {_unnest(_RUN_COLUMNS)}"
    " ON CONFLICT (msp_id, backup_job_id, run_key, run_at) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _REPORT_FIELDS)
    + " WHERE (EXCLUDED.status <> 'running', EXCLUDED.reported_at, EXCLUDED.report_event_id)"
    " > (backup_run.status <> 'running', backup_run.reported_at, backup_run.report_event_id)"
)


def _rank(row: dict[str, Any]) -> tuple:
    return (row["status"] != "running", row["reported_at"], row["report_event_id"])


def agent_run_row(e: Claimed) -> dict[str, Any]:
    p = e.payload
    started = ts_required(p["started_at"])
    final = p["status"] != "running"
    finished = (ts(p.get("finished_at")) or e.occurred_at) if final else ts(p.get("finished_at"))
    # Without a reported snapshot time, the data a run saved is as old as the run's start.
    restore_point = ts(p.get("restore_point_at")) or started if p["status"] == "success" else ts(p.get("restore_point_at"))
    return {
        "id": uuid.uuid4(), "run_at": started, "practice_id": e.practice_id, "backup_job_id": uuid.UUID(p["job_id"]),
        "run_key": "agent:" + started.astimezone(timezone.utc).isoformat(timespec="microseconds"), "source": "agent",
        "status": p["status"], "started_at": started, "finished_at": finished,
        "duration_seconds": (finished - started).total_seconds() if finished else None,
        "bytes": p.get("bytes"), "files": p.get("files"), "restore_point_at": restore_point,
        "snapshot_id": p.get("snapshot_id"), "verified": p.get("verified"), "exit_code": p.get("exit_code"),
        "log_tail": p.get("log_tail"), "report_event_id": e.event_id, "reported_at": e.occurred_at,
    }


async def append_agent_runs(session: AsyncSession, msp_id: uuid.UUID, events: list[Claimed]) -> set[uuid.UUID]:
    """Upsert the runs agents reported; returns the backup jobs touched."""
    await refuse_misplaced(session, msp_id, events)
    best: dict[tuple[uuid.UUID, str], dict[str, Any]] = {}
    for e in events:
        row = agent_run_row(e)
        key = (row["backup_job_id"], row["run_key"])
        # One statement cannot update a row twice: keep the highest-ranked report per run.
        if key not in best or _rank(row) > _rank(best[key]):
            best[key] = row
    if best:
        await session.execute(_UPSERT_AGENT_RUNS, {"msp": msp_id, **_columns(list(best.values()), _RUN_COLUMNS)})
    return {job for job, _ in best}


# --- backup runs reported by Healthchecks-style pings -----------------------------------------
# Each applied ping is a step of its job's timeline (ping_step, docs/decisions/0007-ping-runs.md).
# A finish's start is the step just before it among its run id's starts and finishes, when that
# step is a start no more than MAX_PING_RUN earlier; its log is the bodies of the steps from there
# up to the finish. A new step can change only the next finish after it, so a batch re-pairs the
# batch's finishes and the finish right after each of its steps: index look-ups, not a history read.

_STEP_COLUMNS = {
    "backup_job_id": "uuid", "run_id": "text", "boundary": "bool", "at": "timestamptz", "rank": "int2",
    "event_id": "text", "practice_id": "uuid", "kind": "text", "exit_code": "int4", "body": "text",
}
_INSERT_STEPS = text(
    f"INSERT INTO ping_step (msp_id, {', '.join(_STEP_COLUMNS)}) SELECT CAST(:msp AS uuid), {', '.join(_STEP_COLUMNS)}"
    f" FROM {_unnest(_STEP_COLUMNS)} ON CONFLICT DO NOTHING"
)
_KEY_COLUMNS = ("backup_job_id", "run_id", "at", "rank", "event_id", "kind")
_ORDER = "(s.at, s.rank, s.event_id)"
_SAME_RUN = "s.msp_id = CAST(:msp AS uuid) AND s.backup_job_id = a.backup_job_id AND s.run_id = a.run_id"
# A /log line of the run being written (r), after the step before its finish.
_LOG_LINE = ("s.msp_id = CAST(:msp AS uuid) AND s.backup_job_id = r.backup_job_id AND s.run_id = r.run_id"
             f" AND NOT s.boundary AND s.body <> '' AND {_ORDER} > (r.lo_at, r.lo_rank, r.lo_event_id)")
_PING_RUNS = text(f"""
WITH b AS (SELECT * FROM {_unnest({k: _STEP_COLUMNS[k] for k in _KEY_COLUMNS})}),
a AS (
    SELECT backup_job_id, run_id, at, rank, event_id FROM b WHERE kind IN ('success', 'fail')
    UNION
    SELECT n.backup_job_id, n.run_id, n.at, n.rank, n.event_id FROM b a CROSS JOIN LATERAL (
        SELECT s.backup_job_id, s.run_id, s.at, s.rank, s.event_id, s.kind FROM ping_step s
        WHERE {_SAME_RUN} AND s.boundary AND {_ORDER} > (a.at, a.rank, a.event_id)
        ORDER BY s.at, s.rank, s.event_id LIMIT 1) n
    WHERE n.kind IN ('success', 'fail')
),
r AS (
    SELECT f.backup_job_id, f.practice_id, f.event_id, f.at, f.kind, f.exit_code, f.body,
           CASE WHEN p.kind = 'start' AND f.at - p.at <= CAST(:max_run AS interval) THEN p.at END AS started_at,
           CASE WHEN p.kind = 'start' AND f.at - p.at <= CAST(:max_run AS interval) THEN p.body END AS start_body,
           lo.at AS lo_at, lo.rank AS lo_rank, lo.event_id AS lo_event_id, a.run_id
    -- Laterals throughout, each a look-up by key next to one finish, whatever the statistics say
    -- about the MSP: as a join (LIMIT keeps it a lateral) it was planned as a scan of all its pings.
    FROM a CROSS JOIN LATERAL (
        SELECT s.backup_job_id, s.practice_id, s.event_id, s.at, s.kind, s.exit_code, s.body FROM ping_step s
        WHERE {_SAME_RUN} AND s.boundary AND {_ORDER} = (a.at, a.rank, a.event_id) LIMIT 1) f
    LEFT JOIN LATERAL (
        SELECT s.at, s.rank, s.event_id, s.kind, s.body FROM ping_step s
        WHERE {_SAME_RUN} AND s.boundary AND {_ORDER} < (a.at, a.rank, a.event_id)
        ORDER BY s.at DESC, s.rank DESC, s.event_id DESC LIMIT 1) p ON true
    -- The run's /log lines come after the step before it, and no earlier than the longest run.
    CROSS JOIN LATERAL (SELECT CASE WHEN p.at >= a.at - CAST(:max_run AS interval) THEN p.at
                                    ELSE a.at - CAST(:max_run AS interval) END AS at,
                               CASE WHEN p.at >= a.at - CAST(:max_run AS interval) THEN p.rank ELSE -1 END AS rank,
                               CASE WHEN p.at >= a.at - CAST(:max_run AS interval) THEN p.event_id ELSE '' END AS event_id) lo
)
INSERT INTO backup_run (msp_id, {_RUN_NAMES})
SELECT CAST(:msp AS uuid), gen_random_uuid(), r.at, r.practice_id, r.backup_job_id, 'ping:' || r.event_id, 'ping',
       CASE WHEN r.kind = 'success' THEN 'success' ELSE 'failed' END, r.started_at, r.at,
       extract(epoch FROM r.at - r.started_at), NULL, NULL,
       -- The data is as old as the run's start; a lone success only tells when it ended.
       CASE WHEN r.kind = 'success' THEN coalesce(r.started_at, r.at) END, NULL, NULL, r.exit_code,
       nullif(right(concat_ws(E'\\n', nullif(r.start_body, ''), lines.text, nullif(r.body, '')), :limit), ''),
       r.event_id, r.at
-- The run's /log lines newest first, one index step at a time, until they fill the log: only the last
-- :limit characters are kept, and reading every line of a 72-hour run (each up to 100,000 bytes)
-- could build a text past PostgreSQL's 1 GB limit and stall the MSP. Then back in order.
FROM r CROSS JOIN LATERAL (
    WITH RECURSIVE back (at, rank, event_id, body, total) AS (
        (SELECT s.at, s.rank, s.event_id, s.body, length(s.body) FROM ping_step s
          WHERE {_LOG_LINE} AND {_ORDER} < (r.at, 1, r.event_id)
          ORDER BY s.at DESC, s.rank DESC, s.event_id DESC LIMIT 1)
        UNION ALL
        SELECT o.at, o.rank, o.event_id, o.body, b.total + 1 + length(o.body) FROM back b CROSS JOIN LATERAL (
            SELECT s.at, s.rank, s.event_id, s.body FROM ping_step s
             WHERE {_LOG_LINE} AND {_ORDER} < (b.at, b.rank, b.event_id)
             ORDER BY s.at DESC, s.rank DESC, s.event_id DESC LIMIT 1) o
         WHERE b.total < :limit
    )
    SELECT string_agg(back.body, E'\\n' ORDER BY back.at, back.rank, back.event_id) AS text FROM back) lines
ON CONFLICT (msp_id, backup_job_id, run_key, run_at) DO UPDATE SET started_at = EXCLUDED.started_at,
    duration_seconds = EXCLUDED.duration_seconds, restore_point_at = EXCLUDED.restore_point_at, log_tail = EXCLUDED.log_tail
WHERE (backup_run.started_at, backup_run.log_tail) IS DISTINCT FROM (EXCLUDED.started_at, EXCLUDED.log_tail)
""")


def step_row(e: Claimed) -> dict[str, Any]:
    p = e.payload
    kind = p["kind"]
    return {"backup_job_id": e.source_id, "run_id": (p.get("rid") or "").lower(), "boundary": kind != "log", "at": e.occurred_at,
            "rank": 0 if kind == "start" else 1, "event_id": e.event_id, "practice_id": e.practice_id, "kind": kind,
            "exit_code": p.get("exit_code"), "body": p.get("body") or ""}


async def apply_pings(session: AsyncSession, msp_id: uuid.UUID, events: list[Claimed]) -> set[uuid.UUID]:
    """Add the batch's pings to their jobs' timelines and (re)write the runs they finish or re-pair;
    returns the backup jobs touched."""
    if not events:
        return set()
    steps = [step_row(e) for e in events]
    await session.execute(_INSERT_STEPS, {"msp": msp_id, **_columns(steps, _STEP_COLUMNS)})
    await session.execute(_PING_RUNS, {"msp": msp_id, "max_run": MAX_PING_RUN, "limit": PING_LOG_LIMIT,
                                       **_columns(steps, _KEY_COLUMNS)})
    return {e.source_id for e in events}


# --- restore tests and failovers ----------------------------------------------------------------

_RESTORE_COLUMNS = {
    "id": "uuid", "started_at": "timestamptz", "practice_id": "uuid", "backup_job_id": "uuid", "system_id": "uuid",
    "finished_at": "timestamptz", "duration_seconds": "float8", "success": "bool", "notes": "text",
    "source_id": "uuid", "report_event_id": "text",
}
_INSERT_RESTORE_TESTS = text(
    f"INSERT INTO restore_test (msp_id, {', '.join(_RESTORE_COLUMNS)}) SELECT CAST(:msp AS uuid), {', '.join(_RESTORE_COLUMNS)}"
    f" FROM {_unnest(_RESTORE_COLUMNS)} ON CONFLICT DO NOTHING"
)


async def append_restore_tests(session: AsyncSession, msp_id: uuid.UUID, events: list[Claimed]) -> None:
    await refuse_misplaced(session, msp_id, events)
    rows = []
    for e in events:
        p = e.payload
        started, finished = ts_required(p["started_at"]), ts_required(p["finished_at"])
        rows.append({
            "id": uuid.uuid4(), "started_at": started, "practice_id": e.practice_id,
            "backup_job_id": uuid.UUID(p["job_id"]) if p.get("job_id") else None,
            "system_id": uuid.UUID(p["system_id"]) if p.get("system_id") else None, "finished_at": finished,
            "duration_seconds": (finished - started).total_seconds(), "success": p["success"], "notes": p.get("notes"),
            "source_id": e.source_id, "report_event_id": e.event_id,
        })
    if rows:
        await session.execute(_INSERT_RESTORE_TESTS, {"msp": msp_id, **_columns(rows, _RESTORE_COLUMNS)})


_FAILOVER_COLUMNS = {"id": "uuid", "site_id": "uuid", "practice_id": "uuid", "from_link_id": "uuid", "to_link_id": "uuid",
                     "started_at": "timestamptz", "ended_at": "timestamptz"}
# A failover reported while running and again when over: the end, once known, stays (greatest ignores NULL).
_UPSERT_FAILOVERS = text(
    f"INSERT INTO failover_event (msp_id, {', '.join(_FAILOVER_COLUMNS)}) SELECT CAST(:msp AS uuid), {', '.join(_FAILOVER_COLUMNS)}"
    f" FROM {_unnest(_FAILOVER_COLUMNS)} ON CONFLICT (msp_id, from_link_id, to_link_id, started_at)"
    " DO UPDATE SET ended_at = greatest(failover_event.ended_at, EXCLUDED.ended_at)"
)


async def append_failovers(session: AsyncSession, msp_id: uuid.UUID, events: list[Claimed]) -> set[uuid.UUID]:
    """Upsert failovers; returns the sites whose links' on-backup state must be recomputed."""
    await refuse_misplaced(session, msp_id, events)
    merged: dict[tuple, dict[str, Any]] = {}
    for e in events:
        p = e.payload
        row = {"id": uuid.uuid4(), "site_id": e.site_id, "practice_id": e.practice_id,
               "from_link_id": uuid.UUID(p["from_link_id"]), "to_link_id": uuid.UUID(p["to_link_id"]),
               "started_at": ts(p["started_at"]), "ended_at": ts(p.get("ended_at"))}
        key = (row["from_link_id"], row["to_link_id"], row["started_at"])
        if key in merged and merged[key]["ended_at"] is not None:
            if row["ended_at"] is None or row["ended_at"] < merged[key]["ended_at"]:
                row["ended_at"] = merged[key]["ended_at"]
        merged[key] = row
    if merged:
        await session.execute(_UPSERT_FAILOVERS, {"msp": msp_id, **_columns(list(merged.values()), _FAILOVER_COLUMNS)})
    return {row["site_id"] for row in merged.values() if row["site_id"] is not None}


# --- link samples -------------------------------------------------------------------------------
# Raw samples and their 5-minute aggregates are appended in SQL by the claim statement (claim.py);
# the link state machine (state_updates.py) gets each sample's link, time and up/down.

@dataclass(frozen=True)
class Sample:
    seq: int
    link_id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID
    at: datetime
    up: bool

    def order(self) -> tuple:
        return (self.at, self.up)
