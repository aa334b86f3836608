"""What telemetry could not become: events set aside by the worker, batches refused at ingest, and
an MSP whose telemetry is stalled by a failing batch (docs/decisions/0006-dead-letters.md)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, Index, LargeBinary, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from services.core.base import Base, TenantMixin, utcnow


def _practice_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE",
                                name=f"fk_{table}_practice")


class TelemetryDeadLetter(TenantMixin, Base):
    """One recorded event the worker set aside because the event itself is invalid.

    The inbox row stays (its dedup key keeps a resent copy out) with type `set_aside`; this row
    keeps the original type and payload, so a replay puts the event back exactly as it arrived.
    """

    __tablename__ = "telemetry_dead_letter"
    __table_args__ = (
        _practice_fk("telemetry_dead_letter"),
        # One dead letter per event, whatever number of times it fails: the inbox's dedup key.
        UniqueConstraint("source_id", "event_id", "msp_id"),
        Index("ix_telemetry_dead_letter_practice", "practice_id", "msp_id", "last_failed_at"),
        # The MSP-wide list, newest failure first, keyset-paged (0020): without it, every page sorted
        # all of the MSP's dead letters, and one bad batch can leave thousands.
        Index("ix_telemetry_dead_letter_msp_failed", "msp_id", "last_failed_at", "id"),
    )
    practice_id: Mapped[uuid.UUID]
    site_id: Mapped[uuid.UUID | None]  # no foreign key, as in the inbox: a deleted site leaves its events
    event_seq: Mapped[int] = mapped_column(BigInteger)
    source_id: Mapped[uuid.UUID]  # the agent, or the backup job for a ping
    event_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    field: Mapped[str | None] = mapped_column(String(100))
    failures: Mapped[int] = mapped_column(default=1)
    first_failed_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    last_failed_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    replay_count: Mapped[int] = mapped_column(default=0)
    replayed_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(16))  # replayed, discarded
    resolved_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class IngestRefusal(TenantMixin, Base):
    """A batch ingest refused (422, 413, 415), kept so the MSP sees what its agent sent and why.

    Bounded: the newest REFUSALS_KEPT per agent, the errors and an excerpt of the body capped in
    size; the same body refused again counts as a repeat of the same row (services/core/telemetry/refusals.py).
    """

    __tablename__ = "ingest_refusal"
    __table_args__ = (
        _practice_fk("ingest_refusal"),
        ForeignKeyConstraint(["msp_id", "agent_id"], ["agent.msp_id", "agent.id"], ondelete="CASCADE",
                             name="fk_ingest_refusal_agent"),
        Index("ix_ingest_refusal_agent", "agent_id", "msp_id", "last_at"),
    )
    practice_id: Mapped[uuid.UUID]
    agent_id: Mapped[uuid.UUID]
    status: Mapped[int]
    code: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text)
    errors: Mapped[list[Any]] = mapped_column(default=list)
    body_excerpt: Mapped[str] = mapped_column(Text, default="")
    body_bytes: Mapped[int] = mapped_column(default=0)
    body_digest: Mapped[bytes] = mapped_column(LargeBinary)
    repeats: Mapped[int] = mapped_column(default=1)
    last_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)


class TelemetryStall(Base):
    """An MSP whose telemetry batch keeps failing (a bug or an outage, not a bad event).

    The stall is over as soon as the inbox row `first_seq` is no longer pending, whoever applied
    it: readers check that, so no batch has to clear this row on its hot path.
    """

    __tablename__ = "telemetry_stall"
    msp_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("msp.id", ondelete="CASCADE"), primary_key=True)
    first_seq: Mapped[int] = mapped_column(BigInteger)
    since: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    failures: Mapped[int] = mapped_column(default=1)
    batch_size: Mapped[int]
    error_type: Mapped[str] = mapped_column(String(100))
    error: Mapped[str] = mapped_column(Text)
