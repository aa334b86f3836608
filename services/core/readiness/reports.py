"""The monthly practice report: a PDF of readiness, its trend, findings, backups, links, incidents
and plan status for one calendar month, stored with its metadata in `readiness_report`.

Everything is gathered first (async, a handful of queries), then rendered from our own template
with WeasyPrint in a thread. Rendering fetches nothing: the chart is inline SVG and the URL fetcher
refuses every URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.service import SYSTEM, Actor, record
from services.core.db import Database, Scope
from services.core.errors import FieldError, NotFound, ValidationFailed
from services.core.practices.models import Msp, Practice
from services.core.readiness import service
from services.core.readiness.dashboard import _plan
from services.core.readiness.judged import run_is_stale, stale_runs
from services.core.readiness.models import ReadinessReport, ReadinessSnapshot
from services.core.telemetry.events import MAX_PAST

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
STATUS_WORDS = {"ready": "Ready", "at_risk": "At risk", "not_ready": "Not ready", None: "Not measured"}


def month_bounds(month: str | None, today: date) -> tuple[date, date]:
    """[first day, first day of the next month) of YYYY-MM, or of the current month.

    Only for months `check_month` accepted (or made by `previous_month`): year 9999's December has
    no next month in `date`.
    """
    year, mon = (int(month[:4]), int(month[5:7])) if month else (today.year, today.month)
    start = date(year, mon, 1)
    return start, date(year + (mon == 12), mon % 12 + 1, 1)


def check_month(month: str, practice: Practice, today: date) -> None:
    """422 naming `month` unless it runs from the earliest month the practice can have data for to
    this one: before, there is nothing to report; after, the month has not happened. Months are UTC
    months, as `month_bounds` counts them. Agents may report events up to `MAX_PAST` old, so a
    practice added on 2 December can hold November's backups (an agent replaying its spool)."""
    year, mon = int(month[:4]), int(month[5:7])
    created = (practice.created_at - MAX_PAST).astimezone(timezone.utc).date()
    if (year, mon) > (today.year, today.month):
        raise ValidationFailed(f"{_words(year, mon)} has not happened yet; choose this month or an earlier one.",
                               errors=[FieldError("month", "must not be after the current month",
                                                  {"latest": f"{today:%Y-%m}"})])
    if (year, mon) < (created.year, created.month):
        raise ValidationFailed(f"This practice has no data before {created:%B %Y}; choose that month or a later one.",
                               errors=[FieldError("month", "must not be before the practice's first data can be",
                                                  {"earliest": f"{created:%Y-%m}"})])


def _words(year: int, mon: int) -> str:
    return f"{date(2000, mon, 1):%B} {year}"


def previous_month(today: date) -> str:
    return f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"


def _at(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=timezone.utc)


_BACKUPS = text("""
SELECT j.id, j.name, j.location,
       count(r.*) FILTER (WHERE r.status = 'success') AS succeeded, count(r.*) FILTER (WHERE r.status = 'failed') AS failed,
       count(r.*) FILTER (WHERE r.status = 'warning') AS warnings, max(r.finished_at) FILTER (WHERE r.status = 'success') AS last_success
FROM backup_job j
LEFT JOIN backup_run r ON r.msp_id = j.msp_id AND r.backup_job_id = j.id AND r.run_at >= :start AND r.run_at < :end
WHERE j.msp_id = :msp AND j.practice_id = :practice GROUP BY j.id, j.name, j.location ORDER BY j.name
""")
# The month's successes of the jobs readiness holds a stale success for: the judgement itself is
# judged.run_is_stale's, the one the Backups view and the dashboard read.
_STALE_CANDIDATES = text("""
SELECT backup_job_id, status, finished_at FROM backup_run
WHERE msp_id = :msp AND backup_job_id = ANY(:jobs) AND status = 'success' AND run_at >= :start AND run_at < :end
""")
_LINKS = text("""
SELECT l.id, l.name, l.role, s.name AS site, sum(a.samples)::bigint AS samples, sum(a.up_samples)::bigint AS up_samples,
       sum(a.latency_sum) / nullif(sum(a.latency_count), 0) AS latency_ms, sum(a.loss_sum) / nullif(sum(a.loss_count), 0) AS loss_pct,
       (SELECT count(*) FROM failover_event f WHERE f.msp_id = l.msp_id AND f.from_link_id = l.id
          AND f.started_at >= :start AND f.started_at < :end) AS failovers
FROM link l JOIN site s ON s.msp_id = l.msp_id AND s.id = l.site_id
LEFT JOIN link_sample_5m a ON a.msp_id = l.msp_id AND a.link_id = l.id AND a.bucket >= :start AND a.bucket < :end
WHERE l.msp_id = :msp AND l.practice_id = :practice GROUP BY l.msp_id, l.id, l.name, l.role, s.name ORDER BY s.name, l.role, l.name
""")
_INCIDENTS = text("""
SELECT title, severity, status, opened_at, resolved_at FROM incident
WHERE msp_id = :msp AND practice_id = :practice AND parent_id IS NULL AND opened_at < :end
  AND (resolved_at IS NULL OR resolved_at >= :start)
ORDER BY opened_at
""")


