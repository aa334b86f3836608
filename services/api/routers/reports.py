"""Monthly practice reports (PDF): generate on demand, list, download."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from services.api.deps import DbSession, PracticeOperator, PracticeReader
from services.core.base import utcnow
from services.core.readiness import reports
from services.core.readiness.schemas import ReportIn, ReportOut

router = APIRouter(prefix="/api/v1/practices/{practice_id}/reports", tags=["reports"])


@router.post("", operation_id="create_practice_report", response_model=ReportOut, status_code=201)
async def create_practice_report(access: PracticeOperator, db: DbSession, body: ReportIn | None = None):
    """Generate the practice report for a month (default: the current month so far) now."""
    month = body.month if body else None
    return await reports.generate(db, access.practice, month=month, kind="on_demand", actor=access.actor, now=utcnow())


@router.get("", operation_id="list_practice_reports", response_model=list[ReportOut])
async def list_practice_reports(access: PracticeReader, db: DbSession):
    """The practice's reports, newest first (scheduled monthly ones and those generated on demand)."""
    return await reports.list_reports(db, access.practice)


@router.get("/{report_id}.pdf", operation_id="download_practice_report", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "The report as a PDF"}})
async def download_practice_report(report_id: uuid.UUID, access: PracticeReader, db: DbSession) -> Response:
    """One report, as the PDF that was generated."""
    report, pdf = await reports.get_pdf(db, access.practice, report_id)
    name = f"readiness-{report.period_start:%Y-%m}-{report.id.hex[:8]}.pdf"
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "X-Content-SHA256": report.sha256,
                             "Cache-Control": "private, no-store"})
