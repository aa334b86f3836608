"""What the API records for telemetry: agents, enrollment tokens, ping keys and the inbox.

The inbox (`telemetry_event`) is also the dedup log: (msp_id, source_id, event_id) is unique, so
an agent resending after a lost answer is ignored by the database itself, not by a read-then-write.
The worker reads the inbox in `seq` order and marks rows processed (services/core/telemetry/processing.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, Identity, Index, LargeBinary, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from services.core.base import Base, TenantMixin, utcnow
from services.core.telemetry.liveness import DEFAULT_HEARTBEAT_INTERVAL_SECONDS, DEFAULT_PROBE_INTERVAL_SECONDS


def _practice_fk(table: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["msp_id", "practice_id"], ["practice.msp_id", "practice.id"], ondelete="CASCADE",
                                name=f"fk_{table}_practice")


class Agent(TenantMixin, Base):
    """One installed seawall-agent, bound for life to one site of one practice."""

    __tablename__ = "agent"
    __table_args__ = (
        _practice_fk("agent"),
        ForeignKeyConstraint(["msp_id", "site_id"], ["site.msp_id", "site.id"], ondelete="CASCADE", name="fk_agent_site"),
        # Practice first: an index leading with msp_id could stand in for the key in a lookup by key
        # (migrations/versions/0015_agent_practice_index_order.py).
        Index("ix_agent_practice", "practice_id", "msp_id"),
    )
    practice_id: Mapped[uuid.UUID]
    site_id: Mapped[uuid.UUID]
    hostname: Mapped[str] = mapped_column(String(255), default="")
    agent_version: Mapped[str] = mapped_column(String(40), default="")
    # Keyed hashes only (services/core/secrets.hash_token); the credential itself is shown once.
    credential_hash: Mapped[bytes] = mapped_column(LargeBinary)
    # After a rotation the old credential keeps working until previous_valid_until, so an agent
    # can be given its new credential without losing a report in between.
    previous_credential_hash: Mapped[bytes | None] = mapped_column(LargeBinary)
    previous_valid_until: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    heartbeat_interval_seconds: Mapped[int] = mapped_column(default=DEFAULT_HEARTBEAT_INTERVAL_SECONDS)  # liveness.py
    # How often it probes its site's links, as its newest heartbeat says (liveness.SiteSampling).
    probe_interval_seconds: Mapped[int] = mapped_column(default=DEFAULT_PROBE_INTERVAL_SECONDS,
                                                        server_default=str(DEFAULT_PROBE_INTERVAL_SECONDS))
    enrolled_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class EnrollmentToken(TenantMixin, Base):
    """A short-lived, single-use token an agent exchanges for its own credential."""

    __tablename__ = "enrollment_token"
    __table_args__ = (
        _practice_fk("enrollment_token"),
        ForeignKeyConstraint(["msp_id", "site_id"], ["site.msp_id", "site.id"], ondelete="CASCADE",
                             name="fk_enrollment_token_site"),
    )
    practice_id: Mapped[uuid.UUID]
    site_id: Mapped[uuid.UUID]
    token_hash: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))


class PingKey(TenantMixin, Base):
    """The secret in a backup job's Healthchecks-style ping URL.

    Kept as a keyed hash (found through secret_index, kind "ping") and encrypted, so the job's
    ping URL can be shown again to the people who set up the backup tool.
    """

    __tablename__ = "ping_key"
    __table_args__ = (
        _practice_fk("ping_key"),
        ForeignKeyConstraint(["msp_id", "backup_job_id"], ["backup_job.msp_id", "backup_job.id"], ondelete="CASCADE",
                             name="fk_ping_key_backup_job"),
        UniqueConstraint("msp_id", "backup_job_id"),
    )
    practice_id: Mapped[uuid.UUID]
    backup_job_id: Mapped[uuid.UUID]
    key_hash: Mapped[bytes] = mapped_column(LargeBinary)
    key_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    rotated_at: Mapped[datetime | None]


class TelemetryEvent(Base):
    """The inbox: every accepted event, once, until the worker has applied it.

    source_id is the agent for agent events and the backup job for pings. payload holds the
    event's fields with job/link/system references already resolved to ids (services/core/telemetry/events.py).

    No foreign keys: their per-row triggers were ~40 % of PostgreSQL's cost per ingested event. The
    writer takes msp, practice and site from the agent row it locks; deleting a practice, site or
    MSP removes (or detaches) the rows by trigger (migrations/versions/0009_inbox_without_row_fks.py).
    """

    __tablename__ = "telemetry_event"
    __table_args__ = (
        # The dedup key, source first so that no scan by MSP can pick it instead of the primary key
        # (migrations/versions/0013_inbox_dedup_key_order.py).
        UniqueConstraint("source_id", "event_id", "msp_id"),
        # What the worker claims: unprocessed rows of one MSP in arrival order.
        Index("ix_telemetry_event_pending", "msp_id", "seq", postgresql_where="processed_at IS NULL"),
    )
    # The key is (seq, msp_id), not (msp_id, seq) as elsewhere: an index leading with msp_id let the
    # row-level security policy's MSP qualifier steer the claim's update into a scan of the MSP's
    # whole history (migrations/versions/0014_inbox_primary_key_seq.py).
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    msp_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    source_id: Mapped[uuid.UUID]
    event_id: Mapped[str] = mapped_column(String(64))
    practice_id: Mapped[uuid.UUID]
    site_id: Mapped[uuid.UUID | None]
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(server_default=func.now(), default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    processed_at: Mapped[datetime | None]
