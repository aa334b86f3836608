"""The MSP portfolio: every practice the caller may see, worst first, in two queries per page.

Query 1 ranks, filters and pages the practices (joined with their current score and their open
incidents counted by severity) and counts the whole filtered set by status in the same statement.
Query 2 reads the page's 30-day trends from the snapshots (and, for the practices with fewer than
two days yet, a third reads today's hourly points). Nothing runs per practice.

Practices at the same score are ranked by open critical incidents, then high ones, then the one
that has been at that score longest (docs/decisions/0011-portfolio-ties-and-early-trend.md).
Cursors are opaque (base64 of the sort and the last row's sort values, ending with the practice
id), so a page boundary is stable even when many practices share a score.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.errors import FieldError, ValidationFailed

SEVERITIES = ("critical", "high", "medium", "low")
TREND_DAYS = 30

# sort name → the ordered keys (column of the ranked set, ascending?) before the name/id tie-break.
# Worst first, a tie at one score goes to the practice with more critical, then high incidents, then
# to the one stuck at that score longest (`since`: when its score or status last moved); best first
# reads the same ranking from the other end (docs/decisions/0011-portfolio-ties-and-early-trend.md).
SORTS: dict[str, list[tuple[str, bool]]] = {
    "score": [("skey", True), ("critical", False), ("high", False), ("since", True)],
    "-score": [("skey", False), ("critical", True), ("high", True), ("since", False)],
    "name": [],
    "-name": [],
    # Most urgent first: critical incidents, then high, medium, low; at the same counts the worse
    # score, then the longest at it, as in the default order.
    "open_incidents": [("critical", False), ("high", False), ("medium", False), ("low", False), ("skey", True),
                       ("since", True)],
    "-open_incidents": [("critical", True), ("high", True), ("medium", True), ("low", True), ("skey", False),
                        ("since", False)],
}


@dataclass(frozen=True)
class PortfolioQuery:
    sort: str = "score"
    limit: int = 50
    cursor: str | None = None
    statuses: tuple[str, ...] = ()
    has_critical: bool | None = None
    kind: str | None = None
    q: str | None = None
    include_inactive: bool = False


def _keys(sort: str) -> list[tuple[str, bool]]:
    name_asc = sort != "-name"
    return [*SORTS[sort], ("name", name_asc), ("id", True)]


def _json_value(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    # Microseconds are kept: a cursor rounded to the second would skip or repeat rows at a tie.
    return value.isoformat() if isinstance(value, datetime) else value


def encode_cursor(sort: str, row: dict[str, Any]) -> str:
    values = [_json_value(row[k]) for k, _ in _keys(sort)]
    return base64.urlsafe_b64encode(json.dumps([sort, values]).encode()).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> list[Any]:
    bad = ValidationFailed("The cursor is not valid for this query.", errors=[FieldError("cursor", "not a cursor of this sort")])
    try:
        got_sort, values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise bad from exc
    keys = _keys(sort)
    if got_sort != sort or not isinstance(values, list) or len(values) != len(keys):
        raise bad
    try:
        values[-1] = uuid.UUID(values[-1])
    except (ValueError, TypeError, AttributeError) as exc:
        raise bad from exc
    for i, ((k, _), v) in enumerate(zip(keys[:-1], values[:-1])):
        if k == "since":
            try:
                values[i] = datetime.fromisoformat(v)
            except (ValueError, TypeError) as exc:
                raise bad from exc
            if values[i].tzinfo is None:
                raise bad
        elif not isinstance(v, str if k == "name" else int) or isinstance(v, bool):
            raise bad
    return values


def _after(sort: str, params: dict[str, Any], values: list[Any]) -> str:
    """Rows strictly after the cursor, in the sort's order (keys of mixed direction)."""
    clauses = []
    keys = _keys(sort)
    for i, (k, asc) in enumerate(keys):
        params[f"c{i}"] = values[i]
        equal = [f"{keys[j][0]} = :c{j}" for j in range(i)]
        clauses.append("(" + " AND ".join([*equal, f"{k} {'>' if asc else '<'} :c{i}"]) + ")")
    return "(" + " OR ".join(clauses) + ")"


_RANKED = """
WITH inc AS (
  SELECT practice_id, count(*) FILTER (WHERE severity = 'critical') AS critical,
         count(*) FILTER (WHERE severity = 'high') AS high, count(*) FILTER (WHERE severity = 'medium') AS medium,
         count(*) FILTER (WHERE severity = 'low') AS low, count(*) AS total
  FROM incident WHERE msp_id = :msp AND resolved_at IS NULL AND parent_id IS NULL {inc_visible}
  GROUP BY practice_id),
ranked AS (
  SELECT p.id, p.name, p.kind, p.active, r.score, r.status, r.computed_at, coalesce(r.score, -1) AS skey,
         coalesce(r.changed_at, p.created_at) AS since,
         coalesce(i.critical, 0)::int AS critical, coalesce(i.high, 0)::int AS high, coalesce(i.medium, 0)::int AS medium,
         coalesce(i.low, 0)::int AS low, coalesce(i.total, 0)::int AS total
  FROM practice p
  LEFT JOIN readiness_current r ON r.msp_id = p.msp_id AND r.practice_id = p.id
  LEFT JOIN inc i ON i.practice_id = p.id
  WHERE p.msp_id = :msp {where}),
summary AS (
  SELECT count(*) AS n_total, count(*) FILTER (WHERE status = 'ready') AS n_ready,
         count(*) FILTER (WHERE status = 'at_risk') AS n_at_risk, count(*) FILTER (WHERE status = 'not_ready') AS n_not_ready,
         count(*) FILTER (WHERE status IS NULL) AS n_not_computed
  FROM ranked)
SELECT s.*, page.* FROM summary s
LEFT JOIN LATERAL (SELECT * FROM ranked {after} ORDER BY {order} LIMIT :limit) page ON true
"""

