"""What the API returns about telemetry that did not go through: dead letters, refused batches, a stall."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DeadLetterOut(_Out):
    id: uuid.UUID
    practice_id: uuid.UUID
    site_id: uuid.UUID | None = None
    site_name: str | None = None
    event_seq: int
    event_id: str
    type: str
    source_kind: Literal["agent", "ping"]
    source_id: uuid.UUID
    source_name: str
    occurred_at: datetime
    code: str
    reason: str
    field: str | None = None
    failures: int
    first_failed_at: datetime
    last_failed_at: datetime
    replay_count: int
    replayed_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: Literal["replayed", "discarded"] | None = None


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    next_cursor: str | None = None
    open_count: int


class DeadLetterActionOut(BaseModel):
    replayed: int = 0
    discarded: int = 0
    # Open dead letters of the practice still left after this request: "all" takes at most 1,000 at a time.
    remaining: int = 0


class RefusalError(BaseModel):
    field: str
    message: str
    event_index: int | None = None
    event_id: str | None = None
    event_type: str | None = None


class IngestRefusalOut(_Out):
    id: uuid.UUID
    agent_id: uuid.UUID
    status: int
    code: str
    detail: str
    errors: list[RefusalError]
    body_bytes: int
    repeats: int
    first_at: datetime
    last_at: datetime


class RefusalSummaryOut(BaseModel):
    agent_id: uuid.UUID
    practice_id: uuid.UUID
    batches: int  # refusals kept (the newest REFUSALS_KEPT per agent)
    attempts: int  # how many times those were sent
    last_at: datetime


class TelemetryStallOut(BaseModel):
    """The MSP's telemetry is waiting on a batch that keeps failing (a fault on Seawall's side)."""

    stalled: bool
    since: datetime | None = None
    last_failed_at: datetime | None = None
    failures: int = 0
    pending_events: int = 0


def refusal_errors(raw: list[Any]) -> list[RefusalError]:
    return [RefusalError.model_validate(e) for e in raw if isinstance(e, dict)]
