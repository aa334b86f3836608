"""Reading the audit trail: one filtered query for the list and the export."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, func, select

from services.core.audit.models import AuditEvent
from services.core.audit.schemas import AuditFilter


def filtered(msp_id: uuid.UUID, f: AuditFilter) -> Select[AuditEvent]:
    q = select(AuditEvent).where(AuditEvent.msp_id == msp_id)
    if f.action:
        q = q.where(AuditEvent.action.startswith(f.action, autoescape=True))
    if f.actor:
        try:
            q = q.where(AuditEvent.actor_id == uuid.UUID(f.actor))
        except ValueError:
            q = q.where(func.lower(AuditEvent.actor_label) == f.actor.strip().lower())
    if f.object_type:
        q = q.where(AuditEvent.object_type == f.object_type)
    if f.object_id:
        q = q.where(AuditEvent.object_id == f.object_id)
    if f.practice_id:
        q = q.where(AuditEvent.practice_id == f.practice_id)
    if f.occurred_from:
        q = q.where(AuditEvent.occurred_at >= f.occurred_from)
    if f.occurred_to:
        q = q.where(AuditEvent.occurred_at < f.occurred_to)
    return q


def page(msp_id: uuid.UUID, f: AuditFilter, before_seq: int | None, limit: int) -> Select[AuditEvent]:
    """Newest first; `before_seq` is the cursor (the last seq of the previous page)."""
    q = filtered(msp_id, f)
    if before_seq is not None:
        q = q.where(AuditEvent.seq < before_seq)
    return q.order_by(AuditEvent.seq.desc()).limit(limit)
