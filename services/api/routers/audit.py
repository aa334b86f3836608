"""The MSP's audit log: list and filter, export as CSV, and verify the hash chain (MSP managers)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from services.api.deps import DbSession, MspManager
from services.core.audit import export, queries
from services.core.audit.schemas import AuditEventOut, AuditFilter, AuditPage, ChainReportOut
from services.core.audit.service import verify_chain
from services.core.base import utcnow
from services.core.errors import FieldError, ValidationFailed
from services.core.periods import SpannedDatetime

router = APIRouter(prefix="/api/v1/audit-events", tags=["audit"])


def audit_filter(
    action: Annotated[str | None, Query(max_length=80, description="Action prefix, e.g. `membership.`")] = None,
    actor: Annotated[str | None, Query(max_length=320, description="Actor id, or email (case-insensitive)")] = None,
    object_type: Annotated[str | None, Query(max_length=60)] = None,
    object_id: Annotated[str | None, Query(max_length=80)] = None,
    practice_id: uuid.UUID | None = None,
    occurred_from: Annotated[SpannedDatetime | None, Query(alias="from", description="At or after this time (ISO 8601)")] = None,
    occurred_to: Annotated[SpannedDatetime | None, Query(alias="to", description="Before this time (ISO 8601)")] = None,
) -> AuditFilter:
    for name, value in (("from", occurred_from), ("to", occurred_to)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed("Give times with a time zone, e.g. 2024-05-01T00:00:00Z.",
                                   errors=[FieldError(name, "needs a time zone offset")])
    for name, text_value in (("action", action), ("actor", actor), ("object_type", object_type), ("object_id", object_id)):
        # Checked here, not left to the database: the CSV export streams, and an error after its
        # first byte could no longer become a problem response.
        if text_value is not None and "\x00" in text_value:
            raise ValidationFailed("Filters cannot contain NUL characters.", errors=[FieldError(name, "contains a NUL character")])
    return AuditFilter(action=action, actor=actor, object_type=object_type, object_id=object_id, practice_id=practice_id,
                       occurred_from=occurred_from, occurred_to=occurred_to)


Filters = Annotated[AuditFilter, Depends(audit_filter)]


def _cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or not 0 < len(cursor) <= 18:
        raise ValidationFailed("The cursor is not valid; use the next_cursor of the previous page.",
                               errors=[FieldError("cursor", "not a cursor given by this API")])
    return int(cursor)


@router.get("", operation_id="list_audit_events", response_model=AuditPage)
async def list_audit_events(
    principal: MspManager, db: DbSession, f: Filters,
    cursor: Annotated[str | None, Query(max_length=20, description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> AuditPage:
    """Audit events of the MSP, newest first, filtered, a page at a time."""
    events = list(await db.scalars(queries.page(principal.msp_id, f, _cursor(cursor), limit)))
    next_cursor = str(events[-1].seq) if len(events) == limit and events[-1].seq > 1 else None
    return AuditPage(items=[AuditEventOut.model_validate(e) for e in events], next_cursor=next_cursor)


@router.get("/export.csv", operation_id="export_audit_events", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}, "description": "The matching events as CSV, oldest first"}})
async def export_audit_events(request: Request, principal: MspManager, f: Filters) -> StreamingResponse:
    """The filtered audit events as a CSV file (streamed; cells that a spreadsheet would run as formulas are quoted)."""
    name = f"seawall-audit-{utcnow():%Y%m%dT%H%M%SZ}.csv"

    async def rows():
        # The request's transaction has ended by the time the body streams: read in a transaction of its own.
        async with request.app.state.db.transaction(principal.scope) as session:
            async for chunk in export.stream_csv(session, principal.msp_id, f):
                yield chunk

    return StreamingResponse(rows(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@router.get("/verify", operation_id="verify_audit_chain", response_model=ChainReportOut)
async def verify_audit_chain(principal: MspManager, db: DbSession) -> ChainReportOut:
    """Recompute the MSP's hash chain and report the first event that was changed, removed or reordered."""
    return ChainReportOut.of(await verify_chain(db, principal.msp_id))