def trend_svg(points: list[dict[str, Any]], start: date, end: date, width: int = 640, height: int = 160) -> str:
    """The month's daily scores as an inline SVG line (with the ready and at-risk thresholds)."""
    days = (end - start).days
    pad = 28

    def x(d: date) -> float:
        return pad + (width - 2 * pad) * ((d - start).days / max(days - 1, 1))

    def y(score: float) -> float:
        return height - pad - (height - 2 * pad) * score / 100

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">']
    for level, color in ((80, "#2e7d32"), (50, "#e65100")):
        parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{y(level):.1f}" y2="{y(level):.1f}" stroke="{color}" '
                     f'stroke-dasharray="4 3" stroke-width="1"/><text x="2" y="{y(level) + 4:.1f}" font-size="9">{level}</text>')
    parts.append(f'<line x1="{pad}" x2="{width - pad}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#999" stroke-width="1"/>')
    if points:
        line = " ".join(f"{x(p['day']):.1f},{y(p['score']):.1f}" for p in points)
        low = " ".join(f"{x(p['day']):.1f},{y(p['min_score']):.1f}" for p in points)
        parts.append(f'<polyline points="{low}" fill="none" stroke="#b0bec5" stroke-width="1"/>')
        parts.append(f'<polyline points="{line}" fill="none" stroke="#1565c0" stroke-width="2"/>')
        for p in points:
            parts.append(f'<circle cx="{x(p["day"]):.1f}" cy="{y(p["score"]):.1f}" r="2" fill="#1565c0"/>')
    parts.append("</svg>")
    return "".join(parts)


async def _backups(session: AsyncSession, params: dict[str, Any], findings: list) -> list[dict[str, Any]]:
    """Runs per job in the month; a success readiness judged to have saved nothing new is counted as
    `stale`, not among `succeeded`."""
    rows = [dict(r) for r in (await session.execute(_BACKUPS, params)).mappings()]
    stale = stale_runs(findings)
    for r in rows:
        r["stale"] = 0
    if judged := [uuid.UUID(j) for j, at in stale.items() if at is not None]:
        by_id = {r["id"]: r for r in rows}
        for run in (await session.execute(_STALE_CANDIDATES, {**params, "jobs": judged})).mappings():
            row = by_id.get(run["backup_job_id"])
            if row is not None and run_is_stale(stale, run["backup_job_id"], run["status"], run["finished_at"]):
                row["stale"] += 1
                row["succeeded"] -= 1
    return rows


async def gather(session: AsyncSession, practice: Practice, start: date, end: date, now: datetime) -> dict[str, Any]:
    params = {"msp": practice.msp_id, "practice": practice.id, "start": _at(start), "end": _at(end)}
    current = await service.current(session, practice.msp_id, practice.id)
    snaps: list[dict[str, Any]] = [{"day": s.day, "score": s.score, "min_score": s.min_score, "status": s.status} for s in (await session.scalars(
        select(ReadinessSnapshot).where(ReadinessSnapshot.msp_id == practice.msp_id, ReadinessSnapshot.practice_id == practice.id,
                                        ReadinessSnapshot.day >= start, ReadinessSnapshot.day < end)
        .order_by(ReadinessSnapshot.day))).all()]
    msp = await session.get(Msp, practice.msp_id)
    links = []
    for r in (await session.execute(_LINKS, params)).mappings():
        links.append({**r, "uptime_pct": round(100 * r["up_samples"] / r["samples"], 2) if r["samples"] else None})
    return {
        "msp_name": msp.name if msp else "", "practice": practice, "start": start, "end": end, "period": f"{start:%B %Y}", "generated_at": now, "current": current, "status_words": STATUS_WORDS,
        "findings": [f for f in current.findings if f["points"] > 0 or f.get("counted_under") is None],
        "snapshots": snaps, "trend_svg": trend_svg(snaps, start, end),
        "days_measured": len(snaps), "days_ready": sum(1 for s in snaps if s["status"] == "ready"),
        "average": round(sum(s["score"] for s in snaps) / len(snaps)) if snaps else None,
        "lowest": min((s["min_score"] for s in snaps), default=None),
        "backups": await _backups(session, params, current.findings),
        "links": links,
        "incidents": [dict(r) for r in (await session.execute(_INCIDENTS, params)).mappings()],
        "plan": await _plan(session, practice, now),
    }


