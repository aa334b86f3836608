"""The audit trail as CSV, streamed, and safe to open in a spreadsheet.

A cell that a spreadsheet would read as a formula (starting with = + - @, a tab or a carriage
return) is prefixed with a single quote, so an actor label or a changed value such as
`=HYPERLINK(…)` is shown as text, never run (OWASP "CSV injection").
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.core.audit.models import AuditEvent
from services.core.audit.queries import filtered
from services.core.audit.schemas import AuditFilter

COLUMNS = ["seq", "occurred_at", "actor_type", "actor_id", "actor_label", "action", "object_type", "object_id",
           "practice_id", "ip", "changes", "hash"]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 500


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def row_of(e: AuditEvent) -> list[str]:
    values = [e.seq, e.occurred_at.isoformat(), e.actor_type, e.actor_id, e.actor_label, e.action, e.object_type, e.object_id,
              e.practice_id, e.ip, json.dumps(e.changes, sort_keys=True, ensure_ascii=False), e.hash.hex()]
    return [safe_cell(v) for v in values]


async def stream_csv(session: AsyncSession, msp_id: uuid.UUID, f: AuditFilter) -> AsyncIterator[str]:
    """Header, then the matching events oldest first, a chunk at a time (memory stays flat)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    query = filtered(msp_id, f).order_by(AuditEvent.seq).execution_options(yield_per=ROWS_PER_CHUNK)
    result = await session.stream_scalars(query)
    n = 0
    async for event in result:
        writer.writerow(row_of(event))
        n += 1
        if n % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