_TRENDS = text("""
SELECT practice_id, day, score, min_score, status FROM readiness_snapshot
WHERE msp_id = :msp AND practice_id = ANY(:ids) AND day > :since ORDER BY practice_id, day
""")

_HOURLY = text("""
SELECT practice_id, hour, score, min_score, status FROM readiness_hourly
WHERE msp_id = :msp AND practice_id = ANY(:ids) AND hour > :since ORDER BY practice_id, hour
""")


async def trends(session: AsyncSession, msp_id: uuid.UUID, practice_ids: list[uuid.UUID], now: datetime,
                 days: int = TREND_DAYS) -> dict[uuid.UUID, list[dict[str, Any]]]:
    """Each practice's daily points of the last `days` days; until it has two, its hourly points of the last 24 hours
    (when there are any and at least as many).

    One day is not a trend: a practice scored for the first time today would read "no trend yet"
    until tomorrow (docs/decisions/0011-portfolio-ties-and-early-trend.md).
    """
    out: dict[uuid.UUID, list[dict[str, Any]]] = {pid: [] for pid in practice_ids}
    if not practice_ids:
        return out
    rows = await session.execute(_TRENDS, {"msp": msp_id, "ids": practice_ids, "since": (now - timedelta(days=days)).date()})
    for pid, day, score, min_score, status in rows.all():
        out[pid].append({"day": day, "at": datetime.combine(day, time(), timezone.utc), "period": "day", "score": score,
                         "min_score": min_score, "status": status})
    young = [pid for pid, points in out.items() if len(points) < 2]
    if young:
        hourly: dict[uuid.UUID, list[dict[str, Any]]] = {pid: [] for pid in young}
        rows = await session.execute(_HOURLY, {"msp": msp_id, "ids": young, "since": now - timedelta(hours=24)})
        for pid, hour, score, min_score, status in rows.all():
            hourly[pid].append({"day": hour.astimezone(timezone.utc).date(), "at": hour, "period": "hour", "score": score,
                                "min_score": min_score, "status": status})
        for pid, points in hourly.items():
            # A lone daily point says less than the hour it was scored in ("first scored at 9:00").
            if points and len(points) >= len(out[pid]):
                out[pid] = points
    return out


async def portfolio(session: AsyncSession, msp_id: uuid.UUID, visible: frozenset[uuid.UUID] | None, query: PortfolioQuery,
                    now: datetime) -> dict[str, Any]:
    if query.sort not in SORTS:
        raise ValidationFailed("Unknown sort.", errors=[FieldError("sort", f"one of {', '.join(SORTS)}")])
    params: dict[str, Any] = {"msp": msp_id, "limit": query.limit + 1}
    where, inc_visible = [], ""
    if visible is not None:
        params["visible"] = list(visible)
        where.append("p.id = ANY(:visible)")
        inc_visible = "AND practice_id = ANY(:visible)"
    if not query.include_inactive:
        where.append("p.active")
    if query.statuses:
        params["statuses"] = list(query.statuses)
        where.append("r.status = ANY(:statuses)")
    if query.has_critical is not None:
        where.append("coalesce(i.critical, 0) > 0" if query.has_critical else "coalesce(i.critical, 0) = 0")
    if query.kind:
        params["kind"] = query.kind
        where.append("p.kind = :kind")
    if query.q:
        params["q"] = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("p.name ILIKE :q")
    after = ""
    if query.cursor:
        after = "WHERE " + _after(query.sort, params, decode_cursor(query.sort, query.cursor))
    order = ", ".join(f"{k} {'ASC' if asc else 'DESC'}" for k, asc in _keys(query.sort))
    sql = _RANKED.format(inc_visible=inc_visible, where="".join(f" AND {w}" for w in where), after=after, order=order)
    rows = [dict(r) for r in (await session.execute(text(sql), params)).mappings().all()]
    head = rows[0]
    page = [r for r in rows if r["id"] is not None]
    more = len(page) > query.limit
    page = page[:query.limit]
    trend = await trends(session, msp_id, [r["id"] for r in page], now)
    items = [{
        "practice_id": r["id"], "name": r["name"], "kind": r["kind"], "active": r["active"], "score": r["score"],
        "status": r["status"], "computed_at": r["computed_at"],
        "open_incidents": {s: r[s] for s in (*SEVERITIES, "total")}, "trend": trend[r["id"]],
    } for r in page]
    return {
        "items": items,
        "next_cursor": encode_cursor(query.sort, page[-1]) if more and page else None,
        "summary": {"total": head["n_total"], "ready": head["n_ready"], "at_risk": head["n_at_risk"],
                    "not_ready": head["n_not_ready"], "not_computed": head["n_not_computed"]},
    }