def render(context: dict[str, Any]) -> bytes:
    """Blocking: call it through asyncio.to_thread.

    WeasyPrint is imported here, not at module load: it costs the API process ~40 MB of memory that
    only report generation needs.
    """
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    class NoNetwork(URLFetcher):
        """Refuses every URL: the report is self-contained."""

        def fetch(self, url, headers=None):  # noqa: ANN001 — WeasyPrint's signature
            raise ValueError(f"the practice report fetches nothing: {url}")

    html = _env.get_template("report.html.j2").render(**context)
    return HTML(string=html, base_url=None, url_fetcher=NoNetwork()).write_pdf()


async def generate(session: AsyncSession, practice: Practice, *, month: str | None, kind: str, actor: Actor,
                   now: datetime) -> ReadinessReport:
    if month is not None:
        check_month(month, practice, now.date())
    start, end = month_bounds(month, now.date())
    context = await gather(session, practice, start, end, now)
    pdf = await asyncio.to_thread(render, context)
    report = ReadinessReport(msp_id=practice.msp_id, practice_id=practice.id, kind=kind, period_start=start, period_end=end,
                             generated_at=now, generated_by=actor.id if actor.type in ("user", "token") else None,
                             generated_by_label=actor.label, score=context["current"].score,
                             status=context["current"].status, sha256=hashlib.sha256(pdf).hexdigest(), size_bytes=len(pdf),
                             pdf=pdf)
    session.add(report)
    await session.flush()
    await record(session, msp_id=practice.msp_id, actor=actor, action="readiness_report.generated",
                 object_type="readiness_report", object_id=str(report.id), practice_id=practice.id,
                 changes={"kind": kind, "period_start": start.isoformat(), "sha256": report.sha256})
    return report


async def list_reports(session: AsyncSession, practice: Practice) -> list[ReadinessReport]:
    return list((await session.scalars(select(ReadinessReport).where(
        ReadinessReport.msp_id == practice.msp_id, ReadinessReport.practice_id == practice.id)
        .order_by(ReadinessReport.generated_at.desc()).limit(120))).all())


async def get_pdf(session: AsyncSession, practice: Practice, report_id: uuid.UUID) -> tuple[ReadinessReport, bytes]:
    report = await session.scalar(select(ReadinessReport).where(
        ReadinessReport.msp_id == practice.msp_id, ReadinessReport.practice_id == practice.id, ReadinessReport.id == report_id))
    if report is None:
        raise NotFound("No such report for this practice.")
    pdf = await session.scalar(select(ReadinessReport.pdf).where(ReadinessReport.msp_id == practice.msp_id,
                                                                 ReadinessReport.id == report_id))
    if pdf is None:  # deleted between the two reads
        raise NotFound("No such report for this practice.")
    return report, pdf


async def generate_scheduled(db: Database, msp_id: uuid.UUID, month: str, now: datetime) -> int:
    """The month's report for every active practice of an MSP that has none yet; one transaction per
    practice, so a failure costs one report and a rerun makes only the missing ones."""
    start, end = month_bounds(month, now.date())
    async with db.transaction(Scope(msp_id)) as s:
        done = set((await s.scalars(select(ReadinessReport.practice_id).where(
            ReadinessReport.msp_id == msp_id, ReadinessReport.kind == "scheduled", ReadinessReport.period_start == start))).all())
        # A practice added after the month gets no scheduled report for it (one can still be asked for).
        todo = [p for p in (await s.scalars(select(Practice.id).where(
            Practice.msp_id == msp_id, Practice.active.is_(True), Practice.created_at < _at(end)))).all() if p not in done]
    for practice_id in todo:
        async with db.transaction(Scope(msp_id)) as s:
            practice = await s.get(Practice, (msp_id, practice_id))
            if practice is not None:
                await generate(s, practice, month=month, kind="scheduled", actor=SYSTEM, now=now)
    return len(todo)
