"""Pages of telemetry history for a time range, newest first, with an opaque keyset cursor.

Ranges are bounded (a query touches a known number of partitions) and every query filters by
msp_id and practice_id. The cursor only positions inside those filters, so a forged cursor can
skip rows of the caller's own history and nothing else.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core import units
from services.core.errors import FieldError, NotFound, ValidationFailed
from services.core.telemetry.schemas_state import BackupRunOut, FailoverOut, LinkSampleOut, Page, RestoreTestOut

MAX_SPAN = {
    "runs": timedelta(days=6 * 366 + 31),
    "restore_tests": timedelta(days=6 * 366 + 31),
    "failovers": timedelta(days=6 * 366 + 31),
    "raw": timedelta(days=15),
    "5m": timedelta(days=400),
}


def check_range(start: datetime, end: datetime, kind: str) -> None:
    if start >= end:
        raise ValidationFailed("The range is empty.", errors=[FieldError("from", "must be before `to`")])
    if end - start > MAX_SPAN[kind]:
        days = MAX_SPAN[kind].days
        raise ValidationFailed("The range is too long.", errors=[FieldError("from", f"the range may span at most {days} days")])


def encode_cursor(at: datetime, key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps([at.isoformat(), str(key)]).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, key_type: type) -> tuple[datetime, Any] | None:
    if not cursor:
        return None
    try:
        at, key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        moment = datetime.fromisoformat(at)
        # A time without its offset is ambiguous (as for `from` and `to`); uuid.UUID(123) is an AttributeError.
        if moment.tzinfo is None:
            raise ValueError(at)
        return moment, key_type(key)
    except (ValueError, TypeError, AttributeError):
        raise ValidationFailed("The cursor is not valid.", errors=[FieldError("cursor", "use next_cursor from a previous page")])


async def _page(session: AsyncSession, sql: str, params: dict[str, Any], cursor: str | None, key_type: type, limit: int,
                time_col: str, key_col: str) -> tuple[list[dict[str, Any]], str | None]:
    position = decode_cursor(cursor, key_type)
    where = f" AND ({time_col}, {key_col}) < (:c_at, :c_key)" if position else ""
    if position:
        params = {**params, "c_at": position[0], "c_key": position[1]}
    rows = [dict(r) for r in (await session.execute(
        text(f"{sql}{where} ORDER BY {time_col} DESC, {key_col} DESC LIMIT :limit"), {**params, "limit": limit + 1})).mappings()]
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return rows, encode_cursor(last["_at"], last["_key"]) if last else None


async def ensure_exists(session: AsyncSession, table: str, msp_id: uuid.UUID, practice_id: uuid.UUID, object_id: uuid.UUID,
                        what: str) -> None:
    found = await session.scalar(text(f"SELECT 1 FROM {table} WHERE msp_id = :m AND practice_id = :p AND id = :i"),
                                 {"m": msp_id, "p": practice_id, "i": object_id})
    if not found:
        raise NotFound(f"No such {what} in this practice.")


async def backup_runs(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, job_id: uuid.UUID, start: datetime,
                      end: datetime, cursor: str | None, limit: int) -> Page[BackupRunOut]:
    check_range(start, end, "runs")
    await ensure_exists(session, "backup_job", msp_id, practice_id, job_id, "backup job")
    rows, nxt = await _page(session, (
        "SELECT *, run_at AS _at, id AS _key FROM backup_run WHERE msp_id = :m AND practice_id = :p AND backup_job_id = :j"
        " AND run_at >= :start AND run_at < :end"), {"m": msp_id, "p": practice_id, "j": job_id, "start": start, "end": end},
        cursor, uuid.UUID, limit, "run_at", "id")
    return Page[BackupRunOut](items=[BackupRunOut.model_validate(r) for r in rows], next_cursor=nxt)


async def restore_tests(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, start: datetime, end: datetime,
                        cursor: str | None, limit: int) -> Page[RestoreTestOut]:
    check_range(start, end, "restore_tests")
    rows, nxt = await _page(session, (
        "SELECT *, started_at AS _at, id AS _key FROM restore_test WHERE msp_id = :m AND practice_id = :p"
        " AND started_at >= :start AND started_at < :end"), {"m": msp_id, "p": practice_id, "start": start, "end": end},
        cursor, uuid.UUID, limit, "started_at", "id")
    return Page[RestoreTestOut](items=[RestoreTestOut.model_validate(r) for r in rows], next_cursor=nxt)


async def failovers(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, start: datetime, end: datetime,
                    cursor: str | None, limit: int) -> Page[FailoverOut]:
    check_range(start, end, "failovers")
    rows, nxt = await _page(session, (
        "SELECT *, started_at AS _at, id AS _key FROM failover_event WHERE msp_id = :m AND practice_id = :p"
        " AND started_at >= :start AND started_at < :end"), {"m": msp_id, "p": practice_id, "start": start, "end": end},
        cursor, uuid.UUID, limit, "started_at", "id")
    return Page[FailoverOut](items=[FailoverOut.model_validate(r) for r in rows], next_cursor=nxt)


def _mean(total: Any, count: int) -> float | None:
    return float(total) / count if count else None


async def link_samples(session: AsyncSession, msp_id: uuid.UUID, practice_id: uuid.UUID, link_id: uuid.UUID, start: datetime,
                       end: datetime, resolution: str, cursor: str | None, limit: int) -> Page[LinkSampleOut]:
    check_range(start, end, resolution)
    await ensure_exists(session, "link", msp_id, practice_id, link_id, "link")
    params = {"m": msp_id, "p": practice_id, "l": link_id, "start": start, "end": end}
    if resolution == "raw":
        rows, nxt = await _page(session, (
            "SELECT sampled_at AS _at, event_seq AS _key, up, latency_ms, loss_pct, jitter_ms FROM link_sample"
            " WHERE msp_id = :m AND practice_id = :p AND link_id = :l AND sampled_at >= :start AND sampled_at < :end"),
            params, cursor, int, limit, "sampled_at", "event_seq")
        items = [LinkSampleOut(at=r["_at"], samples=1, up_samples=int(r["up"]), up=r["up"], latency_ms=r["latency_ms"],
                               latency_max_ms=r["latency_ms"], loss_pct=r["loss_pct"], jitter_ms=r["jitter_ms"]) for r in rows]
    else:
        rows, nxt = await _page(session, (
            "SELECT bucket AS _at, link_id AS _key, * FROM link_sample_5m"
            " WHERE msp_id = :m AND practice_id = :p AND link_id = :l AND bucket >= :start AND bucket < :end"),
            params, cursor, uuid.UUID, limit, "bucket", "link_id")
        items = [LinkSampleOut(at=r["_at"], samples=r["samples"], up_samples=r["up_samples"], up=2 * r["up_samples"] > r["samples"],
                               # Means of numeric sums: rounded as everywhere (services/core/units.py).
                               latency_ms=units.ms(_mean(r["latency_sum"], r["latency_count"])), latency_max_ms=r["latency_max"],
                               loss_pct=units.loss_pct(_mean(r["loss_sum"], r["loss_count"])),
                               jitter_ms=units.ms(_mean(r["jitter_sum"], r["jitter_count"])))
                 for r in rows]
    return Page[LinkSampleOut](items=items, next_cursor=nxt)
