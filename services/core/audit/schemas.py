"""What the audit log API takes and gives."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from services.core.audit.service import ChainReport


class AuditFilter(BaseModel):
    """Filters shared by the list and the CSV export; every one is optional."""

    model_config = ConfigDict(extra="forbid")
    action: str | None = Field(default=None, max_length=80, description="Action prefix, e.g. `membership.` or `auth.sign_in`")
    actor: str | None = Field(default=None, max_length=320, description="The actor's id, or their email (case-insensitive)")
    object_type: str | None = Field(default=None, max_length=60)
    object_id: str | None = Field(default=None, max_length=80)
    practice_id: uuid.UUID | None = None
    occurred_from: datetime | None = Field(default=None, description="Events at or after this time")
    occurred_to: datetime | None = Field(default=None, description="Events before this time")


class AuditEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    seq: int
    occurred_at: datetime
    actor_type: str
    actor_id: uuid.UUID | None
    actor_label: str
    action: str
    object_type: str
    object_id: str
    practice_id: uuid.UUID | None
    ip: str | None
    changes: dict[str, Any]
    hash: bytes = Field(description="This event's link in the MSP's hash chain (hex)")

    @field_serializer("hash")
    def _hex(self, value: bytes) -> str:
        return value.hex()


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next (older) page; null on the last page")


class ChainReportOut(BaseModel):
    ok: bool
    checked: int = Field(description="How many events were checked")
    first_bad_seq: int | None = Field(description="The first event whose link or content does not match")
    reason: str

    @classmethod
    def of(cls, report: ChainReport) -> "ChainReportOut":
        return cls(ok=report.ok, checked=report.checked, first_bad_seq=report.first_bad_seq, reason=report.reason)
