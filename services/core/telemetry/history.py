"""Appending a batch's events to history: backup runs (from agents and from pings), restore tests and
failovers (raw link samples and their 5-minute aggregates: claim.py).

Every write is set-based (one statement per kind per batch) and order-independent:
- an agent's backup run is identified by (job, started_at); of several reports of one run the
  highest ranked wins (final over "running", then the later report, then the larger event id);
- a ping-reported run is identified by the ping that finished it; its start is paired afresh from
  the pings recorded so far (pair_pings), so a /start that arrives after its /success still counts;
- 5-minute aggregates are sums, counts and maxima, which any order adds up to the same.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.telemetry.site_scope import refuse_misplaced

RAW_SAMPLE_RETENTION = timedelta(days=14)
# A /start pairs with a finish at most this long after it (Healthchecks' longest run timer).
MAX_PING_RUN = timedelta(hours=72)
LOG_TAIL_CHARS = 10_000
FINISH_KINDS = ("success", "fail")


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
    "snapshot_id": "text", "verified": "bool", "exit_code": "int4", "log_tail": "text", "report_event_id": "text",
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
    started = ts(p["started_at"])
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

@dataclass(frozen=True)
class Ping:
    event_id: str
    at: datetime
    kind: str  # start, success, fail, log
    rid: str | None
    exit_code: int | None
    body: str

    def order(self) -> tuple:
        # At one instant a start comes before the finish it opens.
        return (self.at, 0 if self.kind == "start" else 1, self.event_id)


def pair_pings(pings: list[Ping]) -> dict[str, datetime | None]:
    """Each finishing ping → the start it closes (None when there is none), as Healthchecks does.

    With a run id (rid) a finish closes the start of the same rid; without, the latest start not
    already closed. A start more than MAX_PING_RUN before the finish does not count.
    """
    open_plain: datetime | None = None
    open_by_rid: dict[str, datetime] = {}
    started: dict[str, datetime | None] = {}
    for p in sorted(pings, key=Ping.order):
        if p.kind == "start":
            if p.rid:
                open_by_rid[p.rid] = p.at
            else:
                open_plain = p.at
        elif p.kind in FINISH_KINDS:
            if p.rid:
                start = open_by_rid.pop(p.rid, None)
            else:
                start, open_plain = open_plain, None
            started[p.event_id] = start if start is not None and p.at - start <= MAX_PING_RUN else None
    return started


_PINGS_AROUND = text(
    "SELECT source_id, event_id, occurred_at, payload->>'kind', payload->>'rid', (payload->>'exit_code')::int,"
    " CASE WHEN payload->>'kind' IN ('success', 'fail') THEN right(payload->>'body', :tail) END"
    " FROM telemetry_event WHERE msp_id = :msp AND source_id = ANY(CAST(:jobs AS uuid[])) AND type = 'ping'"
    " AND (processed_at IS NOT NULL OR seq = ANY(CAST(:batch AS bigint[]))) AND occurred_at >= :lo AND occurred_at <= :hi AND payload->>'kind' <> 'log'"
)

_PING_RUN_UPSERT = text(
    f"INSERT INTO backup_run (msp_id, {_RUN_NAMES}) SELECT CAST(:msp AS uuid), {_RUN_NAMES} FROM {_unnest(_RUN_COLUMNS)}"
    " ON CONFLICT (msp_id, backup_job_id, run_key, run_at) DO UPDATE SET started_at = EXCLUDED.started_at,"
    " duration_seconds = EXCLUDED.duration_seconds, restore_point_at = EXCLUDED.restore_point_at"
    " WHERE backup_run.started_at IS DISTINCT FROM EXCLUDED.started_at"
)


async def apply_pings(session: AsyncSession, msp_id: uuid.UUID, events: list[Claimed], batch: list[int]) -> set[uuid.UUID]:
    """Turn pings into runs, re-pairing the runs the batch's pings can affect.

    Pairing reads back the job's pings recorded so far: those processed before and this batch's.
    """
    if not events:
        return set()
    jobs = {e.source_id for e in events}
    job_practice = {e.source_id: e.practice_id for e in events}
    lo = min(e.occurred_at for e in events)
    hi = max(e.occurred_at for e in events)
    rows = (await session.execute(_PINGS_AROUND, {"msp": msp_id, "jobs": list(jobs), "lo": lo - MAX_PING_RUN,
                                                  "hi": hi + MAX_PING_RUN, "tail": LOG_TAIL_CHARS,
                                                  "batch": batch})).all()
    by_job: dict[uuid.UUID, list[Ping]] = defaultdict(list)
    for job, event_id, at, kind, rid, code, body in rows:
        by_job[job].append(Ping(event_id, at, kind, rid, code, body or ""))
    out: list[dict[str, Any]] = []
    for job, pings in by_job.items():
        started = pair_pings(pings)
        for p in pings:
            # A batch's pings can re-pair finishes up to MAX_PING_RUN after them, never before.
            if p.kind not in FINISH_KINDS or p.at < lo:
                continue
            start = started[p.event_id]
            success = p.kind == "success"
            out.append({
                "id": uuid.uuid4(), "run_at": p.at, "practice_id": job_practice[job], "backup_job_id": job,
                "run_key": "ping:" + p.event_id, "source": "ping", "status": "success" if success else "failed",
                "started_at": start, "finished_at": p.at,
                "duration_seconds": (p.at - start).total_seconds() if start else None, "bytes": None, "files": None,
                # The data is as old as the run's start; a lone success only tells when it ended.
                "restore_point_at": (start or p.at) if success else None, "snapshot_id": None, "verified": None,
                "exit_code": p.exit_code, "log_tail": p.body or None, "report_event_id": p.event_id, "reported_at": p.at,
            })
    if out:
        await session.execute(_PING_RUN_UPSERT, {"msp": msp_id, **_columns(out, _RUN_COLUMNS)})
    return jobs


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
        started, finished = ts(p["started_at"]), ts(p["finished_at"])
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
